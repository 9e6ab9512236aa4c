"""The runtime as deployed: separate processes, concurrent HTTP, crashes, two schedulers.

These start real ``naturhome-sync`` processes (api, worker, serve, scheduler) against the
store and check the guarantees of DESIGN.md §4 from the outside.
"""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from naturhome_sync.runtime import Runtime
from naturhome_sync.settings import load_settings
from naturhome_sync.store import NewEvent
from naturhome_sync.store.tables import inbox_events
from naturhome_sync.testing import probe_counts

pytestmark = pytest.mark.slow


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_http(url: str, proc: Any, processes: Any) -> None:
    def up() -> bool:
        assert proc.poll() is None, processes.output(proc)
        try:
            return requests.get(f"{url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(up, 30, f"{url} to answer")


def runtime_for(env_file: Any) -> Runtime:
    return Runtime(load_settings(env_file))


def post_events(url: str, keys: list[str]) -> list[int]:
    session = requests.Session()

    def post(key: str) -> int:
        response = session.post(f"{url}/testing/events", json={"key": key}, timeout=30)
        assert response.status_code == 202, response.text
        return int(response.json()["event_ids"][0])

    with ThreadPoolExecutor(max_workers=12) as pool:
        return list(pool.map(post, keys))


def count_by_status(runtime: Runtime) -> dict[str, int]:
    return runtime.inbox.depth_by_status()


def assert_each_processed_once(runtime: Runtime, ids: set[int], total: int) -> None:
    counts = probe_counts(runtime.engine)
    assert len(ids) == total
    assert set(counts) == ids
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}


@pytest.mark.postgres
def test_postgres_four_worker_processes_process_2000_events_once(
    postgres_url: str, processes: Any
) -> None:
    port = processes.free_port()
    env = processes.env_file(postgres_url, http__port=str(port))
    runtime = runtime_for(env)
    runtime.upgrade()
    api = processes.start(env, "api")
    url = f"http://127.0.0.1:{port}"
    wait_http(url, api, processes)
    workers = [processes.start(env, "worker") for _ in range(4)]
    keys = [f"e{i}" for i in range(2000)]
    ids = post_events(url, keys + keys[:200])  # 200 duplicate deliveries on the way
    unique = set(ids)
    wait_until(lambda: count_by_status(runtime)["done"] >= 2000, 180, "2000 events done")
    assert count_by_status(runtime) == {"pending": 0, "running": 0, "done": 2000, "dead": 0}
    assert_each_processed_once(runtime, unique, 2000)
    with runtime.engine.connect() as conn:
        owners = conn.execute(sa.text("SELECT count(DISTINCT worker) FROM probe_log")).scalar()
    assert owners == 4, "every worker process took a share"
    for proc in [api, *workers]:
        proc.send_signal(signal.SIGTERM)
    for proc in [api, *workers]:
        assert proc.wait(timeout=30) == 0, processes.output(proc)
    runtime.close()


def test_sqlite_serve_with_its_one_worker_under_concurrent_http(
    tmp_path: Any, processes: Any
) -> None:
    port = processes.free_port()
    env = processes.env_file(f"sqlite:///{tmp_path / 'state' / 'serve.db'}", http__port=str(port))
    serve = processes.start(env, "serve")
    url = f"http://127.0.0.1:{port}"
    wait_http(url, serve, processes)
    runtime = runtime_for(env)
    keys = [f"s{i}" for i in range(2000)]
    ids = post_events(url, keys + keys[:100])
    wait_until(lambda: count_by_status(runtime)["done"] >= 2000, 180, "2000 events done")
    assert count_by_status(runtime) == {"pending": 0, "running": 0, "done": 2000, "dead": 0}
    assert_each_processed_once(runtime, set(ids), 2000)
    output = processes.output(serve)
    assert "database is locked" not in output
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=30) == 0, output
    runtime.close()


def test_worker_killed_mid_event_the_event_is_done_exactly_once_afterwards(
    database_url: str, processes: Any
) -> None:
    env = processes.env_file(database_url, worker__lease_seconds="1")
    runtime = runtime_for(env)
    runtime.upgrade()
    event_id = runtime.inbox.enqueue(
        NewEvent(
            source="testing",
            kind="probe",
            flow="probe",
            dedupe_key="crash",
            payload={"sleep": 60},  # the first worker never finishes it
        )
    ).event_id
    doomed = processes.start(env, "worker")
    wait_until(
        lambda: runtime.inbox.get(event_id).status == "running",  # type: ignore[union-attr]
        30,
        "the first worker to take the event",
    )
    first = runtime.inbox.get(event_id)
    assert first is not None and first.lease_expires_at is not None
    wait_until(  # its heartbeat keeps pushing the 1 s lease forward while it works
        lambda: runtime.inbox.get(event_id).lease_expires_at > first.lease_expires_at,  # type: ignore[union-attr,operator]
        30,
        "the heartbeat to extend the lease",
    )
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    with runtime.engine.begin() as conn:  # the survivor need not sleep a minute too
        conn.execute(inbox_events.update().where(inbox_events.c.id == event_id).values(payload={}))
    survivor = processes.start(env, "worker")
    wait_until(
        lambda: runtime.inbox.get(event_id).status == "done",  # type: ignore[union-attr]
        30,
        "the second worker to finish the event",
    )
    event = runtime.inbox.get(event_id)
    assert event is not None and event.attempts == 2
    assert probe_counts(runtime.engine) == {event_id: 1}
    runs = runtime.inbox.runs_of(event_id)
    assert [r["status"] for r in runs] == ["succeeded"]  # the killed attempt left no run
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(timeout=30) == 0
    runtime.close()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_lets_the_event_in_hand_finish(
    database_url: str, processes: Any, stop_signal: signal.Signals
) -> None:
    env = processes.env_file(database_url)
    runtime = runtime_for(env)
    runtime.upgrade()
    event_id = runtime.inbox.enqueue(
        NewEvent(
            source="testing", kind="probe", flow="probe", dedupe_key="slow", payload={"sleep": 1}
        )
    ).event_id
    worker = processes.start(env, "worker")
    wait_until(
        lambda: runtime.inbox.get(event_id).status == "running",  # type: ignore[union-attr]
        30,
        "the worker to take the event",
    )
    worker.send_signal(stop_signal)
    assert worker.wait(timeout=30) == 0
    assert runtime.inbox.get(event_id).status == "done"  # type: ignore[union-attr]
    runtime.close()


def test_sigterm_past_the_grace_period_releases_the_lease(
    database_url: str, processes: Any
) -> None:
    env = processes.env_file(database_url, worker__shutdown_grace_seconds="0.3")
    runtime = runtime_for(env)
    runtime.upgrade()
    event_id = runtime.inbox.enqueue(
        NewEvent(
            source="testing", kind="probe", flow="probe", dedupe_key="slower", payload={"sleep": 20}
        )
    ).event_id
    worker = processes.start(env, "worker")
    wait_until(
        lambda: runtime.inbox.get(event_id).status == "running",  # type: ignore[union-attr]
        30,
        "the worker to take the event",
    )
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    assert time.monotonic() - started < 10
    event = runtime.inbox.get(event_id)
    assert event is not None
    assert (event.status, event.attempts, event.lease_owner) == ("pending", 0, None)
    assert "released an unfinished event" in processes.output(worker)
    runtime.close()


def test_two_scheduler_processes_enqueue_each_tick_once(database_url: str, processes: Any) -> None:
    env = processes.env_file(database_url, schedules__probe="every 1s")
    runtime = runtime_for(env)
    runtime.upgrade()
    schedulers = [processes.start(env, "scheduler") for _ in range(2)]

    def ticks() -> int:
        return len(runtime.inbox.list(source="scheduler", limit=None))

    wait_until(lambda: ticks() >= 4, 60, "four ticks from the two schedulers")
    for proc in schedulers:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, processes.output(proc)
    with runtime.engine.connect() as conn:
        keys = (
            conn.execute(
                sa.select(inbox_events.c.dedupe_key).where(inbox_events.c.source == "scheduler")
            )
            .scalars()
            .all()
        )
    assert len(keys) >= 3
    assert all(k.startswith("probe@") and k.endswith("Z") for k in keys)
    logs = [processes.output(p) for p in schedulers]
    enqueued = [
        json.loads(line)
        for text in logs
        for line in text.splitlines()
        if line.startswith("{") and "tick" in line
    ]
    new = [e for e in enqueued if e["event"] == "tick enqueued"]
    duplicate = [e for e in enqueued if e["event"] == "tick already enqueued"]
    assert len(new) == len(keys)
    assert duplicate, "both schedulers fired; the second insert of each tick was a duplicate"
    assert {e["scheduled_at"] for e in duplicate} <= {e["scheduled_at"] for e in new}
    runtime.close()
