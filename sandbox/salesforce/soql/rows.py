"""Rows as the query engine walks them, with parents fetched once per query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.salesforce.store import Store


class Resolver:
    """Loads parent records by id for field paths, caching them for one query."""

    def __init__(self, store: Store, *, include_deleted: bool) -> None:
        self.store = store
        self.include_deleted = include_deleted
        self._cache: dict[str, dict[str, Any] | None] = {}
        self._types: dict[str, str] = {}

    def parent(self, record_id: str) -> dict[str, Any] | None:
        if record_id not in self._cache:
            found = self.store.get(record_id)
            if found is None or (found[1] and not self.include_deleted):
                self._cache[record_id] = None
            else:
                self._cache[record_id] = found[2]
                self._types[record_id] = found[0]
        return self._cache[record_id]

    def prime(self, ids: list[str]) -> None:
        """Fetch many parents in one statement before rows ask for them one by one."""
        missing = [i for i in ids if i not in self._cache]
        for rid, (sobject, deleted, data) in self.store.get_many(missing).items():
            keep = not deleted or self.include_deleted
            self._cache[rid] = data if keep else None
            self._types[rid] = sobject
        for rid in missing:
            self._cache.setdefault(rid, None)

    def type_of(self, record_id: str) -> str | None:
        return self._types.get(record_id)


@dataclass(frozen=True)
class Row:
    id: str
    data: dict[str, Any]
    resolver: Resolver
