"""Runs a compiled plan over the store and shapes rows the way the query resource does.

Rows come back with ``attributes`` first and the selected fields in select order under
their canonical names; parent paths nest (``"Account": {"attributes": ..., "Name": ...}`` or
``"Account": null``), child sub-queries become ``{"totalSize", "done", "records"}`` or null.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cmp_to_key
from typing import Any

from naturhome_sync.sfschema import FieldDef
from sandbox.salesforce.records import attributes, record_url
from sandbox.salesforce.soql.plan import ChildQuery, Column, Plan, comparison_key
from sandbox.salesforce.soql.rows import Resolver, Row
from sandbox.salesforce.store import Store


class Executor:
    def __init__(self, store: Store, version: str, *, include_deleted: bool) -> None:
        self.store = store
        self.version = version
        self.include_deleted = include_deleted
        self.resolver = Resolver(store, include_deleted=include_deleted)

    def run(self, plan: Plan) -> tuple[int, list[dict[str, Any]]]:
        """``(totalSize, records)`` of a top-level query."""
        rows = self.matching(plan)
        if plan.count_only:
            return len(rows), []
        if plan.aggregates:
            return 1, [self._aggregate(plan, rows)]
        return len(rows), self._shape(plan, rows)

    def matching(self, plan: Plan) -> list[Row]:
        """Rows of ``plan`` after WHERE, ORDER BY, OFFSET and LIMIT."""
        for join in plan.semi_joins:
            inner_rows = self.matching(join.plan)
            join.values = frozenset(
                v for r in inner_rows if (v := join.column.value(r)) is not None
            )
        rows = [r for r in self._candidates(plan) if plan.predicate is None or plan.predicate(r)]
        return self._window(plan, self._sort(plan, rows))

    def _candidates(self, plan: Plan) -> list[Row]:
        if plan.id_filter is not None:
            found = self.store.get_many(sorted(plan.id_filter))
            picked = [
                (rid, data)
                for rid, (sobject, deleted, data) in sorted(found.items())
                if sobject == plan.obj.name and (self.include_deleted or not deleted)
            ]
        else:
            picked = [
                (rid, data)
                for rid, _, data in self.store.scan(
                    plan.obj.name, include_deleted=self.include_deleted
                )
            ]
        return [Row(rid, data, self.resolver) for rid, data in picked]

    @staticmethod
    def _window(plan: Plan, rows: list[Row]) -> list[Row]:
        start = plan.offset or 0
        end = start + plan.limit if plan.limit is not None else None
        return rows[start:end]

    @staticmethod
    def _sort(plan: Plan, rows: list[Row]) -> list[Row]:
        if not plan.order:
            return rows
        keyed = [
            (row, [comparison_key(c.field, c.value(row)) for c, _, _ in plan.order]) for row in rows
        ]

        def compare(a: tuple[Row, list[Any]], b: tuple[Row, list[Any]]) -> int:
            for (_, descending, nulls_first), x, y in zip(plan.order, a[1], b[1], strict=True):
                if x is None or y is None:
                    if x is None and y is None:
                        continue
                    return (-1 if nulls_first else 1) * (1 if x is None else -1)
                if x == y:
                    continue
                result = -1 if x < y else 1
                return -result if descending else result
            return 0

        return [row for row, _ in sorted(keyed, key=cmp_to_key(compare))]

    # -- shaping -------------------------------------------------------------------

    def _shape(self, plan: Plan, rows: list[Row]) -> list[dict[str, Any]]:
        self._prime_parents(plan, rows)
        children = {
            id(child): self._children(child, [r.id for r in rows])
            for child in plan.columns
            if isinstance(child, ChildQuery)
        }
        shaped = []
        for row in rows:
            out: dict[str, Any] = {"attributes": attributes(self.version, plan.obj.name, row.id)}
            for column in plan.columns:
                if isinstance(column, ChildQuery):
                    records = children[id(column)].get(row.id)
                    out[column.relationship] = (
                        {"totalSize": len(records), "done": True, "records": records}
                        if records
                        else None
                    )
                else:
                    self._put(out, column, row, plan.obj.name)
            shaped.append(out)
        return shaped

    def _prime_parents(self, plan: Plan, rows: list[Row]) -> None:
        first_steps = {c.steps[0].name for c in plan.columns if isinstance(c, Column) and c.steps}
        ids = [v for r in rows for name in first_steps if isinstance(v := r.data.get(name), str)]
        if ids:
            self.resolver.prime(ids)

    def _children(
        self, child: ChildQuery, parent_ids: list[str]
    ) -> dict[str, list[dict[str, Any]]]:
        wanted = set(parent_ids)
        grouped: dict[str, list[Row]] = defaultdict(list)
        plan = child.plan
        for rid, _, data in self.store.scan(plan.obj.name, include_deleted=self.include_deleted):
            parent = data.get(child.foreign_key)
            if parent in wanted:
                row = Row(rid, data, self.resolver)
                if plan.predicate is None or plan.predicate(row):
                    grouped[parent].append(row)
        return {
            parent: self._shape(plan, self._window(plan, self._sort(plan, rows)))
            for parent, rows in grouped.items()
        }

    def _put(self, out: dict[str, Any], column: Column, row: Row, sobject: str) -> None:
        target = out
        data: dict[str, Any] = row.data
        record_id, owner = row.id, sobject
        for step in column.steps:
            name = step.relationship_name or step.name
            parent_id = data.get(step.name)
            parent = self.resolver.parent(parent_id) if isinstance(parent_id, str) else None
            if parent is None or parent_id is None:
                target.setdefault(name, None)
                return
            if target.get(name) is None:
                owner = self.resolver.type_of(parent_id) or ""
                target[name] = {"attributes": attributes(self.version, owner, parent_id)}
            owner = self.resolver.type_of(parent_id) or ""
            target, data, record_id = target[name], parent, parent_id
        target[column.field.name] = _output(column.field, owner, record_id, data, self.version)

    @staticmethod
    def _aggregate(plan: Plan, rows: list[Row]) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for agg in plan.aggregates:
            values = [v for r in rows if agg.column and (v := agg.column.value(r)) is not None]
            if agg.function == "COUNT":
                out[agg.key] = len(values)
            elif agg.function == "COUNT_DISTINCT":
                out[agg.key] = len({str(v).casefold() for v in values})
            elif not values:
                out[agg.key] = None
            elif agg.function == "SUM":
                out[agg.key] = sum(values)
            elif agg.function == "AVG":
                out[agg.key] = sum(values) / len(values)
            elif agg.function == "MIN":
                out[agg.key] = min(values)
            else:
                out[agg.key] = max(values)
        return out


def _output(f: FieldDef, sobject: str, record_id: str, data: dict[str, Any], version: str) -> Any:
    if f.name == "Id":
        return record_id
    if f.type == "Base64":
        return f"{record_url(version, sobject, record_id)}/{f.name}" if data.get(f.name) else None
    return data.get(f.name)
