"""Inbox throughput: events enqueued and processed per second, next to plain inserts.

For each store (SQLite always; PostgreSQL when a URL is given) the same run measures:

- baseline: plain single-row INSERT transactions into a table of the inbox's shape, without
  the dedupe constraint or the queue logic: what the database itself can do here;
- enqueue: ``Inbox.enqueue`` (idempotent insert + listeners), one transaction each, as the
  webhook handler does;
- process: claim + run a no-op flow + complete (with its job run), by one worker on SQLite
  and by four worker threads on PostgreSQL (SKIP LOCKED).

Ratios against the baseline are what to compare across machines.
"""

from __future__ import annotations

import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.harness import Result, Row, Timer
from naturhome_sync.flows import Flow, FlowRegistry, FlowResult
from naturhome_sync.runtime import Runtime
from naturhome_sync.settings import load_settings
from naturhome_sync.store.inbox import NewEvent, utcnow
from naturhome_sync.store.tables import inbox_events

#: The inbox's columns, without its constraints and indexes: a plain table of the same shape.
BASELINE = sa.Table(
    "bench_baseline_events",
    sa.MetaData(),
    *(
        sa.Column(
            column.name,
            column.type,
            primary_key=column.primary_key,
            nullable=column.nullable,
            server_default=column.server_default,
        )
        for column in inbox_events.columns
    ),
)

PAYLOAD = {"conversion_id": "c0ffee", "values": [{"name": "email", "value": "a@b.be"}] * 8}


def _registry() -> FlowRegistry:
    registry = FlowRegistry()
    registry.add(Flow(name="noop", handler=lambda ctx: FlowResult(), description="benchmark"))
    return registry


def _baseline(runtime: Runtime, n: int, *, prefix: str) -> float:
    BASELINE.metadata.create_all(runtime.engine)
    statement = BASELINE.insert()  # built once, like the inbox's own statements
    with Timer() as timer:
        for i in range(n):
            now = utcnow()
            with runtime.engine.begin() as conn:
                conn.execute(
                    statement,
                    {
                        "source": "bench",
                        "kind": "k",
                        "flow": "noop",
                        "dedupe_key": f"{prefix}{i}",
                        "payload": PAYLOAD,
                        "status": "pending",
                        "attempts": 0,
                        "received_at": now,
                        "available_at": now,
                        "correlation_id": uuid.uuid4().hex,
                    },
                )
    return n / timer.seconds


def _enqueue(runtime: Runtime, n: int) -> float:
    with Timer() as timer:
        for i in range(n):
            runtime.inbox.enqueue(
                NewEvent(source="bench", kind="k", flow="noop", dedupe_key=f"e{i}", payload=PAYLOAD)
            )
    return n / timer.seconds


def _process(runtime: Runtime, n: int, threads: int) -> float:
    def drain() -> None:
        worker = runtime.new_worker(len(runtime.workers))
        while worker.run_once() is not None:
            pass

    with Timer() as timer:
        pool = [threading.Thread(target=drain) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    done = runtime.inbox.depth_by_status()["done"]
    assert done == n, f"expected {n} done, got {done}"
    return n / timer.seconds


def _measure(case: str, url: str, n: int, threads: int) -> list[Row]:
    settings = load_settings(
        database={"url": url},
        log={"level": "WARNING"},
        schedules_file=Path(tempfile.gettempdir()) / "no-schedules.yaml",  # noop flow only
    )
    runtime = Runtime(settings, registry=_registry())
    try:
        runtime.upgrade()
        # The baseline runs before and after the inbox figures and the better run counts,
        # so a warming cache or a noisy neighbour does not flatter either side.
        first = _baseline(runtime, n, prefix="b1-")
        enqueue = _enqueue(runtime, n)
        process = _process(runtime, n, threads)
        baseline = max(first, _baseline(runtime, n, prefix="b2-"))
    finally:
        runtime.close()
    return [
        Row(case, "plain inserts", baseline, "rows/s", note="baseline"),
        Row(case, "enqueue", enqueue, "events/s", baseline),
        Row(
            case,
            f"process ({threads} worker{'s' if threads > 1 else ''})",
            process,
            "events/s",
            baseline,
        ),
    ]


def _postgres_schema_url(base: str) -> tuple[str, Any]:
    from urllib.parse import quote

    from naturhome_sync.store.db import normalise_url

    base = normalise_url(base)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", drop


def run(options: dict[str, Any]) -> Result:
    n = int(options.get("events", 2000))
    result = Result(
        name="inbox_throughput",
        description=__doc__.strip().splitlines()[0] if __doc__ else "",
        params={"events": n},
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        result.rows += _measure("sqlite", url, n, threads=1)
    pg = options.get("postgres_url")
    if pg:
        url, drop = _postgres_schema_url(pg)
        try:
            result.rows += _measure("postgresql", url, n, threads=4)
        finally:
            drop()
    else:
        result.params["postgresql"] = "skipped: set NATURHOME_BENCH_DATABASE_URL"
    return result
