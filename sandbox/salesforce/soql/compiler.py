"""Checks a parsed query against the schema and turns it into an executable plan.

Name resolution is case-insensitive and answers an org's errors (INVALID_TYPE for objects
and child relationships, INVALID_FIELD for fields and parent paths, INVALID_FIELD for a
literal of the wrong type, INVALID_QUERY_FILTER_OPERATOR for a malformed id). Conditions
become Python predicates over stored records: text compares case-insensitively, ``!=`` and
``NOT IN`` keep nulls (``Behaviour.null_matches_not_equal``), relative date literals become
ranges in the org's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from naturhome_sync.sfschema import FieldDef, ObjectDef
from sandbox.salesforce.errors import SfError, located
from sandbox.salesforce.ids import normalize_id
from sandbox.salesforce.orgschema import OrgSchema
from sandbox.salesforce.soql import ast
from sandbox.salesforce.soql.dates import day_range, takes_argument
from sandbox.salesforce.soql.rows import Row
from sandbox.salesforce.values import format_datetime, parse_datetime

Predicate = Callable[[Row], bool]

_TEXT = frozenset(
    {"Text", "AutoNumber", "Email", "Phone", "Url", "TextArea", "Picklist", "Combobox"}
)
_UNFILTERABLE = frozenset({"LongTextArea", "Html", "Base64"})
_UNSORTABLE = frozenset({"LongTextArea", "Html", "Base64", "MultiselectPicklist"})
_NUMBERS = frozenset({"Number", "Currency", "Percent", "Int"})
_AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"})
MAX_OFFSET = 2000


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


class Compiler:
    def __init__(self, schema: OrgSchema, soql: str, options: CompileOptions) -> None:
        self.schema = schema
        self.soql = soql
        self.options = options

    # -- errors --------------------------------------------------------------------

    def _error(self, code: str, at: ast.Position, message: str) -> SfError:
        return SfError(code, located(self.soql, at.line, at.column, message))

    # -- entry points --------------------------------------------------------------

    def compile(self, query: ast.Query) -> Plan:
        obj = self.schema.object(query.sobject)
        if obj is None:
            raise self._error(
                "INVALID_TYPE",
                query.sobject_at,
                f"sObject type '{query.sobject}' is not supported. If you are attempting to use "
                "a custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        plan = self._plan(obj, query, top_level=True)
        if obj.name == "ContentDocumentLink" and not _filters_link(query.where):
            raise SfError(
                "MALFORMED_QUERY",
                "Implementation restriction: ContentDocumentLink requires a filter by a single "
                "Id on ContentDocumentId or LinkedEntityId using the equals operator or "
                "multiple Id's using the IN operator.",
            )
        return plan

    def _plan(self, obj: ObjectDef, query: ast.Query, *, top_level: bool) -> Plan:
        plan = Plan(obj=obj, limit=query.limit, offset=query.offset)
        if query.offset is not None and query.offset > MAX_OFFSET:
            raise SfError(
                "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
            )
        self._select(plan, query, top_level=top_level)
        if query.where is not None:
            plan.predicate = self._condition(plan, obj, query.where)
            plan.id_filter = _id_pushdown(query.where, obj)
        for item in query.order:
            column = self.column(obj, item.path)
            if column.field.type in _UNSORTABLE:
                raise self._error(
                    "INVALID_FIELD",
                    item.path.at,
                    f"field '{column.field.name}' can not be sorted in a query call",
                )
            nulls_first = item.nulls_first if item.nulls_first is not None else not item.descending
            plan.order.append((column, item.descending, nulls_first))
        return plan

    # -- SELECT --------------------------------------------------------------------

    def _select(self, plan: Plan, query: ast.Query, *, top_level: bool) -> None:
        obj = plan.obj
        seen: set[str] = set()
        plain: list[ast.Path] = []
        for item in query.select:
            if isinstance(item, ast.FieldItem):
                column = self.column(obj, item.path)
                key = column.text.lower()
                if key not in seen:
                    seen.add(key)
                    plan.columns.append(column)
                    plain.append(item.path)
            elif isinstance(item, ast.SubqueryItem):
                plan.columns.append(self._child(obj, item.query))
            else:
                self._function(plan, item, query, top_level=top_level)
        if plan.count_only and len(query.select) > 1:
            raise self._error("MALFORMED_QUERY", _item_at(query.select[1]), "unexpected token: ','")
        if plan.aggregates and plain:
            raise self._error(
                "MALFORMED_QUERY",
                plain[0].at,
                f"Field must be grouped or aggregated: {plain[0].text}",
            )

    def _function(
        self, plan: Plan, item: ast.FunctionItem, query: ast.Query, *, top_level: bool
    ) -> None:
        name = item.name
        if name == "FIELDS" and item.argument is not None:
            kind = item.argument.text.upper()
            if kind not in ("ALL", "STANDARD", "CUSTOM"):
                raise self._error(
                    "MALFORMED_QUERY", item.argument.at, f"unexpected token: '{item.argument.text}'"
                )
            if kind != "STANDARD" and (query.limit is None or query.limit > 200):
                raise self._error(
                    "MALFORMED_QUERY",
                    item.at,
                    "The SOQL FIELDS function must have a LIMIT of at most 200",
                )
            for f in plan.obj.fields.values():
                if (kind == "ALL" or (kind == "CUSTOM") == f.custom) and all(
                    not (isinstance(c, Column) and c.text.lower() == f.name.lower())
                    for c in plan.columns
                ):
                    plan.columns.append(Column(f.name, (), f))
            return
        if name not in _AGGREGATES:
            raise self._error("MALFORMED_QUERY", item.at, f"unexpected token: '{name}'")
        if name == "COUNT" and item.argument is None:
            if not top_level:
                raise self._error("MALFORMED_QUERY", item.at, "unexpected token: 'COUNT'")
            plan.count_only = True
            return
        if item.argument is None:
            raise self._error("MALFORMED_QUERY", item.at, "unexpected token: ')'")
        column = self.column(plan.obj, item.argument)
        key = item.alias or f"expr{len(plan.aggregates)}"
        plan.aggregates.append(Aggregate(name, column, key))

    def _child(self, parent: ObjectDef, query: ast.Query) -> ChildQuery:
        rel = self.schema.child_relationship(parent, query.sobject)
        child = self.schema.object(rel.child_object) if rel else None
        if rel is None or child is None or rel.relationship_name is None:
            raise self._error(
                "INVALID_TYPE",
                query.sobject_at,
                f"Didn't understand relationship '{query.sobject}' in FROM part of query call. "
                "If you are attempting to use a custom relationship, be sure to append the "
                "'__r' after the custom relationship name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )
        plan = self._plan(child, query, top_level=False)
        if plan.aggregates or plan.count_only:
            raise self._error("MALFORMED_QUERY", query.sobject_at, "unexpected token: 'COUNT'")
        return ChildQuery(rel.relationship_name, rel.field, plan)

    # -- names ---------------------------------------------------------------------

    def column(self, obj: ObjectDef, path: ast.Path) -> Column:
        parts = list(path.parts)
        if (
            len(parts) > 1
            and parts[0].lower() == obj.name.lower()
            and self.schema.parent_field(obj, parts[0]) is None
        ):
            parts = parts[1:]
        steps: list[FieldDef] = []
        current: list[ObjectDef] = [obj]
        for name in parts[:-1]:
            lookup = next((lk for o in current if (lk := self.schema.parent_field(o, name))), None)
            if lookup is None:
                raise self._error(
                    "INVALID_FIELD",
                    path.at,
                    f"Didn't understand relationship '{name}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' "
                    "after the custom relationship name. Please reference your WSDL or the "
                    "describe call for the appropriate names.",
                )
            steps.append(lookup)
            current = [o for target in lookup.reference_to if (o := self.schema.object(target))]
        leaf = next((f for o in current if (f := o.field(parts[-1]))), None)
        if leaf is None:
            entity = current[0].name if len(current) == 1 else "Name"
            raise self._error(
                "INVALID_FIELD",
                path.at,
                f"No such column '{parts[-1]}' on entity '{entity}'. If you are attempting to "
                "use a custom field, be sure to append the '__c' after the custom field name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
            )
        canonical = [s.relationship_name or s.name for s in steps] + [leaf.name]
        return Column(".".join(canonical), tuple(steps), leaf)

    # -- WHERE ---------------------------------------------------------------------

    def _condition(self, plan: Plan, obj: ObjectDef, cond: ast.Condition) -> Predicate:
        if isinstance(cond, ast.And):
            parts = [self._condition(plan, obj, c) for c in cond.items]
            return lambda row: all(p(row) for p in parts)
        if isinstance(cond, ast.Or):
            parts = [self._condition(plan, obj, c) for c in cond.items]
            return lambda row: any(p(row) for p in parts)
        if isinstance(cond, ast.Not):
            inner = self._condition(plan, obj, cond.item)
            return lambda row: not inner(row)
        return self._comparison(plan, obj, cond)

    def _comparison(self, plan: Plan, obj: ObjectDef, cmp: ast.Comparison) -> Predicate:
        column = self.column(obj, cmp.path)
        f = column.field
        if f.type in _UNFILTERABLE:
            raise self._error(
                "INVALID_FIELD",
                cmp.path.at,
                f"field '{f.name}' can not be filtered in a query call",
            )
        keep_nulls = self.options.null_matches_not_equal
        if cmp.subquery is not None:
            return self._semi_join(plan, column, cmp, keep_nulls)
        if cmp.op == "LIKE":
            if f.type not in _TEXT and f.type not in ("Id", "Lookup", "MasterDetail"):
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
        inner_obj = self.schema.object(cmp.subquery.sobject) if cmp.subquery else None
        if cmp.subquery is None or inner_obj is None:
            raise self._error(
                "INVALID_TYPE", cmp.path.at, "sObject type in semi-join is not supported"
            )
        inner = self._plan(inner_obj, cmp.subquery, top_level=False)
        fields = [c for c in inner.columns if isinstance(c, Column)]
        if (
            len(inner.columns) != 1
            or len(fields) != 1
            or fields[0].field.type not in ("Id", "Lookup", "MasterDetail")
        ):
            raise self._error(
                "MALFORMED_QUERY",
                cmp.subquery.sobject_at,
                "The selected field in a semi join must be an Id or a reference",
            )
        if column.field.type not in ("Id", "Lookup", "MasterDetail"):
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
                raise self._type_error(f, lit, quoted=kind not in _NUMBERS and kind != "Checkbox")
            start, end = day_range(
                lit.value,
                lit.n,
                self.options.today,
                week_starts_on_monday=self.options.week_starts_on_monday,
            )
            if kind == "Date":
                return (start.isoformat(), end.isoformat())
            return (self._midnight(start), self._midnight(end))
        if kind in _TEXT or kind == "MultiselectPicklist":
            if lit.kind != "string":
                raise self._type_error(f, lit, quoted=True)
            return lit.value.casefold() if kind != "MultiselectPicklist" else _multi_key(lit.value)
        if kind in ("Id", "Lookup", "MasterDetail"):
            if lit.kind != "string":
                raise self._type_error(f, lit, quoted=True)
            normal = normalize_id(lit.value)
            if normal is None:
                raise self._error(
                    "INVALID_QUERY_FILTER_OPERATOR", lit.at, f"invalid ID field: {lit.value}"
                )
            return normal
        if kind in _NUMBERS:
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
            f.type, "double" if f.type in _NUMBERS else "string"
        )
        should = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return self._error(
            "INVALID_FIELD",
            lit.at,
            f"value of filter criterion for field '{f.name}' must be of type {api} and {should}",
        )


def comparison_key(f: FieldDef, value: Any) -> Any:
    """A stored value in the same form as compiled literals."""
    if value is None:
        return None
    if f.type in _TEXT:
        return str(value).casefold()
    if f.type == "MultiselectPicklist":
        return _multi_key(str(value))
    if f.type in _NUMBERS:
        return float(value)
    return value


def _multi_key(value: str) -> str:
    return ";".join(sorted({s.casefold() for s in value.split(";") if s}))


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


def _item_at(item: ast.SelectItem) -> ast.Position:
    if isinstance(item, ast.FieldItem):
        return item.path.at
    if isinstance(item, ast.FunctionItem):
        return item.at
    return item.query.sobject_at


def _id_pushdown(cond: ast.Condition, obj: ObjectDef) -> frozenset[str] | None:
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


def _filters_link(cond: ast.Condition | None) -> bool:
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
