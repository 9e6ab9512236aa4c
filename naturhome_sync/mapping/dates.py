"""Dates as the public and HubSpot write them.

Clients write day first ("15/03/2027", "15.03.2027"), often only a month ("03/2027",
"2027-03", "mars 2027"): a month means its first day, the earliest reading, which is what a
desired start date is compared with. HubSpot sends date-picker values and timestamps as epoch
milliseconds; a date picker stores midnight UTC, so epoch values are read in UTC unless told
otherwise, while submission instants are read in Brussels time (``submission_date``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from naturhome_sync.mapping.common import Rejected, fold, normalise_spaces, quote

#: Folded month names (and their usual abbreviations) in French, English, German and Dutch.
_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "janvier january januar jan janv januari jaenner",
        "fevrier february februar feb fev fevr februari",
        "mars march marz maerz maart mar mrt",
        "avril april apr avr",
        "mai may mei",
        "juin june juni jun",
        "juillet july juli jul juil",
        "aout august augustus aug",
        "septembre september sept sep",
        "octobre october oktober oct okt",
        "novembre november nov",
        "decembre december dezember dec dez",
    ),
    start=1,
):
    _MONTHS.update(dict.fromkeys(_names.split(), _number))

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?:[t ][\d:.]+(?:z|[+-][\d:]+)?)?")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})")
_MONTH_YEAR = re.compile(r"(\d{1,2})[/.-](\d{4})")
_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})")
_EPOCH = re.compile(r"\d{11,13}")
_WORDS = re.compile(r"(?:(\d{1,2})(?:er|st|nd|rd|th|\.)? )?([a-z]+)\.? (\d{4})")


def _build(year: int, month: int, day: int, original: str) -> date:
    if not 1900 <= year <= 2100:
        raise Rejected(f"date improbable {quote(original)}")
    try:
        return date(year, month, day)
    except ValueError:
        raise Rejected(f"date impossible {quote(original)}") from None


def date_from_epoch_ms(milliseconds: int, timezone: str = "UTC") -> date:
    """The calendar date of an epoch-milliseconds instant, in ``timezone``."""
    instant = datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    return instant.astimezone(ZoneInfo(timezone)).date()


def submission_date(submitted_at: Any, timezone: str = "Europe/Brussels") -> date:
    """The day a form was submitted, as Naturhome's office counts days.

    This is "today" for everything computed from a submission (CloseDate, months until the
    desired start), so replaying an old submission gives the same records as the first run.
    """
    if isinstance(submitted_at, datetime):
        return submitted_at.astimezone(ZoneInfo(timezone)).date()
    if isinstance(submitted_at, date):
        return submitted_at
    text = str(submitted_at).strip()
    if _EPOCH.fullmatch(text):
        return date_from_epoch_ms(int(text), timezone)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Rejected(f"date de soumission illisible {quote(text)}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(ZoneInfo(timezone)).date()


def parse_date(value: Any, *, timezone: str = "UTC") -> date:
    """A date from ISO ("2027-03-15", "2027-03"), day-first ("15/03/2027", "15.03.27"),
    month-year ("03/2027", "mars 2027", "März 2027") or epoch-ms (HubSpot) input.

    A month alone means its first day. Two-digit years are read as 20xx (only with a day and a
    month: "03/27" could be the 3rd of July as well as March 2027, so it is refused). A year
    alone ("2027") is refused too: it says too little to plan with.
    """
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).date()
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return date_from_epoch_ms(value, timezone)
    original = normalise_spaces(str(value)).strip()
    text = original.lower()
    if _EPOCH.fullmatch(text):
        return date_from_epoch_ms(int(text), timezone)
    if match := _ISO.fullmatch(text):
        year, month, day = match.groups()
        return _build(int(year), int(month), int(day or 1), original)
    if match := _DAY_FIRST.fullmatch(text):
        day, month, year = match.groups()
        full_year = int(year) + 2000 if len(year) == 2 else int(year)
        return _build(full_year, int(month), int(day), original)
    if match := _MONTH_YEAR.fullmatch(text):
        month, year = match.groups()
        return _build(int(year), int(month), 1, original)
    if match := _BASIC.fullmatch(text):
        year, month, day = match.groups()
        return _build(int(year), int(month), int(day), original)
    if match := _WORDS.fullmatch(fold(text)):
        day, month_name, year = match.groups()
        month = _MONTHS.get(month_name)
        if month is not None:
            return _build(int(year), month, int(day or 1), original)
    raise Rejected(f"date illisible {quote(original)}")


def add_days(start: date, days: int) -> date:
    return start + timedelta(days=days)
