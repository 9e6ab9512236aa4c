"""SQLite persistence of one emulated org.

Records are stored schemaless (one JSON document per record, keyed by canonical field name,
in API output form) so the project schema can evolve between runs without migrations. Two
side tables make the hot lookups indexed: ``lookup_keys`` (external-id and unique values,
used for upserts and DUPLICATE_VALUE) and ``counters`` (id sequences). Everything lives in one
file under the state directory, so a restart on the same directory finds the same org.

One connection is shared by all request threads; the org serialises requests with its own
lock, and :meth:`Store.atomic` nests SAVEPOINTs so a collections or composite call can roll
back exactly what an ``allOrNone`` rollback would.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sandbox.salesforce.ids import make_id

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    sobject TEXT NOT NULL,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    deleted_at TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_object ON records (sobject, is_deleted);
CREATE TABLE IF NOT EXISTS lookup_keys (
    sobject TEXT NOT NULL,
    field TEXT NOT NULL,
    folded TEXT NOT NULL,
    raw TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (sobject, field, folded, id)
);
CREATE INDEX IF NOT EXISTS lookup_keys_by_id ON lookup_keys (id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS key_prefixes (sobject TEXT PRIMARY KEY, prefix TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    issued_at REAL NOT NULL,
    last_used REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

Record = dict[str, Any]


class Store:
    """The org's SQLite file. Not thread-safe by itself: callers hold the org lock."""

    FILE_NAME = "salesforce.sqlite3"

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / self.FILE_NAME
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._depth = 0
        self._guard = threading.RLock()

    def close(self) -> None:
        self._conn.close()

    # -- transactions ------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """All or nothing: a SAVEPOINT, nested inside any enclosing one."""
        with self._guard:
            self._depth += 1
            name = f"sp{self._depth}"
            self._conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self._conn.execute(f"ROLLBACK TO {name}")
                self._conn.execute(f"RELEASE {name}")
                raise
            else:
                self._conn.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1

    # -- records -----------------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        value = self.bump_counter(f"id:{prefix}")
        return make_id(prefix, value)

    def bump_counter(self, name: str) -> int:
        row = self._conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    def insert(self, sobject: str, record_id: str, data: Record) -> None:
        self._conn.execute(
            "INSERT INTO records (id, sobject, is_deleted, data) VALUES (?, ?, 0, ?)",
            (record_id, sobject, json.dumps(data)),
        )

    def replace(self, record_id: str, data: Record) -> None:
        self._conn.execute(
            "UPDATE records SET data = ? WHERE id = ?", (json.dumps(data), record_id)
        )

    def mark_deleted(self, record_id: str, data: Record, deleted_at: str) -> None:
        self._conn.execute(
            "UPDATE records SET is_deleted = 1, deleted_at = ?, data = ? WHERE id = ?",
            (deleted_at, json.dumps(data), record_id),
        )
        self._conn.execute("DELETE FROM lookup_keys WHERE id = ?", (record_id,))

    def get(self, record_id: str) -> tuple[str, bool, Record] | None:
        """``(sobject, is_deleted, data)`` of a record, deleted or not."""
        row = self._conn.execute(
            "SELECT sobject, is_deleted, data FROM records WHERE id = ?", (record_id,)
        ).fetchone()
        if row is None:
            return None
        return str(row[0]), bool(row[1]), json.loads(row[2])

    def get_many(self, ids: Iterable[str]) -> dict[str, tuple[str, bool, Record]]:
        wanted = list(dict.fromkeys(ids))
        found: dict[str, tuple[str, bool, Record]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for rid, sobject, deleted, data in self._conn.execute(
                f"SELECT id, sobject, is_deleted, data FROM records WHERE id IN ({marks})", chunk
            ):
                found[str(rid)] = (str(sobject), bool(deleted), json.loads(data))
        return found

    def scan(self, sobject: str, *, include_deleted: bool) -> list[tuple[str, bool, Record]]:
        """Every record of one object in id (creation) order."""
        sql = "SELECT id, is_deleted, data FROM records WHERE sobject = ?"
        if not include_deleted:
            sql += " AND is_deleted = 0"
        sql += " ORDER BY id"
        return [
            (str(rid), bool(deleted), json.loads(data))
            for rid, deleted, data in self._conn.execute(sql, (sobject,))
        ]

    def deleted_between(self, sobject: str, start: str, end: str) -> list[tuple[str, str]]:
        return [
            (str(rid), str(at))
            for rid, at in self._conn.execute(
                "SELECT id, deleted_at FROM records WHERE sobject = ? AND is_deleted = 1 "
                "AND deleted_at >= ? AND deleted_at < ? ORDER BY deleted_at, id",
                (sobject, start, end),
            )
        ]

    def children(self, sobject: str, field: str, parent_ids: Iterable[str]) -> list[str]:
        """Ids of live ``sobject`` records whose ``field`` holds one of ``parent_ids``."""
        wanted = list(parent_ids)
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self._conn.execute(
            f"SELECT id FROM records WHERE sobject = ? AND is_deleted = 0 "
            f"AND json_extract(data, '$.' || ?) IN ({marks}) ORDER BY id",
            (sobject, field, *wanted),
        )
        return [str(r[0]) for r in rows]

    # -- external ids and unique values ------------------------------------------------

    def set_lookup_keys(
        self, sobject: str, record_id: str, keys: dict[str, tuple[str, str]]
    ) -> None:
        """Replace the indexed values of one record: field -> (folded, raw)."""
        self._conn.execute("DELETE FROM lookup_keys WHERE id = ?", (record_id,))
        self._conn.executemany(
            "INSERT INTO lookup_keys (sobject, field, folded, raw, id) VALUES (?, ?, ?, ?, ?)",
            [(sobject, f, folded, raw, record_id) for f, (folded, raw) in keys.items()],
        )

    def lookup(self, sobject: str, field: str, folded: str) -> list[tuple[str, str]]:
        """``(id, raw value)`` of live records whose indexed ``field`` folds to ``folded``."""
        rows = self._conn.execute(
            "SELECT id, raw FROM lookup_keys WHERE sobject = ? AND field = ? AND folded = ? "
            "ORDER BY id",
            (sobject, field, folded),
        )
        return [(str(r[0]), str(r[1])) for r in rows]

    # -- blobs -------------------------------------------------------------------------

    def put_blob(self, blob_id: str, data: bytes) -> None:
        self._conn.execute("INSERT OR REPLACE INTO blobs (id, data) VALUES (?, ?)", (blob_id, data))

    def get_blob(self, blob_id: str) -> bytes | None:
        row = self._conn.execute("SELECT data FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        return bytes(row[0]) if row else None

    # -- key prefixes, sessions, meta --------------------------------------------------

    def key_prefixes(self) -> dict[str, str]:
        return {
            str(s): str(p)
            for s, p in self._conn.execute("SELECT sobject, prefix FROM key_prefixes")
        }

    def save_key_prefix(self, sobject: str, prefix: str) -> None:
        self._conn.execute(
            "INSERT INTO key_prefixes (sobject, prefix) VALUES (?, ?)", (sobject, prefix)
        )

    def add_session(self, token: str, user_id: str, now: float) -> None:
        self._conn.execute(
            "INSERT INTO sessions (token, user_id, issued_at, last_used) VALUES (?, ?, ?, ?)",
            (token, user_id, now, now),
        )

    def session(self, token: str) -> tuple[str, float] | None:
        """``(user_id, last_used)`` of a session token."""
        row = self._conn.execute(
            "SELECT user_id, last_used FROM sessions WHERE token = ?", (token,)
        ).fetchone()
        return (str(row[0]), float(row[1])) if row else None

    def touch_session(self, token: str, now: float) -> None:
        self._conn.execute("UPDATE sessions SET last_used = ? WHERE token = ?", (now, token))

    def drop_sessions(self) -> int:
        return self._conn.execute("DELETE FROM sessions").rowcount

    def meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def wipe_data(self, keep_objects: Iterable[str]) -> None:
        """Delete every record (and blob and index entry) except those of ``keep_objects``."""
        keep = list(keep_objects)
        marks = ",".join("?" * len(keep)) or "''"
        self._conn.execute(f"DELETE FROM records WHERE sobject NOT IN ({marks})", keep)
        self._conn.execute(f"DELETE FROM lookup_keys WHERE sobject NOT IN ({marks})", keep)
        self._conn.execute("DELETE FROM blobs")
        self._conn.execute("DELETE FROM meta WHERE key LIKE 'ref:%'")
