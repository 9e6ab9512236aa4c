"""Inbox semantics on SQLite and PostgreSQL (DESIGN.md §4)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from naturhome_sync.runtime import Runtime
from naturhome_sync.store.inbox import NewEvent, RunRecord, utcnow


def probe_event(key: str, **payload: object) -> NewEvent:
    return NewEvent(source="testing", kind="probe", flow="probe", dedupe_key=key, payload=payload)


def expire_lease(runtime: Runtime, event_id: int) -> None:
    """What the clock does to the lease of a worker that died: it runs out."""
    from naturhome_sync.store.tables import inbox_events

    with runtime.engine.begin() as conn:
        conn.execute(
            inbox_events.update()
            .where(inbox_events.c.id == event_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


def run_record(attempt: int = 1) -> RunRecord:
    return RunRecord(
        flow="probe",
        trigger="testing",
        attempt=attempt,
        worker="w",
        started_at=utcnow(),
        status="succeeded",
    )


def test_enqueue_is_idempotent_per_source_and_key(runtime: Runtime) -> None:
    first = runtime.inbox.enqueue(probe_event("k1", n=1))
    again = runtime.inbox.enqueue(probe_event("k1", n=2))
    other_source = runtime.inbox.enqueue(
        NewEvent(source="hubspot", kind="probe", flow="probe", dedupe_key="k1")
    )
    assert first.created and not again.created
    assert again.event_id == first.event_id
    assert again.correlation_id == first.correlation_id
    assert other_source.created and other_source.event_id != first.event_id
    stored = runtime.inbox.get(first.event_id)
    assert stored is not None and stored.payload == {"n": 1}  # the first delivery wins
    assert runtime.inbox.depth_by_status()["pending"] == 2


def test_concurrent_duplicate_enqueues_store_one_row(runtime: Runtime) -> None:
    results = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        barrier.wait()
        results.append(runtime.inbox.enqueue(probe_event("same")))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8  # every delivery got an answer (none raised)
    assert sum(r.created for r in results) == 1
    assert len({r.event_id for r in results}) == 1


def test_claim_takes_oldest_due_event_under_a_lease(runtime: Runtime) -> None:
    inbox = runtime.inbox
    later = inbox.enqueue(
        NewEvent(
            source="t",
            kind="k",
            flow="probe",
            dedupe_key="later",
            available_at=utcnow() + timedelta(hours=1),
        )
    )
    first = inbox.enqueue(probe_event("first"))
    second = inbox.enqueue(probe_event("second"))
    claimed = inbox.claim("w1", 60)
    assert claimed is not None and claimed.id == first.event_id
    assert claimed.status == "running" and claimed.attempts == 1
    assert claimed.lease_owner == "w1"
    assert claimed.lease_expires_at is not None
    assert claimed.lease_expires_at - utcnow() > timedelta(seconds=50)
    assert inbox.claim("w2", 60).id == second.event_id  # type: ignore[union-attr]
    assert inbox.claim("w3", 60) is None  # `later` is not due yet
    assert inbox.get(later.event_id).status == "pending"  # type: ignore[union-attr]


def test_only_the_lease_owner_can_record_an_outcome(runtime: Runtime) -> None:
    inbox = runtime.inbox
    inbox.enqueue(probe_event("x"))
    event = inbox.claim("owner", 60)
    assert event is not None
    assert not inbox.complete(event, "intruder", run_record())
    assert inbox.complete(event, "owner", run_record())
    assert inbox.get(event.id).status == "done"  # type: ignore[union-attr]
    assert not inbox.complete(event, "owner", run_record())  # already finished


def test_expired_lease_makes_the_event_claimable_again(runtime: Runtime) -> None:
    inbox = runtime.inbox
    inbox.enqueue(probe_event("crash"))
    lost = inbox.claim("crashed-worker", 60)
    assert lost is not None and inbox.claim("other", 60) is None
    expire_lease(runtime, lost.id)  # the worker died; its lease ran out
    again = inbox.claim("other", 60)
    assert again is not None and again.id == lost.id and again.attempts == 2
    assert not inbox.complete(lost, "crashed-worker", run_record())  # stale owner refused
    assert inbox.complete(again, "other", run_record(2))


def test_expired_lease_after_the_last_attempt_buries_the_event(runtime: Runtime) -> None:
    inbox = runtime.inbox  # max_attempts = 3 in the test settings
    inbox.enqueue(probe_event("poison"))
    for _ in range(3):
        taken = inbox.claim("dies", 60)
        assert taken is not None
        expire_lease(runtime, taken.id)
    assert inbox.claim("next", 60) is None
    dead = inbox.list(status="dead")
    assert len(dead) == 1
    assert dead[0].error_category == "internal"
    assert "lease expired after attempt 3 of 3" in (dead[0].last_error or "")


def test_retry_later_sets_availability_and_keeps_the_error(runtime: Runtime) -> None:
    inbox = runtime.inbox
    inbox.enqueue(probe_event("r"))
    event = inbox.claim("w", 60)
    assert event is not None
    assert inbox.retry_later(
        event, "w", run_record(), delay_seconds=120, error="boom", category="transient"
    )
    stored = inbox.get(event.id)
    assert stored is not None and stored.status == "pending"
    assert stored.last_error == "boom" and stored.error_category == "transient"
    assert timedelta(seconds=110) < stored.available_at - utcnow() <= timedelta(seconds=120)
    assert stored.lease_owner is None
    assert inbox.claim("w", 60) is None


def test_follow_ups_commit_with_the_outcome(runtime: Runtime) -> None:
    inbox = runtime.inbox
    inbox.enqueue(probe_event("parent"))
    event = inbox.claim("w", 60)
    assert event is not None
    follow_up = NewEvent(
        source="internal",
        kind="write_back",
        flow="probe",
        dedupe_key="child",
        correlation_id=event.correlation_id,
    )
    assert inbox.complete(event, "w", run_record(), [follow_up])
    child = inbox.find("internal", "child")
    assert child is not None and child.status == "pending"
    assert child.correlation_id == event.correlation_id
    runs = inbox.runs_of(event.id)
    assert [r["status"] for r in runs] == ["succeeded"]


def test_replay_gives_a_fresh_budget_and_records_who(runtime: Runtime) -> None:
    inbox = runtime.inbox
    ids = [inbox.enqueue(probe_event(f"d{i}")).event_id for i in range(3)]
    for _ in ids:
        event = inbox.claim("w", 60)
        assert event is not None
        inbox.bury(event, "w", run_record(), error="bad data", category="permanent_data")
    pending = inbox.enqueue(probe_event("still-pending")).event_id
    replayed = inbox.replay([*ids[:2], pending], by="admin@host")
    assert replayed == ids[:2]  # a pending event is not replayed
    for event_id in ids[:2]:
        event = inbox.get(event_id)
        assert event is not None
        assert (event.status, event.attempts, event.replay_count, event.replayed_by) == (
            "pending",
            0,
            1,
            "admin@host",
        )
        assert event.replayed_at is not None and event.finished_at is None
    assert inbox.get(ids[2]).status == "dead"  # type: ignore[union-attr]


def test_purge_done_keeps_recent_dead_and_pending(runtime: Runtime) -> None:
    inbox = runtime.inbox
    for key in ("old", "new", "dead"):
        inbox.enqueue(probe_event(key))
    for _ in range(3):
        event = inbox.claim("w", 60)
        assert event is not None
        if event.dedupe_key == "dead":
            inbox.bury(event, "w", run_record(), error="x", category="permanent_data")
        else:
            inbox.complete(event, "w", run_record())
    inbox.enqueue(probe_event("pending"))
    cutoff = utcnow() + timedelta(seconds=1)
    assert inbox.purge_done(cutoff, dry_run=True) == 2
    assert inbox.purge_done(cutoff) == 2
    assert sorted(e.dedupe_key for e in inbox.list()) == ["dead", "pending"]


def test_listing_filters(runtime: Runtime) -> None:
    inbox = runtime.inbox
    inbox.enqueue(probe_event("a"))
    inbox.enqueue(NewEvent(source="hubspot", kind="form", flow="housekeeping", dedupe_key="b"))
    assert [e.dedupe_key for e in inbox.list(source="hubspot")] == ["b"]
    assert [e.dedupe_key for e in inbox.list(flow="probe")] == ["a"]
    assert inbox.list(since=utcnow() + timedelta(minutes=1)) == []
    assert len(inbox.list(status="pending")) == 2
    waiting = inbox.enqueue(
        NewEvent(
            source="t",
            kind="k",
            flow="probe",
            dedupe_key="waited",
            available_at=utcnow() - timedelta(minutes=5),
        )
    )
    assert waiting.created
    assert 300 <= inbox.oldest_pending_age() < 3600


@pytest.mark.parametrize("workers", [3])
def test_threads_claim_each_event_once(runtime: Runtime, workers: int) -> None:
    inbox = runtime.inbox
    for i in range(60):
        inbox.enqueue(probe_event(f"e{i}"))
    claimed: list[int] = []
    lock = threading.Lock()

    def drain(name: str) -> None:
        while (event := inbox.claim(name, 60)) is not None:
            with lock:
                claimed.append(event.id)
            inbox.complete(event, name, run_record())

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 60 and len(set(claimed)) == 60
    assert inbox.depth_by_status()["done"] == 60


def test_keys_longer_than_the_column_are_stored_once_and_found(runtime: Runtime) -> None:
    long_key = "event:" + "x" * 400
    first = runtime.inbox.enqueue(probe_event(long_key))
    again = runtime.inbox.enqueue(probe_event(long_key))
    other = runtime.inbox.enqueue(probe_event(long_key + "y"))  # same head, other key
    assert first.created and not again.created and other.created
    assert again.event_id == first.event_id != other.event_id
    found = runtime.inbox.find("testing", long_key)
    assert found is not None and found.id == first.event_id
    assert len(found.dedupe_key) <= 255


def test_sqlite_reads_do_not_wait_for_a_writer(settings_factory: Any) -> None:
    import sqlalchemy as sa

    # No busy timeout: a read that wanted the write lock would fail at once ("locked").
    runtime = Runtime(settings_factory(database={"sqlite_busy_timeout_ms": 0}))
    runtime.upgrade()
    runtime.inbox.enqueue(probe_event("r"))
    with runtime.engine.begin() as writer:  # holds SQLite's write lock (BEGIN IMMEDIATE)
        writer.execute(sa.text("UPDATE inbox_events SET attempts = attempts"))
        listed = runtime.inbox.list()
        depth = runtime.inbox.depth_by_status()
        assert runtime.cursors.get("nothing") is None
    assert [e.dedupe_key for e in listed] == ["r"]
    assert depth["pending"] == 1
    runtime.close()
