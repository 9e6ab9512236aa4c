"""Checks a parsed query against the schema and turns it into an executable plan.

Name resolution is case-insensitive and answers an org's errors: INVALID_TYPE for objects
and child relationships, INVALID_FIELD for fields and parent paths, each located in the
query text like an org locates them. WHERE clauses are compiled by :mod:`conditions`.
"""

from __future__ import annotations

from naturhome_sync.sfschema import FieldDef, ObjectDef
from sandbox.salesforce.errors import SfError, located
from sandbox.salesforce.orgschema import OrgSchema
from sandbox.salesforce.soql import ast
from sandbox.salesforce.soql.conditions import Conditions, filters_link, id_pushdown
from sandbox.salesforce.soql.plan import (
    UNSORTABLE_TYPES,
    Aggregate,
    ChildQuery,
    Column,
    CompileOptions,
    Plan,
)

_AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"})
MAX_OFFSET = 2000


class Compiler:
    def __init__(self, schema: OrgSchema, soql: str, options: CompileOptions) -> None:
        self.schema = schema
        self.soql = soql
        self.options = options

    # -- errors --------------------------------------------------------------------

    def error(self, code: str, at: ast.Position, message: str) -> SfError:
        return SfError(code, located(self.soql, at.line, at.column, message))

    # -- entry points --------------------------------------------------------------

    def compile(self, query: ast.Query) -> Plan:
        obj = self.schema.object(query.sobject)
        if obj is None:
            raise self.error(
                "INVALID_TYPE",
                query.sobject_at,
                f"sObject type '{query.sobject}' is not supported. If you are attempting to use "
                "a custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        plan = self.plan(obj, query, top_level=True)
        if obj.name == "ContentDocumentLink" and not filters_link(query.where):
            raise SfError(
                "MALFORMED_QUERY",
                "Implementation restriction: ContentDocumentLink requires a filter by a single "
                "Id on ContentDocumentId or LinkedEntityId using the equals operator or "
                "multiple Id's using the IN operator.",
            )
        return plan

    def plan(self, obj: ObjectDef, query: ast.Query, *, top_level: bool) -> Plan:
        plan = Plan(obj=obj, limit=query.limit, offset=query.offset)
        if query.offset is not None and query.offset > MAX_OFFSET:
            raise SfError(
                "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
            )
        self._select(plan, query, top_level=top_level)
        if query.where is not None:
            plan.predicate = Conditions(self).condition(plan, obj, query.where)
            plan.id_filter = id_pushdown(query.where, obj)
        for item in query.order:
            column = self.column(obj, item.path)
            if column.field.type in UNSORTABLE_TYPES:
                raise self.error(
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
            raise self.error("MALFORMED_QUERY", _item_at(query.select[1]), "unexpected token: ','")
        if plan.aggregates and plain:
            raise self.error(
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
                raise self.error(
                    "MALFORMED_QUERY", item.argument.at, f"unexpected token: '{item.argument.text}'"
                )
            if kind != "STANDARD" and (query.limit is None or query.limit > 200):
                raise self.error(
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
            raise self.error("MALFORMED_QUERY", item.at, f"unexpected token: '{name}'")
        if name == "COUNT" and item.argument is None:
            if not top_level:
                raise self.error("MALFORMED_QUERY", item.at, "unexpected token: 'COUNT'")
            plan.count_only = True
            return
        if item.argument is None:
            raise self.error("MALFORMED_QUERY", item.at, "unexpected token: ')'")
        column = self.column(plan.obj, item.argument)
        key = item.alias or f"expr{len(plan.aggregates)}"
        plan.aggregates.append(Aggregate(name, column, key))

    def _child(self, parent: ObjectDef, query: ast.Query) -> ChildQuery:
        rel = self.schema.child_relationship(parent, query.sobject)
        child = self.schema.object(rel.child_object) if rel else None
        if rel is None or child is None or rel.relationship_name is None:
            raise self.error(
                "INVALID_TYPE",
                query.sobject_at,
                f"Didn't understand relationship '{query.sobject}' in FROM part of query call. "
                "If you are attempting to use a custom relationship, be sure to append the "
                "'__r' after the custom relationship name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )
        plan = self.plan(child, query, top_level=False)
        if plan.aggregates or plan.count_only:
            raise self.error("MALFORMED_QUERY", query.sobject_at, "unexpected token: 'COUNT'")
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
                raise self.error(
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
            raise self.error(
                "INVALID_FIELD",
                path.at,
                f"No such column '{parts[-1]}' on entity '{entity}'. If you are attempting to "
                "use a custom field, be sure to append the '__c' after the custom field name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
            )
        canonical = [s.relationship_name or s.name for s in steps] + [leaf.name]
        return Column(".".join(canonical), tuple(steps), leaf)


def _item_at(item: ast.SelectItem) -> ast.Position:
    if isinstance(item, ast.FieldItem):
        return item.path.at
    if isinstance(item, ast.FunctionItem):
        return item.at
    return item.query.sobject_at
