"""Test helpers shipped with the code: the ``probe`` flow and its enqueue route.

Enable with ``NATURHOME_PLUGINS=naturhome_sync.testing``. The probe records each successful
processing in a ``probe_log`` table of the same store, so a test (or an operator checking a
deployment) can prove that N events were processed exactly once, by any number of worker
processes. Its payload steers it:

- ``{"sleep": 2.5}`` sleeps before recording (to be killed mid-event);
- ``{"fail": "transient", "times": 2}`` raises that category on the first ``times``
  attempts (``transient``, ``rate_limited``, ``auth``, ``permanent_data``,
  ``permanent_config``, ``internal``), ``"times": -1`` on every attempt;
- ``{"retry_after": 0.2}`` is the delay a rate-limited failure asks for.

``POST /testing/events`` with ``{"key": ..., "payload": {...}}`` enqueues one probe event
through the same store-then-acknowledge path as the real webhooks.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from naturhome_sync import errors
from naturhome_sync.flows import Flow, FlowContext, FlowRegistry, FlowResult
from naturhome_sync.store.inbox import NewEvent, utcnow
from naturhome_sync.store.tables import BigId, UTCDateTime
from naturhome_sync.webhooks import store_and_acknowledge

if TYPE_CHECKING:
    from naturhome_sync.runtime import Runtime
    from naturhome_sync.settings import Settings

probe_metadata = sa.MetaData()
probe_log = sa.Table(
    "probe_log",
    probe_metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", BigId, nullable=False),
    sa.Column("worker", sa.String(128)),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

_FAILURES: dict[str, type[errors.SyncError]] = {
    "transient": errors.TransientError,
    "rate_limited": errors.RateLimitedError,
    "auth": errors.AuthError,
    "permanent_data": errors.PermanentDataError,
    "permanent_config": errors.PermanentConfigError,
}
_created: set[str] = set()
_created_lock = threading.Lock()


def ensure_probe_table(engine: sa.Engine) -> None:
    key = engine.url.render_as_string(hide_password=True) + str(engine.dialect.default_schema_name)
    with _created_lock:
        if key not in _created:
            probe_metadata.create_all(engine, checkfirst=True)
            _created.add(key)


def probe_counts(engine: sa.Engine) -> dict[int, int]:
    """event id -> how many times the probe recorded it."""
    ensure_probe_table(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(probe_log.c.event_id, sa.func.count()).group_by(probe_log.c.event_id)
        ).all()
    return {int(row[0]): int(row[1]) for row in rows}


def probe(ctx: FlowContext) -> FlowResult:
    payload: dict[str, Any] = ctx.event.payload
    if payload.get("sleep"):
        time.sleep(float(payload["sleep"]))
    failure = payload.get("fail")
    times = int(payload.get("times", -1))
    if failure and (times < 0 or ctx.event.attempts <= times):
        message = f"probe asked to fail ({failure}) on attempt {ctx.event.attempts}"
        if failure == "internal":
            raise RuntimeError(message)
        raise _FAILURES[failure](message, retry_after=payload.get("retry_after"))
    if ctx.dry_run:
        return FlowResult(counters={"probed": 0}, summary="dry run")
    engine = ctx.runtime.engine
    ensure_probe_table(engine)
    with engine.begin() as conn:
        conn.execute(
            probe_log.insert().values(
                event_id=ctx.event.id,
                worker=ctx.event.lease_owner,
                attempt=ctx.event.attempts,
                at=utcnow(),
            )
        )
    return FlowResult(counters={"probed": 1}, summary=f"probed event {ctx.event.id}")


class ProbeRequest(BaseModel):
    key: str = Field(min_length=1, max_length=255)
    payload: dict[str, Any] = Field(default_factory=dict)


def probe_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.post("/testing/events")
    def enqueue_probe(request: ProbeRequest) -> JSONResponse:
        event = NewEvent(
            source="testing",
            kind="probe",
            flow="probe",
            dedupe_key=request.key,
            payload=request.payload,
        )
        return store_and_acknowledge(runtime, [event], status_code=202)

    return router


def register(registry: FlowRegistry, _settings: Settings) -> None:
    registry.add(Flow(name="probe", handler=probe, description="test flow: records each run"))
    registry.add_router(probe_router)
