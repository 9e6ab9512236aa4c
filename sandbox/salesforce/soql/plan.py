"""The executable form of a query: resolved columns, predicates, order, window.

Also the comparison keys shared by the compiler (literals) and the executor (stored values):
text folds case, multi-select values become sorted sets, numbers become floats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from naturhome_sync.sfschema import FieldDef, ObjectDef
from sandbox.salesforce.soql.rows import Row

Predicate = Callable[[Row], bool]

TEXT_TYPES = frozenset(
    {"Text", "AutoNumber", "Email", "Phone", "Url", "TextArea", "Picklist", "Combobox"}
)
UNFILTERABLE_TYPES = frozenset({"LongTextArea", "Html", "Base64"})
UNSORTABLE_TYPES = frozenset({"LongTextArea", "Html", "Base64", "MultiselectPicklist"})
NUMBER_TYPES = frozenset({"Number", "Currency", "Percent", "Int"})
ID_TYPES = frozenset({"Id", "Lookup", "MasterDetail"})


@dataclass(frozen=True)
class Column:
    """A resolved field path: lookups to follow, then the field to read."""

    text: str
    steps: tuple[FieldDef, ...]
    field: FieldDef

    def value(self, row: Row) -> Any:
        data: dict[str, Any] | None = row.data
        for step in self.steps:
            parent_id = data.get(step.name) if data else None
            data = row.resolver.parent(parent_id) if parent_id else None
            if data is None:
                return None
        return data.get(self.field.name) if data else None


@dataclass(frozen=True)
class ChildQuery:
    relationship: str
    foreign_key: str
    plan: Plan


@dataclass(frozen=True)
class Aggregate:
    function: str
    column: Column | None
    key: str


@dataclass
class Plan:
    obj: ObjectDef
    columns: list[Column | ChildQuery] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)
    count_only: bool = False
    predicate: Predicate | None = None
    order: list[tuple[Column, bool, bool]] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    id_filter: frozenset[str] | None = None
    semi_joins: list[SemiJoin] = field(default_factory=list)


@dataclass
class SemiJoin:
    """``Id IN (SELECT AccountId FROM Contact ...)``: the inner plan runs once per query."""

    plan: Plan
    column: Column
    values: frozenset[str] | None = None


@dataclass(frozen=True)
class CompileOptions:
    today: Any  # date in the org's time zone
    zone: Any  # ZoneInfo of the org
    week_starts_on_monday: bool
    null_matches_not_equal: bool


def comparison_key(f: FieldDef, value: Any) -> Any:
    """A stored value in the same form as compiled literals."""
    if value is None:
        return None
    if f.type in TEXT_TYPES:
        return str(value).casefold()
    if f.type == "MultiselectPicklist":
        return multi_key(str(value))
    if f.type in NUMBER_TYPES:
        return float(value)
    return value


def multi_key(value: str) -> str:
    return ";".join(sorted({s.casefold() for s in value.split(";") if s}))
