"""The query and queryAll resources: batches, ``nextRecordsUrl`` locators, expiry.

A query is evaluated once and its rows kept behind a locator (``01g...``), as an org keeps
a server-side cursor: later pages see the data as it was when the query ran. A batch holds
at most ``batchSize`` rows (2,000 by default, 200 minimum, set with ``Sforce-Query-Options``)
and child rows of sub-queries count toward it. Locators expire after 15 minutes without use
and each user keeps at most 10 open, the oldest evicted first.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.salesforce.clock import Clock
from sandbox.salesforce.config import EmulatorConfig
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.ids import QUERY_LOCATOR_PREFIX, make_id
from sandbox.salesforce.orgschema import OrgSchema
from sandbox.salesforce.soql.compiler import Compiler
from sandbox.salesforce.soql.executor import Executor
from sandbox.salesforce.soql.parser import parse
from sandbox.salesforce.soql.plan import CompileOptions
from sandbox.salesforce.store import Store

DEFAULT_BATCH = 2000
MIN_BATCH = 200


def batch_size(header: str | None) -> int:
    """The batch size asked for in ``Sforce-Query-Options: batchSize=N`` (clamped)."""
    if not header:
        return DEFAULT_BATCH
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(MIN_BATCH, min(DEFAULT_BATCH, int(value.strip())))
    return DEFAULT_BATCH


@dataclass
class _Cursor:
    locator: str
    user_id: str
    records: list[dict[str, Any]]
    total: int
    batch: int
    include_deleted: bool
    last_used: float = field(default=0.0)


class QueryService:
    def __init__(
        self, schema: OrgSchema, store: Store, clock: Clock, config: EmulatorConfig
    ) -> None:
        self.schema = schema
        self.store = store
        self.clock = clock
        self.config = config
        self._cursors: dict[str, _Cursor] = {}
        self._lock = threading.Lock()
        self._sequence = 0

    def run(
        self, soql: str, *, version: str, include_deleted: bool, batch: int, user_id: str
    ) -> dict[str, Any]:
        """The first page of ``soql``."""
        if not soql.strip():
            raise SfError("MALFORMED_QUERY", "A query string has to be specified")
        options = CompileOptions(
            today=self.clock.today(),
            zone=self.clock.zone,
            week_starts_on_monday=self.config.week_starts_on_monday,
            null_matches_not_equal=self.config.behaviour.null_matches_not_equal,
        )
        plan = Compiler(self.schema, soql, options).compile(parse(soql))
        total, records = Executor(self.store, version, include_deleted=include_deleted).run(plan)
        cursor = _Cursor("", user_id, records, total, batch, include_deleted)
        return self._page(cursor, 0, version)

    def more(self, locator: str, *, version: str, user_id: str) -> dict[str, Any]:
        """The page of an earlier query that starts at the offset named in ``locator``."""
        name, _, offset_text = locator.partition("-")
        with self._lock:
            self._expire()
            cursor = self._cursors.get(name)
        if cursor is None or cursor.user_id != user_id or not offset_text.isdigit():
            raise SfError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, int(offset_text), version)

    def forget_all(self) -> None:
        with self._lock:
            self._cursors.clear()

    def _page(self, cursor: _Cursor, offset: int, version: str) -> dict[str, Any]:
        rows = cursor.records
        end = offset
        weight = 0
        while end < len(rows):
            row_weight = 1 + _child_rows(rows[end])
            if end > offset and weight + row_weight > cursor.batch:
                break
            weight += row_weight
            end += 1
        page: dict[str, Any] = {"totalSize": cursor.total, "done": end >= len(rows)}
        if end < len(rows):
            self._keep(cursor)
            resource = "queryAll" if cursor.include_deleted else "query"
            page["nextRecordsUrl"] = f"/services/data/v{version}/{resource}/{cursor.locator}-{end}"
        elif cursor.locator:
            with self._lock:
                self._cursors.pop(cursor.locator, None)
        page["records"] = rows[offset:end]
        return page

    def _keep(self, cursor: _Cursor) -> None:
        with self._lock:
            cursor.last_used = self.clock.timestamp()
            if not cursor.locator:
                self._sequence += 1
                cursor.locator = make_id(QUERY_LOCATOR_PREFIX, self._sequence)
                self._cursors[cursor.locator] = cursor
                mine = sorted(
                    (c for c in self._cursors.values() if c.user_id == cursor.user_id),
                    key=lambda c: c.last_used,
                )
                for old in mine[: max(0, len(mine) - self.config.max_open_query_locators)]:
                    self._cursors.pop(old.locator, None)

    def _expire(self) -> None:
        limit = self.clock.timestamp() - self.config.query_locator_ttl_seconds
        for name in [n for n, c in self._cursors.items() if c.last_used < limit]:
            del self._cursors[name]


def _child_rows(record: dict[str, Any]) -> int:
    return sum(
        len(value.get("records", ()))
        for value in record.values()
        if isinstance(value, dict) and "totalSize" in value and "records" in value
    )
