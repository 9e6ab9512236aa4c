"""Country names and codes as the public types them, in French, German, English and Dutch.

Clients are mostly in Belgium and Luxembourg, with some in the French and German border
regions; the table also knows the other neighbours so that "Nederland" is recognised as a
country Naturhome does not build in (the engine then says so) rather than as gibberish.
"""

from __future__ import annotations

from collections.abc import Mapping

from naturhome_sync.mapping.common import Rejected, fold, quote

#: ISO 3166-1 alpha-2 code -> the spellings people use (folded by ``fold`` before lookup).
_SPELLINGS: Mapping[str, tuple[str, ...]] = {
    "BE": (
        "belgique",
        "belgie",
        "belgien",
        "belgium",
        "belgio",
        "belgica",
        "bel",
        "royaume de belgique",
        "koninkrijk belgie",
    ),
    "LU": (
        "luxembourg",
        "luxemburg",
        "letzebuerg",
        "luxemburgo",
        "lussemburgo",
        "lux",
        "grand duche de luxembourg",
        "grand-duche de luxembourg",
        "grossherzogtum luxemburg",
        "groothertogdom luxemburg",
        "g.-d. luxembourg",
        "gd luxembourg",
    ),
    "FR": ("france", "frankreich", "frankrijk", "francia", "fra", "republique francaise"),
    "DE": (
        "allemagne",
        "deutschland",
        "germany",
        "duitsland",
        "germania",
        "alemania",
        "deu",
        "ger",
        "bundesrepublik deutschland",
        "brd",
    ),
    "NL": (
        "pays bas",
        "pays-bas",
        "niederlande",
        "netherlands",
        "the netherlands",
        "nederland",
        "holland",
        "hollande",
        "nld",
    ),
    "CH": ("suisse", "schweiz", "switzerland", "zwitserland", "svizzera", "che"),
    "AT": ("autriche", "osterreich", "oesterreich", "austria", "oostenrijk", "aut"),
    "IT": ("italie", "italien", "italy", "italia", "ita"),
    "ES": ("espagne", "spanien", "spain", "spanje", "espana", "esp"),
    "PT": ("portugal", "prt"),
    "GB": (
        "royaume uni",
        "royaume-uni",
        "grossbritannien",
        "vereinigtes konigreich",
        "united kingdom",
        "great britain",
        "uk",
        "verenigd koninkrijk",
        "angleterre",
        "england",
        "gbr",
    ),
    "IE": ("irlande", "irland", "ireland", "ierland", "irl"),
    "DK": ("danemark", "denmark", "denemarken", "dnk"),
    "PL": ("pologne", "polen", "poland", "polska", "pol"),
    "US": (
        "etats unis",
        "etats-unis",
        "usa",
        "vereinigte staaten",
        "united states",
        "verenigde staten",
        "united states of america",
    ),
}


def _key(text: str) -> str:
    return " ".join(fold(text).replace(".", " ").split())


_LOOKUP: Mapping[str, str] = {
    **{_key(code): code for code in _SPELLINGS},
    **{_key(name): code for code, names in _SPELLINGS.items() for name in names},
}


def country_code(text: str) -> str:
    """ISO 3166-1 alpha-2 code for a country name or code: "Belgique" -> "BE", "lux" -> "LU".

    Matching ignores case, accents, hyphens and dots ("Grand-Duché de Luxembourg",
    "G.-D. Luxembourg", "BELGIË"). Unknown input is rejected and the engine records a warning.
    """
    key = _key(text)
    code = _LOOKUP.get(key) or _LOOKUP.get(key.replace(" ", ""))
    if code is None:
        raise Rejected(f"pays inconnu {quote(text.strip())}")
    return code
