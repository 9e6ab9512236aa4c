"""Vocabulary shared by the transforms, the engine and the scoring rules.

A transform that cannot make sense of what the public typed raises ``Rejected`` with a
French sentence for the sales rep; the engine turns it into a recorded warning and leaves the
field blank rather than failing the whole submission.
"""

from __future__ import annotations

import unicodedata
from typing import Any

#: Characters people (and word processors) put where a plain space belongs.
_SPACE_LIKE = "\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u3000\t\r\n\f\v"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_SPACE_TABLE = str.maketrans({**dict.fromkeys(_SPACE_LIKE, " "), **dict.fromkeys(_ZERO_WIDTH)})


class Rejected(ValueError):
    """The input cannot be turned into a value for the field; ``args[0]`` says why, in French."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


def is_blank(value: Any) -> bool:
    """None, and strings that hold nothing but spaces, count as "not given"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not normalise_spaces(value).strip()
    return False


_ZERO_WIDTH_TABLE = str.maketrans(dict.fromkeys(_ZERO_WIDTH))


def strip_spaces(text: str) -> str:
    """Surrounding spaces of any kind and invisible zero-width characters off; the spacing
    inside (line breaks too) is kept."""
    return text.translate(_ZERO_WIDTH_TABLE).strip().strip(_SPACE_LIKE).strip()


def normalise_spaces(text: str) -> str:
    """Non-breaking, thin and zero-width spaces as plain spaces (or nothing)."""
    return text.translate(_SPACE_TABLE)


def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form used to compare what people type.

    "Nouvelle  Construction", "nouvelle construction" and "NOUVELLE CONSTRUCTION" fold alike;
    so do "Rénovation" and "renovation", and "Neubau" and "neubau".
    """
    decomposed = unicodedata.normalize("NFKD", normalise_spaces(text))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("ß", "ss")
    return " ".join(stripped.casefold().replace("-", " ").replace("_", " ").split())


def quote(value: Any) -> str:
    """A value as shown inside a French warning, between guillemets."""
    return f"« {value} »"
