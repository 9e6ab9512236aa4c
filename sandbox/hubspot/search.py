"""The CRM search request: validation, filter evaluation, sorting and paging.

Limits are HubSpot's: ``limit`` at most 200, at most 5 filter groups of 6 filters and 18
filters in all, results past 10,000 unreachable (a 400). String comparisons ignore case,
as HubSpot's do; a value that looks like a number compares as a number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sandbox.hubspot.errors import validation_error

MAX_LIMIT = 200
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_RESULTS = 10_000
TEXT_SEARCHED = ("email", "firstname", "lastname", "phone", "mobilephone")

_OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}

Row = TypeVar("Row")


@dataclass(frozen=True)
class Sort:
    name: str
    descending: bool


@dataclass(frozen=True)
class SearchQuery:
    filter_groups: list[list[dict[str, Any]]]
    sorts: list[Sort]
    properties: list[str]
    limit: int
    after: int
    text: str | None


def validate_search(payload: Any) -> SearchQuery:
    if not isinstance(payload, dict):
        raise validation_error("Invalid input JSON: expected an object")
    groups = payload.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise validation_error(f"Too many filter groups; the limit is {MAX_GROUPS}.")
    filter_groups: list[list[dict[str, Any]]] = []
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
            raise validation_error(
                f"Each filter group takes a list of at most {MAX_FILTERS_PER_GROUP} filters."
            )
        for item in filters:
            if not isinstance(item, dict) or item.get("operator") not in _OPERATORS:
                raise validation_error(f"Invalid filter: {item!r}")
            if not item.get("propertyName"):
                raise validation_error("Each filter needs a propertyName.")
        filter_groups.append(filters)
    if sum(len(filters) for filters in filter_groups) > MAX_FILTERS:
        raise validation_error(f"Too many filters; the limit is {MAX_FILTERS} in total.")
    limit = _integer(payload.get("limit"), default=10, name="limit")
    if not 0 < limit <= MAX_LIMIT:
        raise validation_error(f"limit must be between 1 and {MAX_LIMIT}")
    after = _integer(payload.get("after"), default=0, name="after")
    if after + limit > MAX_RESULTS:
        raise validation_error(
            f"Paging past {MAX_RESULTS} results is not supported; narrow your filters."
        )
    return SearchQuery(
        filter_groups=filter_groups,
        sorts=[_sort(item) for item in payload.get("sorts") or []],
        properties=[str(name) for name in payload.get("properties") or []],
        limit=limit,
        after=after,
        text=str(payload["query"]) if payload.get("query") else None,
    )


def _integer(value: Any, *, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise validation_error(f"{name} must be an integer") from None


def _sort(item: Any) -> Sort:
    """``{"propertyName", "direction"}`` as documented, or ``"name"`` / ``"-name"`` strings."""
    if isinstance(item, str):
        return Sort(item.lstrip("-"), item.startswith("-"))
    if isinstance(item, dict) and item.get("propertyName"):
        return Sort(str(item["propertyName"]), item.get("direction") == "DESCENDING")
    raise validation_error(f"Invalid sort: {item!r}")


def matches_filter_groups(
    properties: dict[str, str], groups: list[list[dict[str, Any]]], text: str | None
) -> bool:
    """Filters within a group are ANDed, groups are ORed; no groups matches everything."""
    if text is not None:
        needle = text.lower()
        if not any(needle in properties.get(name, "").lower() for name in TEXT_SEARCHED):
            return False
    if not groups:
        return True
    return any(all(_matches(properties, item) for item in group) for group in groups)


def _matches(properties: dict[str, str], item: dict[str, Any]) -> bool:
    operator: str = item["operator"]
    actual = properties.get(item["propertyName"])
    if operator == "HAS_PROPERTY":
        return actual is not None
    if operator == "NOT_HAS_PROPERTY":
        return actual is None
    if operator in ("IN", "NOT_IN"):
        wanted = {str(value).lower() for value in item.get("values") or []}
        inside = actual is not None and actual.lower() in wanted
        return inside if operator == "IN" else not inside
    expected = str(item.get("value", ""))
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        contained = actual is not None and expected.lower().strip("*") in actual.lower()
        return contained if operator == "CONTAINS_TOKEN" else not contained
    if actual is None:
        return operator == "NEQ"
    order = _compare(actual, expected)
    return {
        "EQ": order == 0,
        "NEQ": order != 0,
        "LT": order < 0,
        "LTE": order <= 0,
        "GT": order > 0,
        "GTE": order >= 0,
    }[operator]


def _compare(left: str, right: str) -> int:
    try:
        a: Any = float(left)
        b: Any = float(right)
    except ValueError:
        a, b = left.lower(), right.lower()
    return int(a > b) - int(a < b)


def search_page(
    rows: Sequence[Row], query: SearchQuery, properties_of: Callable[[Row], dict[str, str]]
) -> tuple[list[Row], int, str | None]:
    """Sort (stable, last key first), slice, and say where the next page starts."""
    ordered = list(rows)
    for sort in reversed(query.sorts or [Sort("hs_object_id", False)]):
        ordered.sort(
            key=lambda row: _sort_key(properties_of(row).get(sort.name)), reverse=sort.descending
        )
    page = ordered[query.after : query.after + query.limit]
    end = query.after + len(page)
    next_after = str(end) if end < len(ordered) and end < MAX_RESULTS else None
    return page, len(ordered), next_after


def _sort_key(value: str | None) -> tuple[int, float, str]:
    if value is None:
        return (1, 0.0, "")
    try:
        return (0, float(value), "")
    except ValueError:
        return (0, 0.0, value.lower())
