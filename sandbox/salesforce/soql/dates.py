"""Relative date literals (TODAY, LAST_N_DAYS:n, THIS_MONTH...) as half-open day ranges.

Each literal names a range of whole days starting at midnight in the org's time zone.
Comparing a field with it means: ``=`` inside the range, ``<`` before its first day, ``>``
after its last day, ``<=``/``>=`` the obvious unions. ``LAST_N_DAYS:n`` includes today (n + 1
calendar days, as an org counts it) and ``NEXT_N_DAYS:n`` starts tomorrow.
"""

from __future__ import annotations

from datetime import date, timedelta

DayRange = tuple[date, date]  # [start, end)

_WITH_N = frozenset(
    {
        "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO",
        "LAST_N_WEEKS", "NEXT_N_WEEKS", "N_WEEKS_AGO",
        "LAST_N_MONTHS", "NEXT_N_MONTHS", "N_MONTHS_AGO",
        "LAST_N_QUARTERS", "NEXT_N_QUARTERS", "N_QUARTERS_AGO",
        "LAST_N_YEARS", "NEXT_N_YEARS", "N_YEARS_AGO",
    }
)  # fmt: skip
_WITHOUT_N = frozenset(
    {
        "YESTERDAY", "TODAY", "TOMORROW",
        "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK",
        "LAST_MONTH", "THIS_MONTH", "NEXT_MONTH",
        "LAST_90_DAYS", "NEXT_90_DAYS",
        "THIS_QUARTER", "LAST_QUARTER", "NEXT_QUARTER",
        "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR",
    }
)  # fmt: skip


def takes_argument(name: str) -> bool | None:
    """True/False for a known literal (whether it needs ``:n``), None for an unknown word."""
    if name in _WITH_N:
        return True
    if name in _WITHOUT_N:
        return False
    return None


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def day_range(name: str, n: int | None, today: date, *, week_starts_on_monday: bool) -> DayRange:
    """The days covered by literal ``name`` (with argument ``n``) seen from ``today``."""
    one = timedelta(days=1)
    offset = today.weekday() if week_starts_on_monday else (today.weekday() + 1) % 7
    week = today - timedelta(days=offset)
    month = today.replace(day=1)
    quarter = _quarter_start(today)
    year = date(today.year, 1, 1)
    k = n or 0
    ranges: dict[str, DayRange] = {
        "YESTERDAY": (today - one, today),
        "TODAY": (today, today + one),
        "TOMORROW": (today + one, today + 2 * one),
        "LAST_WEEK": (week - 7 * one, week),
        "THIS_WEEK": (week, week + 7 * one),
        "NEXT_WEEK": (week + 7 * one, week + 14 * one),
        "LAST_MONTH": (_add_months(month, -1), month),
        "THIS_MONTH": (month, _add_months(month, 1)),
        "NEXT_MONTH": (_add_months(month, 1), _add_months(month, 2)),
        "LAST_90_DAYS": (today - 90 * one, today + one),
        "NEXT_90_DAYS": (today + one, today + 91 * one),
        "THIS_QUARTER": (quarter, _add_months(quarter, 3)),
        "LAST_QUARTER": (_add_months(quarter, -3), quarter),
        "NEXT_QUARTER": (_add_months(quarter, 3), _add_months(quarter, 6)),
        "THIS_YEAR": (year, year.replace(year=year.year + 1)),
        "LAST_YEAR": (year.replace(year=year.year - 1), year),
        "NEXT_YEAR": (year.replace(year=year.year + 1), year.replace(year=year.year + 2)),
        "LAST_N_DAYS": (today - k * one, today + one),
        "NEXT_N_DAYS": (today + one, today + (k + 1) * one),
        "N_DAYS_AGO": (today - k * one, today - (k - 1) * one),
        "LAST_N_WEEKS": (week - 7 * k * one, week),
        "NEXT_N_WEEKS": (week + 7 * one, week + 7 * (k + 1) * one),
        "N_WEEKS_AGO": (week - 7 * k * one, week - 7 * (k - 1) * one),
        "LAST_N_MONTHS": (_add_months(month, -k), month),
        "NEXT_N_MONTHS": (_add_months(month, 1), _add_months(month, k + 1)),
        "N_MONTHS_AGO": (_add_months(month, -k), _add_months(month, -k + 1)),
        "LAST_N_QUARTERS": (_add_months(quarter, -3 * k), quarter),
        "NEXT_N_QUARTERS": (_add_months(quarter, 3), _add_months(quarter, 3 * (k + 1))),
        "N_QUARTERS_AGO": (_add_months(quarter, -3 * k), _add_months(quarter, -3 * k + 3)),
        "LAST_N_YEARS": (year.replace(year=year.year - k), year),
        "NEXT_N_YEARS": (year.replace(year=year.year + 1), year.replace(year=year.year + k + 1)),
        "N_YEARS_AGO": (year.replace(year=year.year - k), year.replace(year=year.year - k + 1)),
    }
    return ranges[name]
