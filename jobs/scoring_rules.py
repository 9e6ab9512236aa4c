"""The kinds of lead-scoring rules and how each one explains its points in French.

Each rule reads Opportunity fields (as mapped from the submission, or as Salesforce returned
them) and gives a number of points with one line a sales rep understands, e.g.
"+25 Budget de 450 000 € (≥ 400 000 €)". A rule that gives 0 points says nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

from naturhome_sync.mapping.common import fold, is_blank

_MONTH_NAMES = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_number(value: Decimal, *, cents: bool = False) -> str:
    """450000 -> "450 000", 145.50 -> "145,5" (French grouping, comma decimals).

    With ``cents``, a fractional amount shows two decimals (1234.5 -> "1 234,50").
    """
    if value == value.to_integral_value():
        return f"{int(value):,}".replace(",", " ")
    if cents:
        text = f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):,.2f}"
    else:
        text = f"{value.normalize():,f}"
    whole, fraction = text.split(".")
    return f"{whole.replace(',', ' ')},{fraction}"


def french_month(day: date) -> str:
    name = f"{_MONTH_NAMES[day.month - 1]} {day.year}"
    return name if day.day == 1 else f"{day.day} {name}"


def as_decimal(value: Any) -> Decimal | None:
    if is_blank(value) or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if is_blank(value):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def months_between(today: date, later: date) -> int:
    """Whole months from ``today`` to ``later`` (negative when ``later`` is past)."""
    months = (later.year - today.year) * 12 + later.month - today.month
    if months > 0 and later.day < today.day:
        months -= 1
    return months


def _line(points: int, text: str) -> str:
    return f"{points:+d} {text}"


class Rule(Protocol):
    @property
    def label(self) -> str: ...

    def evaluate(self, fields: Mapping[str, Any], today: date) -> tuple[int, str] | None:
        """(points, line), or None when the rule does not apply."""


@dataclass(frozen=True)
class Band:
    limit: Decimal
    points: int


@dataclass(frozen=True)
class BandsRule:
    """Points by the band a number falls in: the highest ``min`` it reaches."""

    label: str
    field: str
    unit: str
    bands: tuple[Band, ...]  # ascending min

    def evaluate(self, fields: Mapping[str, Any], today: date) -> tuple[int, str] | None:
        value = as_decimal(fields.get(self.field))
        if value is None:
            return None
        reached = [band for band in self.bands if value >= band.limit]
        if not reached:
            return None
        band = reached[-1]
        unit = f" {self.unit}" if self.unit else ""
        cents = self.unit == "€"
        shown, limit = french_number(value, cents=cents), french_number(band.limit, cents=cents)
        text = f"{self.label} de {shown}{unit} (≥ {limit}{unit})"
        return band.points, _line(band.points, text)


@dataclass(frozen=True)
class ValuesRule:
    """Points for given values of a picklist or text field; ``display`` holds French labels."""

    label: str
    field: str
    points: Mapping[str, int]  # folded value -> points
    display: Mapping[str, str]  # folded value -> text shown

    def evaluate(self, fields: Mapping[str, Any], today: date) -> tuple[int, str] | None:
        value = fields.get(self.field)
        if is_blank(value):
            return None
        key = fold(str(value))
        if key not in self.points:
            return None
        points = self.points[key]
        return points, _line(points, f"{self.label} : {self.display[key]}")


@dataclass(frozen=True)
class MonthsUntilRule:
    """Points by how soon a date comes after the submission (a past date counts as now)."""

    label: str
    field: str
    bands: tuple[Band, ...]  # ascending max months

    def evaluate(self, fields: Mapping[str, Any], today: date) -> tuple[int, str] | None:
        when = as_date(fields.get(self.field))
        if when is None:
            return None
        months = max(months_between(today, when), 0)
        band = next((b for b in self.bands if months <= b.limit), None)
        if band is None:
            return None
        if months == 0:
            delay = "dès que possible"
        elif months == 1:
            delay = "dans 1 mois"
        else:
            delay = f"dans {months} mois"
        on = "en" if when.day == 1 else "le"  # "en mars 2027", "le 15 mars 2027"
        text = f"{self.label} {on} {french_month(when)}, {delay} (≤ {band.limit} mois)"
        return band.points, _line(band.points, text)


@dataclass(frozen=True)
class Region:
    name: str
    country: str
    ranges: tuple[tuple[int, int], ...]  # empty: the whole country
    points: int

    def contains(self, country: str, postal_code: int | None) -> bool:
        if country != self.country:
            return False
        if not self.ranges:
            return True
        return postal_code is not None and any(lo <= postal_code <= hi for lo, hi in self.ranges)


@dataclass(frozen=True)
class PostalCodesRule:
    """Points for where the site is: the first region (country + postcode ranges) it is in."""

    label: str
    country_field: str
    postal_code_field: str
    regions: tuple[Region, ...]

    def evaluate(self, fields: Mapping[str, Any], today: date) -> tuple[int, str] | None:
        country = fields.get(self.country_field)
        if is_blank(country):
            return None
        country = str(country).strip().upper()
        raw_code = fields.get(self.postal_code_field)
        digits = re.search(r"\d+", str(raw_code)) if not is_blank(raw_code) else None
        code = int(digits.group(0)) if digits else None
        region = next((r for r in self.regions if r.contains(country, code)), None)
        if region is None:
            return None
        where = f"{country} {digits.group(0)}" if digits else country
        return region.points, _line(region.points, f"{self.label} : {region.name} ({where})")


@dataclass(frozen=True)
class CompletenessRule:
    """Points for a request that says enough to prepare a quote."""

    label: str
    fields: tuple[str, ...]
    points: int
    proportional: bool

    def evaluate(self, fields: Mapping[str, Any], today: date) -> tuple[int, str] | None:
        present = sum(1 for name in self.fields if not is_blank(fields.get(name)))
        total = len(self.fields)
        if self.proportional:
            share = Decimal(self.points * present) / Decimal(total)
            points = int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        else:
            points = self.points if present == total else 0
        noun = "information" if present == 1 else "informations"
        return points, _line(points, f"{self.label} ({present} {noun} sur {total})")
