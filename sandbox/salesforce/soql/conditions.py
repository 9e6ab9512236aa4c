"""WHERE clauses -> Python predicates over stored rows, with an org's type checks.

Text compares case-insensitively; ``!=`` and ``NOT IN`` keep rows whose field is null
unless ``Behaviour.null_matches_not_equal`` is off; a checkbox compared with null is false;
relative date literals become ranges starting at midnight in the org's time zone; a literal
of the wrong type is INVALID_FIELD worded as an org words it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from naturhome_sync.sfschema import FieldDef, ObjectDef
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.ids import normalize_id
from sandbox.salesforce.soql import ast
from sandbox.salesforce.soql.dates import day_range, takes_argument
from sandbox.salesforce.soql.plan import (
    ID_TYPES,
    NUMBER_TYPES,
    TEXT_TYPES,
    UNFILTERABLE_TYPES,
    Column,
    Plan,
    Predicate,
    SemiJoin,
    comparison_key,
    multi_key,
)
from sandbox.salesforce.soql.rows import Row
from sandbox.salesforce.values import format_datetime, parse_datetime

if TYPE_CHECKING:
    from sandbox.salesforce.soql.compiler import Compiler


class Conditions:
    """Compiles the conditions of one query; names resolve through ``compiler``."""

    def __init__(self, compiler: Compiler) -> None:
        self.compiler = compiler
        self.options = compiler.options

    def _error(self, code: str, at: ast.Position, message: str) -> SfError:
        return self.compiler.error(code, at, message)

    def condition(self, plan: Plan, obj: ObjectDef, cond: ast.Condition) -> Predicate:
        if isinstance(cond, ast.And):
            parts = [self.condition(plan, obj, c) for c in cond.items]
            return lambda row: all(p(row) for p in parts)
        if isinstance(cond, ast.Or):
            parts = [self.condition(plan, obj, c) for c in cond.items]
            return lambda row: any(p(row) for p in parts)
        if isinstance(cond, ast.Not):
            inner = self.condition(plan, obj, cond.item)
            return lambda row: not inner(row)
        return self._comparison(plan, obj, cond)

    def _comparison(self, plan: Plan, obj: ObjectDef, cmp: ast.Comparison) -> Predicate:
        column = self.compiler.column(obj, cmp.path)
        f = column.field
        if f.type in UNFILTERABLE_TYPES:
            raise self._error(
                "INVALID_FIELD",
                cmp.path.at,
                f"field '{f.name}' can not be filtered in a query call",
            )
        keep_nulls = self.options.null_matches_not_equal
        if cmp.subquery is not None:
            return self._semi_join(plan, column, cmp, keep_nulls)
        if cmp.op == "LIKE":
            if f.type not in TEXT_TYPES and f.type not in ID_TYPES:
                raise self._error(
                    "INVALID_FIELD", cmp.path.at, f"invalid operator on field '{f.name}'"
                )
            pattern = _like_regex(cmp.values[0].value)
            return lambda row: (
                (v := column.value(row)) is not None and bool(pattern.fullmatch(str(v)))
            )
        if cmp.op in ("INCLUDES", "EXCLUDES"):
            if f.type != "MultiselectPicklist":
                raise self._error(
                    "INVALID_FIELD", cmp.path.at, f"invalid operator on field '{f.name}'"
                )
            wanted = [
                frozenset(s.casefold() for s in lit.value.split(";") if s) for lit in cmp.values
            ]

            def includes(row: Row) -> bool:
                value = column.value(row)
                chosen = frozenset(s.casefold() for s in (value or "").split(";") if s)
                return any(w <= chosen for w in wanted)

            if cmp.op == "INCLUDES":
                return lambda row: column.value(row) is not None and includes(row)
            return lambda row: not includes(row)
        if f.type == "MultiselectPicklist" and cmp.op not in ("=", "!=", "IN", "NOT_IN"):
            raise self._error("INVALID_FIELD", cmp.path.at, f"invalid operator on field '{f.name}'")
        converted = [self._literal(f, lit, cmp.path) for lit in cmp.values]
        if cmp.op in ("IN", "NOT_IN"):
            flat = {v for v in converted if not isinstance(v, tuple)}
            ranges = [v for v in converted if isinstance(v, tuple)]
            has_null = None in flat

            def member(row: Row) -> bool:
                value = comparison_key(f, column.value(row))
                if value is None:
                    return has_null
                return value in flat or any(lo <= value < hi for lo, hi in ranges)

            if cmp.op == "IN":
                return member
            return lambda row: (
                not member(row) and (keep_nulls or comparison_key(f, column.value(row)) is not None)
            )
        return _scalar(column, f, cmp.op, converted[0], keep_nulls)

    def _semi_join(
        self, plan: Plan, column: Column, cmp: ast.Comparison, keep_nulls: bool
    ) -> Predicate:
        inner_obj = self.compiler.schema.object(cmp.subquery.sobject) if cmp.subquery else None
        if cmp.subquery is None or inner_obj is None:
            raise self._error(
                "INVALID_TYPE", cmp.path.at, "sObject type in semi-join is not supported"
            )
        inner = self.compiler.plan(inner_obj, cmp.subquery, top_level=False)
        fields = [c for c in inner.columns if isinstance(c, Column)]
        if len(inner.columns) != 1 or len(fields) != 1 or fields[0].field.type not in ID_TYPES:
            raise self._error(
                "MALFORMED_QUERY",
                cmp.subquery.sobject_at,
                "The selected field in a semi join must be an Id or a reference",
            )
        if column.field.type not in ID_TYPES:
            raise self._error(
                "INVALID_FIELD",
                cmp.path.at,
                "semi join sub-selects are only allowed on Id or reference fields: "
                f"{column.field.name}",
            )
        join = SemiJoin(inner, fields[0])
        plan.semi_joins.append(join)
        negate = cmp.op == "NOT_IN"

        def predicate(row: Row) -> bool:
            value = column.value(row)
            inside = value is not None and value in (join.values or frozenset())
            if negate:
                return not inside and (keep_nulls or value is not None)
            return inside

        return predicate

    def _literal(self, f: FieldDef, lit: ast.Literal, path: ast.Path) -> Any:
        """A literal as a comparison key for ``f`` (a ``(low, high)`` range for relative
        date literals), or an org's error when its type does not fit the field."""
        kind = f.type
        if lit.kind == "null":
            return None
        if lit.kind == "date_literal":
            known = takes_argument(lit.value)
            if known is None or known != (lit.n is not None):
                raise self._error("MALFORMED_QUERY", lit.at, f"unexpected token: '{lit.raw}'")
            if kind not in ("Date", "DateTime"):
                raise self._type_error(
                    f, lit, quoted=kind not in NUMBER_TYPES and kind != "Checkbox"
                )
            start, end = day_range(
                lit.value,
                lit.n,
                self.options.today,
                week_starts_on_monday=self.options.week_starts_on_monday,
            )
            if kind == "Date":
                return (start.isoformat(), end.isoformat())
            return (self._midnight(start), self._midnight(end))
        if kind in TEXT_TYPES or kind == "MultiselectPicklist":
            if lit.kind != "string":
                raise self._type_error(f, lit, quoted=True)
            return lit.value.casefold() if kind != "MultiselectPicklist" else multi_key(lit.value)
        if kind in ID_TYPES:
            if lit.kind != "string":
                raise self._type_error(f, lit, quoted=True)
            normal = normalize_id(lit.value)
            if normal is None:
                raise self._error(
                    "INVALID_QUERY_FILTER_OPERATOR", lit.at, f"invalid ID field: {lit.value}"
                )
            return normal
        if kind in NUMBER_TYPES:
            if lit.kind != "number":
                raise self._type_error(f, lit, quoted=False)
            return float(lit.value)
        if kind == "Checkbox":
            if lit.kind != "boolean":
                raise self._type_error(f, lit, quoted=False)
            return lit.value == "true"
        if kind == "Date":
            if lit.kind != "date":
                raise self._type_error(f, lit, quoted=False)
            return lit.value
        if kind == "DateTime":
            moment = parse_datetime(lit.value) if lit.kind == "datetime" else None
            if moment is None:
                raise self._type_error(f, lit, quoted=False)
            return format_datetime(moment)
        if lit.kind != "string":
            raise self._type_error(f, lit, quoted=True)
        return lit.value

    def _midnight(self, day: Any) -> str:
        return format_datetime(datetime.combine(day, time.min, self.options.zone))

    def _type_error(self, f: FieldDef, lit: ast.Literal, *, quoted: bool) -> SfError:
        api = {"Checkbox": "boolean", "Date": "date", "DateTime": "dateTime", "Int": "int"}.get(
            f.type, "double" if f.type in NUMBER_TYPES else "string"
        )
        should = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return self._error(
            "INVALID_FIELD",
            lit.at,
            f"value of filter criterion for field '{f.name}' must be of type {api} and {should}",
        )


def _scalar(column: Column, f: FieldDef, op: str, literal: Any, keep_nulls: bool) -> Predicate:
    checkbox = f.type == "Checkbox"

    def value_of(row: Row) -> Any:
        value = comparison_key(f, column.value(row))
        return bool(value) if checkbox else value

    if checkbox and literal is None:
        literal = False
    if isinstance(literal, tuple):
        low, high = literal
        tests: dict[str, Callable[[Any], bool]] = {
            "=": lambda v: low <= v < high,
            "!=": lambda v: not low <= v < high,
            "<": lambda v: v < low,
            "<=": lambda v: v < high,
            ">": lambda v: v >= high,
            ">=": lambda v: v >= low,
        }
        in_range = tests[op]

        def range_predicate(row: Row) -> bool:
            value = value_of(row)
            if value is None:
                return op == "!=" and keep_nulls
            return in_range(value)

        return range_predicate
    if literal is None:
        if op == "=":
            return lambda row: value_of(row) is None
        if op == "!=":
            return lambda row: value_of(row) is not None
        return lambda row: False
    compare: dict[str, Callable[[Any], bool]] = {
        "=": lambda v: v == literal,
        "!=": lambda v: v != literal,
        "<": lambda v: v < literal,
        "<=": lambda v: v <= literal,
        ">": lambda v: v > literal,
        ">=": lambda v: v >= literal,
    }
    test = compare[op]

    def predicate(row: Row) -> bool:
        value = value_of(row)
        if value is None:
            return op == "!=" and keep_nulls
        return test(value)

    return predicate


def _like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def id_pushdown(cond: ast.Condition, obj: ObjectDef) -> frozenset[str] | None:
    """Ids a top-level ``Id = ...`` / ``Id IN (...)`` restricts the scan to."""
    items = cond.items if isinstance(cond, ast.And) else (cond,)
    for item in items:
        if (
            isinstance(item, ast.Comparison)
            and item.op in ("=", "IN")
            and item.subquery is None
            and len(item.path.parts) == 1
            and item.path.parts[0].lower() == "id"
            and all(v.kind == "string" for v in item.values)
        ):
            return frozenset(n for v in item.values if (n := normalize_id(v.value)))
    return None


def filters_link(cond: ast.Condition | None) -> bool:
    """ContentDocumentLink queries must filter on ContentDocumentId or LinkedEntityId."""
    if cond is None:
        return False
    items = cond.items if isinstance(cond, ast.And) else (cond,)
    return any(
        isinstance(item, ast.Comparison)
        and item.op in ("=", "IN")
        and len(item.path.parts) == 1
        and item.path.parts[0].lower() in ("contentdocumentid", "linkedentityid")
        for item in items
    )
