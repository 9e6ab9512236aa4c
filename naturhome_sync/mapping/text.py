"""Text transforms: spacing, case (aware of how European surnames and towns are written)
and e-mail addresses.

Each function takes the text the public typed and returns the cleaned text, or raises
``Rejected`` when no sensible value can be made of it.
"""

from __future__ import annotations

import re

from naturhome_sync.mapping.common import Rejected, normalise_spaces, quote, strip_spaces


def trim(text: str) -> str:
    """Surrounding spaces off, including the non-breaking ones pasted from documents.

    Line breaks inside are kept (a message, a two-line street) as Unix line breaks.
    """
    return strip_spaces(text.replace("\r\n", "\n").replace("\r", "\n"))


def collapse_spaces(text: str) -> str:
    """Runs of spaces (and line breaks) as one space, trimmed: for one-line fields."""
    return " ".join(normalise_spaces(text).split())


def lower(text: str) -> str:
    return text.lower()


def upper(text: str) -> str:
    return text.upper()


#: Surname particles written in lower case after a first name ("Jan van den Berg",
#: "Charles de Gaulle", "Ursula von der Leyen"). French "Le"/"La" are deliberately absent:
#: "Marie Le Pen", "Jean de La Fontaine" keep their capital.
_NAME_PARTICLES = frozenset(
    {"de", "du", "des", "van", "von", "der", "den", "ter", "ten", "zu", "vom", "zum", "zur"}
    | {"di", "da", "del", "dos", "y", "d", "l"}
)
#: Words kept in lower case inside hyphenated place names ("Louvain-la-Neuve",
#: "La Roche-en-Ardenne", "Braine-l'Alleud", "Boulogne-sur-Mer").
_PLACE_PARTICLES = _NAME_PARTICLES | {"la", "le", "les", "en", "sur", "sous", "lez", "lès", "aux"}
_APOSTROPHES = re.compile(r"(['\u2019])")  # straight and typographic apostrophes


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def _deliberate(word: str) -> bool:
    """Typed with care ("McDonald", "DeSmet", "Jean"): keep it as it is."""
    return word[:1].isupper() and any(c.islower() and c != "ß" for c in word[1:])


def _case_piece(piece: str, *, leading: bool, particles: frozenset[str]) -> str:
    """One piece between hyphens; apostrophes split it further ("d'ursel", "o'brien")."""
    subpieces = _APOSTROPHES.split(piece)
    out: list[str] = []
    for index, sub in enumerate(subpieces):
        if index % 2 or not sub or _deliberate(sub):
            out.append(sub)  # an apostrophe, or a word the client cased with care
        elif index == 0 and not leading and sub.lower() in particles:
            out.append(sub.lower())
        else:
            out.append(_capitalise(sub))
    return "".join(out)


def title(text: str) -> str:
    """Name-aware title case: "jean-PIERRE van den berg" -> "Jean-Pierre van den Berg".

    Only words typed all in lower or all in upper case are re-cased; a word that already mixes
    cases with a leading capital ("McDonald", "Van") is taken as the client wrote it. The first
    word is always capitalised, so a surname on its own keeps its capital particle, as Belgian
    usage wants ("van den berg" -> "Van den Berg", "DE SMET" -> "De Smet"). Parts after a hyphen
    follow place-name usage ("louvain-la-neuve" -> "Louvain-la-Neuve",
    "braine-l'alleud" -> "Braine-l'Alleud"); apostrophes too ("o'brien" -> "O'Brien").
    """
    result: list[str] = []
    for position, word in enumerate(collapse_spaces(text).split(" ")):
        pieces = word.split("-")
        result.append(
            "-".join(
                _case_piece(
                    piece,
                    leading=position == 0 and index == 0,
                    particles=_NAME_PARTICLES if index == 0 else _PLACE_PARTICLES,
                )
                for index, piece in enumerate(pieces)
            )
        )
    return " ".join(result)


_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"
)


def email(text: str) -> str:
    """Trimmed, lower-cased address; obviously broken ones are rejected.

    Lower-casing the local part is technically lossy but every mailbox provider the clients
    use ignores its case, and Contacts are matched by e-mail, so "Jean.Dupont@Gmail.com" and
    "jean.dupont@gmail.com" must be the same person. A "mailto:" prefix or angle brackets
    pasted from a mail client are removed.
    """
    cleaned = collapse_spaces(text).lower()
    cleaned = cleaned.removeprefix("mailto:").strip("<> ")
    if not _EMAIL.match(cleaned) or len(cleaned) > 254:
        raise Rejected(f"adresse e-mail invalide {quote(text.strip())}")
    return cleaned
