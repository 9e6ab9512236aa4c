"""Per-key mutual exclusion across every worker of a deployment.

Some work must not run twice at once for the same thing even when the events differ: two
quote requests of the same new client, filed by two workers on two machines, would both
read "no such contact" and create a household each. A flow wraps that critical section in
``runtime.key_locks.hold("lead_intake:<e-mail>")``.

PostgreSQL: a session-level advisory lock on a connection held for the section (released
explicitly, and by PostgreSQL itself if the process dies), so any number of processes on any
number of machines agree. SQLite (one file, one machine, but possibly a ``serve`` and a
``run`` at once): a row in ``key_locks``, taken under SQLite's write lock, with an expiry so
a process that died holding it blocks the key for ``ttl`` at most. Waiting is bounded: past
``timeout`` the section is not entered and a :class:`TransientError` sends the event back
to the queue.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects import sqlite

from naturhome_sync.errors import TransientError
from naturhome_sync.store.inbox import stored_key, utcnow
from naturhome_sync.store.tables import key_locks

_POLL_S = 0.05


def lock_id(key: str) -> int:
    """A stable signed 64-bit id for ``key`` (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class KeyLocks:
    def __init__(self, engine: Engine, *, ttl: float = 15 * 60) -> None:
        self.engine = engine
        self.ttl = ttl

    @contextmanager
    def hold(self, key: str, *, timeout: float = 120.0) -> Iterator[None]:
        hold = self._advisory if self.engine.dialect.name == "postgresql" else self._row
        with hold(key, timeout):
            yield

    @staticmethod
    def _busy(key: str) -> TransientError:
        return TransientError(f"{key} is busy elsewhere", code="KEY_LOCKED")

    @contextmanager
    def _advisory(self, key: str, timeout: float) -> Iterator[None]:
        ident = lock_id(key)
        deadline = time.monotonic() + timeout
        with self.engine.connect() as conn:
            while not conn.execute(sa.select(sa.func.pg_try_advisory_lock(ident))).scalar():
                conn.rollback()  # do not sit in a transaction while waiting
                if time.monotonic() > deadline:
                    raise self._busy(key)
                time.sleep(_POLL_S)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(ident)))
                conn.commit()

    @contextmanager
    def _row(self, key: str, timeout: float) -> Iterator[None]:
        row_key = stored_key(key)
        holder = (
            f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
        )
        deadline = time.monotonic() + timeout
        while not self._take_row(row_key, holder):
            if time.monotonic() > deadline:
                raise self._busy(key)
            time.sleep(_POLL_S)
        try:
            yield
        finally:
            with self.engine.begin() as conn:
                conn.execute(
                    key_locks.delete().where(
                        key_locks.c.key == row_key, key_locks.c.holder == holder
                    )
                )

    def _take_row(self, row_key: str, holder: str) -> bool:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                key_locks.delete().where(key_locks.c.key == row_key, key_locks.c.expires_at < now)
            )
            taken = conn.execute(
                sqlite.insert(key_locks)
                .values(key=row_key, holder=holder, expires_at=now + timedelta(seconds=self.ttl))
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(key_locks.c.key)
            ).first()
        return taken is not None
