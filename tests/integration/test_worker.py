"""Workers running real flows (the shipped ``probe`` test flow and ``housekeeping``)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from naturhome_sync.flows import Flow, FlowContext, FlowResult
from naturhome_sync.runtime import Runtime
from naturhome_sync.store.inbox import NewEvent
from naturhome_sync.testing import probe_counts


def enqueue_probe(runtime: Runtime, key: str, **payload: object) -> int:
    return runtime.inbox.enqueue(
        NewEvent(source="testing", kind="probe", flow="probe", dedupe_key=key, payload=payload)
    ).event_id


def drain(runtime: Runtime, *, timeout: float = 10) -> list[str]:
    """Run a worker until nothing is due or pending; returns the outcome statuses."""
    worker = runtime.new_worker()
    statuses: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = worker.run_once()
        if outcome is not None:
            statuses.append(outcome.status)
            continue
        if runtime.inbox.depth_by_status()["pending"] == 0:
            return statuses
        time.sleep(0.01)
    raise AssertionError(f"events still pending after {timeout}s: {statuses}")


def test_success_is_recorded_with_counters(runtime: Runtime) -> None:
    event_id = enqueue_probe(runtime, "ok")
    assert drain(runtime) == ["done"]
    event = runtime.inbox.get(event_id)
    assert event is not None and event.status == "done" and event.attempts == 1
    (run,) = runtime.inbox.runs_of(event_id)
    assert run["status"] == "succeeded" and run["counters"] == {"probed": 1}
    assert run["trigger"] == "testing" and run["finished_at"] >= run["started_at"]
    assert probe_counts(runtime.engine) == {event_id: 1}


def test_transient_errors_are_retried_with_backoff_then_succeed(runtime: Runtime) -> None:
    event_id = enqueue_probe(runtime, "flaky", fail="transient", times=2)
    assert drain(runtime) == ["retry", "retry", "done"]
    runs = runtime.inbox.runs_of(event_id)
    assert [r["status"] for r in runs] == ["retrying", "retrying", "succeeded"]
    assert "probe asked to fail (transient) on attempt 1" in runs[0]["error"]
    assert probe_counts(runtime.engine) == {event_id: 1}


def test_retry_after_from_the_error_is_honoured(runtime: Runtime) -> None:
    event_id = enqueue_probe(runtime, "slow-down", fail="rate_limited", times=1, retry_after=30)
    worker = runtime.new_worker()
    outcome = worker.run_once()
    assert outcome is not None and outcome.status == "retry"
    assert outcome.category == "rate_limited" and outcome.delay_seconds == 30
    assert worker.run_once() is None  # not due for 30 s
    event = runtime.inbox.get(event_id)
    assert event is not None and event.status == "pending"


@pytest.mark.parametrize("category", ["permanent_data", "permanent_config", "auth"])
def test_permanent_errors_go_dead_at_once(runtime: Runtime, category: str) -> None:
    event_id = enqueue_probe(runtime, "bad", fail=category)
    assert drain(runtime) == ["dead"]
    event = runtime.inbox.get(event_id)
    assert event is not None and event.error_category == category and event.attempts == 1
    assert probe_counts(runtime.engine) == {}


def test_attempts_exhausted_go_dead_with_the_last_error(runtime: Runtime) -> None:
    event_id = enqueue_probe(runtime, "always", fail="internal")  # max_attempts = 3
    assert drain(runtime) == ["retry", "retry", "dead"]
    event = runtime.inbox.get(event_id)
    assert event is not None and event.status == "dead" and event.attempts == 3
    assert event.error_category == "internal"
    assert (event.last_error or "").startswith("RuntimeError: probe asked to fail")
    assert "testing.py" in (event.last_error or "")  # where it happened


def test_replayed_dead_event_runs_again_and_succeeds(runtime: Runtime) -> None:
    event_id = enqueue_probe(runtime, "fixable", fail="permanent_data", times=1)
    assert drain(runtime) == ["dead"]
    assert runtime.inbox.replay([event_id], by="admin") == [event_id]
    # attempts restart at 0, so the probe's "fail on attempt 1" fails once more...
    assert drain(runtime) == ["dead"]
    # ...which is why replay is what an admin does *after* fixing the cause:
    with runtime.engine.begin() as conn:
        from naturhome_sync.store.tables import inbox_events

        conn.execute(inbox_events.update().where(inbox_events.c.id == event_id).values(payload={}))
    runtime.inbox.replay([event_id], by="admin")
    assert drain(runtime) == ["done"]
    runs = runtime.inbox.runs_of(event_id)
    assert [r["trigger"] for r in runs] == ["testing", "replay", "replay"]


def test_unknown_flow_is_dead_with_a_config_error(runtime: Runtime) -> None:
    event_id = runtime.inbox.enqueue(
        NewEvent(source="x", kind="y", flow="no_such_flow", dedupe_key="1")
    ).event_id
    assert drain(runtime) == ["dead"]
    event = runtime.inbox.get(event_id)
    assert event is not None and event.error_category == "permanent_config"
    assert "no flow named 'no_such_flow'" in (event.last_error or "")


def test_dead_letters_and_resolutions_feed_the_mirror_flow(runtime: Runtime) -> None:
    mirrored: list[tuple[str, dict[str, object]]] = []

    def mirror(ctx: FlowContext) -> FlowResult:
        mirrored.append((ctx.event.kind, ctx.event.payload))
        return FlowResult()

    runtime.registry.add(Flow(name="error_mirror", handler=mirror, description="test"))
    runtime.registry.dead_letter_flow = "error_mirror"
    event_id = enqueue_probe(runtime, "dies", fail="permanent_data", times=1)
    drain(runtime)
    assert [kind for kind, _ in mirrored] == ["dead_letter"]
    payload = mirrored[0][1]
    assert payload["event_id"] == event_id and payload["category"] == "permanent_data"
    assert payload["flow"] == "probe" and payload["attempts"] == 1
    with runtime.engine.begin() as conn:
        from naturhome_sync.store.tables import inbox_events

        conn.execute(inbox_events.update().where(inbox_events.c.id == event_id).values(payload={}))
    runtime.inbox.replay([event_id], by="admin")
    drain(runtime)
    assert [kind for kind, _ in mirrored] == ["dead_letter", "resolved"]
    assert mirrored[1][1]["event_id"] == event_id


def test_housekeeping_through_the_inbox(runtime: Runtime) -> None:
    enqueue_probe(runtime, "recent")
    drain(runtime)
    outcome = runtime.run_flow("housekeeping")
    assert outcome.status == "done"
    assert outcome.counters == {"events_purged": 0, "job_runs_purged": 0}
    dry = runtime.dry_run("housekeeping")
    assert dry.summary is not None and dry.summary.startswith("would purge 0")


def test_worker_run_forever_wakes_on_enqueue_and_stops(settings_factory: Any) -> None:
    settings = settings_factory(worker={"poll_interval_seconds": 60})
    runtime = Runtime(settings)
    runtime.upgrade()
    worker = runtime.new_worker()
    import threading

    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    try:
        started = time.monotonic()
        event_id = enqueue_probe(runtime, "wake")
        while runtime.inbox.get(event_id).status != "done":  # type: ignore[union-attr]
            # Polling alone would take 60 s: finishing well before means the enqueue woke it.
            assert time.monotonic() - started < 30, "the enqueue did not wake the worker"
            time.sleep(0.01)
    finally:
        worker.stop()
        thread.join(timeout=5)
        runtime.close()
    assert not thread.is_alive()


def test_a_manual_run_keeps_its_lease_alive(settings_factory: Any) -> None:
    """The heartbeat pushes the lease forward while `run FLOW` works (no race with a rival
    worker: the proof is the stored expiry moving while the event runs)."""
    settings = settings_factory(worker={"lease_seconds": 1.5})
    runtime = Runtime(settings)
    runtime.upgrade()
    import threading

    outcomes = []
    thread = threading.Thread(
        target=lambda: outcomes.append(runtime.run_flow("probe", payload={"sleep": 3}))
    )
    thread.start()
    first_expiry = None
    extended = None
    deadline = time.monotonic() + 20
    while thread.is_alive() and extended is None and time.monotonic() < deadline:
        running = runtime.inbox.list(status="running")
        if running and running[0].lease_expires_at is not None:
            expiry = running[0].lease_expires_at
            if first_expiry is None:
                first_expiry = expiry
            elif expiry > first_expiry:
                extended = expiry
        time.sleep(0.05)
    thread.join()
    assert first_expiry is not None, "never saw the event running"
    assert extended is not None, "the lease was never extended while the flow ran"
    assert outcomes[0].status == "done"
    assert outcomes[0].attempts == 1
    runtime.close()


def test_the_worker_loop_survives_an_unexpected_error(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    real_claim = runtime.inbox.claim
    calls = {"n": 0}

    def flaky_claim(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug outside any flow")
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(runtime.inbox, "claim", flaky_claim)
    event_id = enqueue_probe(runtime, "after-bug")
    worker = runtime.new_worker()
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while runtime.inbox.get(event_id).status != "done":  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the worker died with the first error"
            time.sleep(0.02)
    finally:
        worker.stop()
        thread.join(timeout=5)
    assert calls["n"] >= 2


def test_an_event_whose_worker_keeps_dying_is_recorded_and_mirrored(runtime: Runtime) -> None:
    mirrored: list[dict[str, object]] = []

    def mirror(ctx: FlowContext) -> FlowResult:
        mirrored.append(ctx.event.payload)
        return FlowResult()

    runtime.registry.add(Flow(name="error_mirror", handler=mirror, description="test"))
    runtime.registry.dead_letter_flow = "error_mirror"
    event_id = enqueue_probe(runtime, "kills-workers")
    for _ in range(3):  # max_attempts = 3: three workers take it and die
        assert runtime.inbox.claim("doomed", 0.05) is not None
        time.sleep(0.1)
    drain(runtime)  # the next claim buries it, then the mirror event runs
    event = runtime.inbox.get(event_id)
    assert event is not None and event.status == "dead"
    (run,) = runtime.inbox.runs_of(event_id)
    assert (run["trigger"], run["status"], run["attempt"]) == ("lease_expired", "dead", 3)
    assert mirrored and mirrored[0]["event_id"] == event_id
    assert mirrored[0]["category"] == "internal"
    assert "lease expired after attempt 3 of 3" in str(mirrored[0]["message"])
    metrics = runtime.metrics.render().decode()
    assert 'naturhome_sync_events_dead_total{flow="probe",source="testing"} 1.0' in metrics


def test_an_older_tick_still_waiting_is_superseded_by_a_newer_one(runtime: Runtime) -> None:
    from datetime import timedelta

    from naturhome_sync.scheduler import tick_event
    from naturhome_sync.store.inbox import utcnow

    now = utcnow()
    old = runtime.inbox.enqueue(tick_event("probe", now - timedelta(minutes=10))).event_id
    time.sleep(0.01)  # received later
    new = runtime.inbox.enqueue(tick_event("probe", now)).event_id
    worker = runtime.new_worker()
    first = worker.run_once(event_id=old)
    assert first is not None and first.status == "done"
    assert first.counters == {"superseded": 1}
    second = worker.run_once(event_id=new)
    assert second is not None and second.counters == {"probed": 1}
    assert probe_counts(runtime.engine) == {new: 1}  # the flow ran once, for the newest tick


def test_housekeeping_purges_old_done_events_and_runs_and_keeps_the_rest(
    runtime: Runtime,
) -> None:
    from datetime import timedelta

    from naturhome_sync.store.inbox import utcnow
    from naturhome_sync.store.tables import inbox_events, job_runs

    old_done = enqueue_probe(runtime, "old-done")
    recent_done = enqueue_probe(runtime, "recent-done")
    old_dead = enqueue_probe(runtime, "old-dead", fail="permanent_data")
    drain(runtime)
    pending = enqueue_probe(runtime, "still-pending")
    long_ago = utcnow() - timedelta(days=400)  # past both retentions (30 and 90 days)
    with runtime.engine.begin() as conn:
        for event_id in (old_done, old_dead):
            conn.execute(
                inbox_events.update()
                .where(inbox_events.c.id == event_id)
                .values(finished_at=long_ago)
            )
        conn.execute(
            job_runs.update().where(job_runs.c.event_id == old_dead).values(started_at=long_ago)
        )
    outcome = runtime.run_flow("housekeeping")
    assert outcome.status == "done"
    assert outcome.counters == {"events_purged": 1, "job_runs_purged": 1}
    assert runtime.inbox.get(old_done) is None
    for kept in (recent_done, old_dead, pending):
        assert runtime.inbox.get(kept) is not None, kept  # dead ones wait for a person
    assert runtime.inbox.runs_of(old_dead) == []  # its run was old enough to go
    assert runtime.inbox.runs_of(recent_done)  # recent runs stay


def test_metrics_follow_every_outcome(runtime: Runtime) -> None:
    enqueue_probe(runtime, "fine")
    enqueue_probe(runtime, "flaky", fail="transient", times=1)
    enqueue_probe(runtime, "bad", fail="permanent_data")
    assert sorted(drain(runtime)) == ["dead", "done", "done", "retry"]
    text = runtime.metrics.render().decode()
    labels = 'flow="probe",source="testing"'
    assert f"naturhome_sync_events_received_total{{{labels}}} 3.0" in text
    assert f"naturhome_sync_events_processed_total{{{labels}}} 2.0" in text
    assert (
        'naturhome_sync_events_failed_total{category="transient",flow="probe",'
        'source="testing"} 1.0' in text
    )
    assert (
        'naturhome_sync_events_failed_total{category="permanent_data",flow="probe",'
        'source="testing"} 1.0' in text
    )
    assert f"naturhome_sync_events_dead_total{{{labels}}} 1.0" in text
    assert 'naturhome_sync_event_processing_seconds_count{flow="probe"} 4.0' in text
    assert 'naturhome_sync_queue_events{status="done"} 2.0' in text
    assert 'naturhome_sync_queue_events{status="dead"} 1.0' in text
