"""Per-key mutual exclusion across every worker of a deployment.

Some work must not run twice at once for the same thing even when the events differ: two
quote requests of the same new client, filed by two workers on two machines, would both
read "no such contact" and create a household each. A flow wraps that critical section in
``runtime.key_locks.hold("intake:<e-mail>")``.

PostgreSQL: a session-level advisory lock on a connection held for the section (released
explicitly, and by PostgreSQL itself if the process dies), so any number of processes on any
number of machines agree. SQLite: one worker process by design, so a lock per key inside the
process is enough. Waiting is bounded: past ``timeout`` the section is not entered and a
:class:`TransientError` sends the event back to the queue.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import Engine

from naturhome_sync.errors import TransientError

_POLL_S = 0.05


def lock_id(key: str) -> int:
    """A stable signed 64-bit id for ``key`` (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class KeyLocks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, key: str, *, timeout: float = 120.0) -> Iterator[None]:
        if self.engine.dialect.name == "postgresql":
            with self._advisory(key, timeout):
                yield
        else:
            with self._in_process(key, timeout):
                yield

    @contextmanager
    def _advisory(self, key: str, timeout: float) -> Iterator[None]:
        ident = lock_id(key)
        deadline = time.monotonic() + timeout
        with self.engine.connect() as conn:
            while not conn.execute(sa.select(sa.func.pg_try_advisory_lock(ident))).scalar():
                conn.rollback()  # do not sit in a transaction while waiting
                if time.monotonic() > deadline:
                    raise TransientError(f"{key} is busy elsewhere", code="KEY_LOCKED")
                time.sleep(_POLL_S)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(ident)))
                conn.commit()

    @contextmanager
    def _in_process(self, key: str, timeout: float) -> Iterator[None]:
        with self._guard:
            lock = self._local.setdefault(key, threading.Lock())
        if not lock.acquire(timeout=timeout):
            raise TransientError(f"{key} is busy elsewhere", code="KEY_LOCKED")
        try:
            yield
        finally:
            lock.release()
