"""The parsed shape of a SOQL query, before names are checked against the schema.

Every node that names something keeps the line and column where it started, because an org
points at the offending token in its error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

LiteralKind = TypingLiteral[
    "string", "number", "date", "datetime", "boolean", "null", "date_literal"
]


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True)
class Path:
    """``Account.Owner.Name``: relationship names then a field name."""

    parts: tuple[str, ...]
    at: Position

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal:
    """A value in a condition. ``value`` is the decoded text (strings keep their LIKE
    escapes in ``raw``); ``n`` is the argument of ``LAST_N_DAYS:n`` style literals."""

    kind: LiteralKind
    value: str
    at: Position
    raw: str = ""
    n: int | None = None


@dataclass(frozen=True)
class FieldItem:
    path: Path


@dataclass(frozen=True)
class FunctionItem:
    """``COUNT()``, ``COUNT(Id) total``, ``MAX(Amount)``, ``FIELDS(ALL)``."""

    name: str
    argument: Path | None
    alias: str | None
    at: Position


@dataclass(frozen=True)
class SubqueryItem:
    query: Query


SelectItem = FieldItem | FunctionItem | SubqueryItem


@dataclass(frozen=True)
class Comparison:
    """``path op value``; op is one of = != < <= > >= IN NOT_IN LIKE INCLUDES EXCLUDES.

    ``values`` holds one literal for scalar operators, several for IN lists; ``subquery``
    is set for semi-joins (``Id IN (SELECT AccountId FROM Contact)``).
    """

    path: Path
    op: str
    values: tuple[Literal, ...]
    subquery: Query | None = None


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | And | Or | Not


@dataclass(frozen=True)
class OrderItem:
    path: Path
    descending: bool = False
    nulls_first: bool | None = None


@dataclass(frozen=True)
class Query:
    select: tuple[SelectItem, ...]
    sobject: str
    sobject_at: Position
    where: Condition | None = None
    order: tuple[OrderItem, ...] = field(default_factory=tuple)
    limit: int | None = None
    offset: int | None = None
