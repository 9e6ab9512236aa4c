"""``template:`` rules: text built from several values, e.g. ``"{Contact.LastName}, {site_city}"``.

A placeholder names a source field (``{site_city}``) or the mapped value of another rule
(``{Contact.LastName}``, already cleaned by that rule's transforms), optionally followed by
filters (``{lastname|title}``). Literal braces are written ``{{`` and ``}}``.

Blank placeholders disappear together with the separator that joined them to the previous
value, so ``"{Contact.LastName}, {Opportunity.Site_City__c}"`` renders "Dupont" rather than
"Dupont, " when the city is unknown. Text before the first and after the last placeholder is
kept, but a template whose placeholders are all blank renders blank.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from naturhome_sync.mapping.common import is_blank

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class TemplateSyntaxError(ValueError):
    """The template cannot be parsed; the message says where."""


@dataclass(frozen=True)
class Placeholder:
    #: A source field name, or "Object.Field" for another rule's value.
    name: str
    filters: tuple[str, ...]

    @property
    def is_field_reference(self) -> bool:
        return "." in self.name

    @property
    def object_and_field(self) -> tuple[str, str]:
        object_name, field_name = self.name.split(".", 1)
        return object_name, field_name


@dataclass(frozen=True)
class Template:
    text: str
    #: literals[0], placeholders[0], literals[1], ... literals[-1]
    literals: tuple[str, ...]
    placeholders: tuple[Placeholder, ...]

    def render(self, resolve: Callable[[Placeholder], Any]) -> str | None:
        """The rendered text, or None when every placeholder is blank.

        ``resolve`` gives a placeholder's value with its filters already applied.
        """
        pieces: list[str] = [self.literals[0]]
        seen_value = False
        for index, placeholder in enumerate(self.placeholders):
            value = resolve(placeholder)
            if is_blank(value):
                continue
            if seen_value:
                pieces.append(self.literals[index])
            pieces.append(_as_text(value))
            seen_value = True
        if not seen_value:
            return None
        pieces.append(self.literals[-1])
        return " ".join("".join(pieces).split())


def _as_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def parse_template(text: str) -> Template:
    literals: list[str] = []
    placeholders: list[Placeholder] = []
    current: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        current.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            current.append(token[0])
            continue
        if match.group(1) is None:
            raise TemplateSyntaxError(f"unmatched {token!r} at position {match.start()}")
        name, *filters = (part.strip() for part in match.group(1).split("|"))
        if not name or any(not f for f in filters):
            raise TemplateSyntaxError(f"empty name or filter in {token!r}")
        if name.count(".") > 1:
            raise TemplateSyntaxError(f"{name!r}: write a field reference as Object.Field")
        literals.append("".join(current))
        current = []
        placeholders.append(Placeholder(name, tuple(filters)))
    current.append(text[position:])
    literals.append("".join(current))
    if not placeholders:
        raise TemplateSyntaxError("no {placeholder}: use value: for a constant")
    return Template(text, tuple(literals), tuple(placeholders))
