"""Per-key locks hold across connections (PostgreSQL: across processes) and time out cleanly."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from naturhome_sync.errors import TransientError
from naturhome_sync.store import create_db_engine, upgrade
from naturhome_sync.store.inbox import utcnow
from naturhome_sync.store.locks import KeyLocks, lock_id
from naturhome_sync.store.tables import key_locks


def test_lock_ids_are_stable_signed_64_bit() -> None:
    assert lock_id("lead_intake:a@b.be") == lock_id("lead_intake:a@b.be")
    assert lock_id("a") != lock_id("b")
    assert -(2**63) <= lock_id("x") < 2**63


def test_a_key_is_held_by_one_holder_at_a_time(database_url: str) -> None:
    # Two engines = two independent connection pools, as two processes would have.
    first, second = create_db_engine(database_url), create_db_engine(database_url)
    upgrade(first)
    locks_a, locks_b = KeyLocks(first), KeyLocks(second)
    inside: list[str] = []
    entered = threading.Event()

    def holder() -> None:
        with locks_a.hold("k"):
            inside.append("a-in")
            entered.set()
            time.sleep(0.4)
            inside.append("a-out")

    thread = threading.Thread(target=holder)
    thread.start()
    entered.wait(5)
    with locks_b.hold("k"):
        inside.append("b-in")
    thread.join()
    assert inside == ["a-in", "a-out", "b-in"]
    with locks_b.hold("other"), locks_a.hold("k"):
        pass  # different keys do not block each other
    first.dispose()
    second.dispose()


def test_waiting_too_long_is_a_transient_error(database_url: str) -> None:
    engine = create_db_engine(database_url)
    other = create_db_engine(database_url)
    upgrade(engine)
    locks, rival = KeyLocks(engine), KeyLocks(other)
    released = threading.Event()
    held = threading.Event()

    def holder() -> None:
        with locks.hold("busy"):
            held.set()
            released.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    with pytest.raises(TransientError, match="busy elsewhere"), rival.hold("busy", timeout=0.2):
        pass
    released.set()
    thread.join()
    with rival.hold("busy", timeout=1):
        pass  # free again once released
    engine.dispose()
    other.dispose()


def test_a_sqlite_lock_left_by_a_dead_process_expires(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    dead = KeyLocks(engine)
    holding = dead.hold("orphan")
    holding.__enter__()  # never released: its process "died"
    survivor = KeyLocks(create_db_engine(url))
    with pytest.raises(TransientError), survivor.hold("orphan", timeout=0.1):
        pass
    with engine.begin() as conn:  # its ttl runs out
        conn.execute(key_locks.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    with survivor.hold("orphan", timeout=1):
        pass  # the expired row no longer blocks
