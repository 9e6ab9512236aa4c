"""The inbox: every unit of work is a row here before anything else happens.

Semantics (DESIGN.md §4):

- :meth:`Inbox.enqueue` is idempotent on ``(source, dedupe_key)``: a second delivery of the
  same thing is stored once and reported as a duplicate.
- :meth:`Inbox.claim` hands one due event to one worker under a lease. PostgreSQL uses
  ``FOR UPDATE SKIP LOCKED`` so any number of workers on any number of machines never take
  the same row; SQLite serialises writers with ``BEGIN IMMEDIATE`` (one worker process).
  A ``running`` event whose lease expired (its worker died) is claimable again.
- A finished attempt ends in :meth:`complete` (done), :meth:`retry_later` (pending again,
  later) or :meth:`bury` (dead). Each takes the lease owner: a worker that lost its lease
  cannot overwrite what the new owner did. Each also records the job run and may enqueue
  follow-up events in the same transaction, so a step and its consequences commit together.
- :meth:`replay` gives dead (or done) events a fresh attempt budget and records who asked.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

from naturhome_sync.store.db import reading
from naturhome_sync.store.tables import inbox_events, job_runs

EventStatus = Literal["pending", "running", "done", "dead"]


def utcnow() -> datetime:
    return datetime.now(UTC)


#: ``inbox_events.dedupe_key`` holds 255 characters; longer keys keep a readable head and
#: a hash of the whole, so they stay unique (a refused insert would 503 the sender forever).
_KEY_LIMIT = 255


def stored_key(dedupe_key: str) -> str:
    if len(dedupe_key) <= _KEY_LIMIT:
        return dedupe_key
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()
    return f"{dedupe_key[:180]}...#sha256:{digest}"


@dataclass(frozen=True)
class NewEvent:
    """An event to store. ``dedupe_key`` must identify the delivery within its source."""

    source: str
    kind: str
    flow: str
    dedupe_key: str
    payload: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    available_at: datetime | None = None


@dataclass(frozen=True)
class Event:
    id: int
    source: str
    kind: str
    flow: str
    dedupe_key: str
    payload: dict[str, Any]
    status: EventStatus
    attempts: int
    received_at: datetime
    available_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_error: str | None
    error_category: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    correlation_id: str
    replay_count: int
    replayed_at: datetime | None
    replayed_by: str | None

    @classmethod
    def from_row(cls, row: sa.Row[Any]) -> Event:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class EnqueueResult:
    event_id: int
    created: bool
    correlation_id: str


@dataclass(frozen=True)
class RunRecord:
    """What one attempt did, stored in ``job_runs`` with the event's new status."""

    flow: str
    trigger: str
    attempt: int
    worker: str
    started_at: datetime
    status: str
    counters: dict[str, Any] = field(default_factory=dict)
    summary: str | None = None
    error: str | None = None


EnqueueListener = Callable[[EnqueueResult, NewEvent], None]

# The hot statements are built once, with bound parameters: building and keying a fresh
# statement per event cost more than the database work itself (see benchmarks/).
_DUE = sa.or_(
    sa.and_(inbox_events.c.status == "pending", inbox_events.c.available_at <= sa.bindparam("now")),
    sa.and_(
        inbox_events.c.status == "running", inbox_events.c.lease_expires_at < sa.bindparam("now")
    ),
)
_CLAIM_ONE = (
    sa.select(inbox_events.c.id, inbox_events.c.status, inbox_events.c.attempts)
    .where(_DUE)
    .order_by(inbox_events.c.available_at, inbox_events.c.id)
    .limit(1)
    .with_for_update(skip_locked=True)
)
_CLAIM_ID = _CLAIM_ONE.where(inbox_events.c.id == sa.bindparam("event_id"))
_TAKE = (
    inbox_events.update()
    .where(inbox_events.c.id == sa.bindparam("event_id"))
    .values(
        status="running",
        attempts=inbox_events.c.attempts + 1,
        lease_owner=sa.bindparam("owner"),
        lease_expires_at=sa.bindparam("expires"),
        started_at=sa.bindparam("now"),
    )
    .returning(*inbox_events.c)
)


_FIND = sa.select(inbox_events.c.id, inbox_events.c.correlation_id).where(
    inbox_events.c.source == sa.bindparam("source"),
    inbox_events.c.dedupe_key == sa.bindparam("dedupe_key"),
)


@functools.cache
def _insert_statement(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(inbox_events)
        .on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
        .returning(inbox_events.c.id)
    )


@functools.cache
def _finish_statement(columns: tuple[str, ...]) -> sa.Update:
    """The outcome update for one set of columns (done, retry and dead each have theirs)."""
    return (
        inbox_events.update()
        .where(
            inbox_events.c.id == sa.bindparam("event_id"),
            inbox_events.c.status == "running",
            inbox_events.c.lease_owner == sa.bindparam("owner"),
        )
        .values(
            lease_owner=None,
            lease_expires_at=None,
            **{name: sa.bindparam(f"v_{name}") for name in columns},
        )
    )


class Inbox:
    """Port over the ``inbox_events`` table; the same code runs on SQLite and PostgreSQL."""

    def __init__(self, engine: Engine, *, max_attempts: int = 8) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        self._listeners: list[EnqueueListener] = []
        #: Follow-ups of an event buried because its worker kept dying (set by the runtime:
        #: the dead-letter mirror's event); called inside the burying transaction.
        self.on_abandoned: Callable[[Event], list[NewEvent]] | None = None

    def add_listener(self, listener: EnqueueListener) -> None:
        """Call ``listener`` after each committed enqueue (metrics, waking the worker)."""
        self._listeners.append(listener)

    # -- writing ---------------------------------------------------------------------------

    def enqueue(self, event: NewEvent) -> EnqueueResult:
        with self.engine.begin() as conn:
            result = self._insert(conn, event, utcnow())
        self._notify([(result, event)])
        return result

    def enqueue_many(self, events: Sequence[NewEvent]) -> list[EnqueueResult]:
        """Store several events in one transaction (an app-webhook batch): all or none."""
        now = utcnow()
        with self.engine.begin() as conn:
            results = [self._insert(conn, event, now) for event in events]
        self._notify(list(zip(results, events, strict=True)))
        return results

    def _insert(self, conn: Connection, event: NewEvent, now: datetime) -> EnqueueResult:
        correlation_id = event.correlation_id or uuid.uuid4().hex
        values = {
            "source": event.source,
            "kind": event.kind,
            "flow": event.flow,
            "dedupe_key": stored_key(event.dedupe_key),
            "payload": event.payload,
            "status": "pending",
            "attempts": 0,
            "received_at": now,
            "available_at": event.available_at or now,
            "correlation_id": correlation_id,
            "replay_count": 0,
        }
        new_id = conn.execute(_insert_statement(conn.dialect.name), values).scalar()
        if new_id is not None:
            return EnqueueResult(int(new_id), True, correlation_id)
        existing = conn.execute(
            _FIND, {"source": event.source, "dedupe_key": stored_key(event.dedupe_key)}
        ).one()
        return EnqueueResult(int(existing.id), False, existing.correlation_id)

    def claim(
        self, owner: str, lease_seconds: float, *, event_id: int | None = None
    ) -> Event | None:
        """Take the oldest due event (or ``event_id``) under a lease, or None if none is due.

        A ``running`` event whose lease expired is due again: its worker died. If it has
        already used its whole attempt budget it is buried instead of handed out, so a
        poison event that kills workers cannot kill them forever.
        """
        query = _CLAIM_ONE if event_id is None else _CLAIM_ID
        while True:
            now = utcnow()
            with self.engine.begin() as conn:
                candidate = conn.execute(query, {"now": now, "event_id": event_id}).first()
                if candidate is None:
                    return None
                if candidate.status != "running" or candidate.attempts < self.max_attempts:
                    row = conn.execute(
                        _TAKE,
                        {
                            "event_id": candidate.id,
                            "owner": owner,
                            "expires": now + timedelta(seconds=lease_seconds),
                            "now": now,
                        },
                    ).one()
                    return Event.from_row(row)
                enqueued = self._bury_abandoned(conn, candidate.id, now)
            self._notify(enqueued)

    def _bury_abandoned(
        self, conn: Connection, event_id: int, now: datetime
    ) -> list[tuple[EnqueueResult, NewEvent]]:
        """Dead after its worker died once too often: recorded, reported, mirrored like any."""
        row = conn.execute(
            inbox_events.update()
            .where(inbox_events.c.id == event_id)
            .values(
                status="dead",
                finished_at=now,
                lease_owner=None,
                lease_expires_at=None,
                error_category="internal",
                last_error=sa.literal("lease expired after attempt ")
                + sa.cast(inbox_events.c.attempts, sa.String)
                + f" of {self.max_attempts}: the worker handling it stopped",
            )
            .returning(*inbox_events.c)
        ).one()
        buried = Event.from_row(row)
        conn.execute(
            job_runs.insert(),
            {
                "event_id": buried.id,
                "flow": buried.flow,
                "trigger": "lease_expired",
                "attempt": buried.attempts,
                "worker": None,
                "started_at": buried.started_at or now,
                "finished_at": now,
                "status": "dead",
                "counters": {},
                "summary": None,
                "error": buried.last_error,
            },
        )
        follow_ups = self.on_abandoned(buried) if self.on_abandoned else []
        return [(self._insert(conn, follow_up, now), follow_up) for follow_up in follow_ups]

    def _notify(self, enqueued: Sequence[tuple[EnqueueResult, NewEvent]]) -> None:
        for result, event in enqueued:
            for listener in self._listeners:
                listener(result, event)

    def extend_lease(self, event_id: int, owner: str, lease_seconds: float) -> bool:
        with self.engine.begin() as conn:
            updated = conn.execute(
                inbox_events.update()
                .where(
                    inbox_events.c.id == event_id,
                    inbox_events.c.status == "running",
                    inbox_events.c.lease_owner == owner,
                )
                .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
            )
        return updated.rowcount == 1

    def complete(
        self, event: Event, owner: str, run: RunRecord, follow_ups: Iterable[NewEvent] = ()
    ) -> bool:
        """Mark done (if we still hold the lease), record the run, enqueue follow-ups."""
        return self._finish(
            event,
            owner,
            run,
            {"status": "done", "finished_at": utcnow(), "last_error": None, "error_category": None},
            follow_ups,
        )

    def retry_later(
        self,
        event: Event,
        owner: str,
        run: RunRecord,
        *,
        delay_seconds: float,
        error: str,
        category: str,
    ) -> bool:
        values = {
            "status": "pending",
            "available_at": utcnow() + timedelta(seconds=delay_seconds),
            "last_error": error,
            "error_category": category,
        }
        return self._finish(event, owner, run, values, ())

    def bury(
        self,
        event: Event,
        owner: str,
        run: RunRecord,
        *,
        error: str,
        category: str,
        follow_ups: Iterable[NewEvent] = (),
    ) -> bool:
        values = {
            "status": "dead",
            "finished_at": utcnow(),
            "last_error": error,
            "error_category": category,
        }
        return self._finish(event, owner, run, values, follow_ups)

    def release(self, event: Event, owner: str) -> bool:
        """Give an event back untouched (graceful shutdown): the attempt does not count."""
        with self.engine.begin() as conn:
            updated = conn.execute(
                inbox_events.update()
                .where(
                    inbox_events.c.id == event.id,
                    inbox_events.c.status == "running",
                    inbox_events.c.lease_owner == owner,
                )
                .values(
                    status="pending",
                    attempts=inbox_events.c.attempts - 1,
                    lease_owner=None,
                    lease_expires_at=None,
                    available_at=utcnow(),
                )
            )
        return updated.rowcount == 1

    def _finish(
        self,
        event: Event,
        owner: str,
        run: RunRecord,
        values: dict[str, Any],
        follow_ups: Iterable[NewEvent],
    ) -> bool:
        now = utcnow()
        follow_ups = list(follow_ups)
        with self.engine.begin() as conn:
            updated = conn.execute(
                _finish_statement(tuple(sorted(values))),
                {"event_id": event.id, "owner": owner, **{f"v_{k}": v for k, v in values.items()}},
            )
            if updated.rowcount != 1:
                # Our lease expired and someone else owns the event now: their word wins.
                return False
            conn.execute(
                job_runs.insert(),
                {
                    "event_id": event.id,
                    "flow": run.flow,
                    "trigger": run.trigger,
                    "attempt": run.attempt,
                    "worker": run.worker,
                    "started_at": run.started_at,
                    "finished_at": now,
                    "status": run.status,
                    "counters": run.counters,
                    "summary": run.summary,
                    "error": run.error,
                },
            )
            results = [self._insert(conn, follow_up, now) for follow_up in follow_ups]
        self._notify(list(zip(results, follow_ups, strict=True)))
        return True

    def replay(
        self,
        event_ids: Sequence[int],
        *,
        by: str,
        statuses: Sequence[str] = ("dead", "done"),
    ) -> list[int]:
        """Re-queue finished events with a fresh attempt budget; returns the ids re-queued."""
        if not event_ids:
            return []
        now = utcnow()
        with self.engine.begin() as conn:
            rows = conn.execute(
                inbox_events.update()
                .where(
                    inbox_events.c.id.in_(list(event_ids)),
                    inbox_events.c.status.in_(list(statuses)),
                )
                .values(
                    status="pending",
                    attempts=0,
                    available_at=now,
                    finished_at=None,
                    replay_count=inbox_events.c.replay_count + 1,
                    replayed_at=now,
                    replayed_by=by,
                )
                .returning(inbox_events.c.id)
            ).all()
        return sorted(int(row.id) for row in rows)

    def purge_done(self, older_than: datetime, *, dry_run: bool = False) -> int:
        """Delete done events finished before ``older_than`` (their job runs keep a NULL).

        With ``dry_run`` only count them.
        """
        condition = sa.and_(
            inbox_events.c.status == "done", inbox_events.c.finished_at < older_than
        )
        with self.engine.begin() as conn:
            if dry_run:
                count = conn.execute(
                    sa.select(sa.func.count()).select_from(inbox_events).where(condition)
                ).scalar()
                return int(count or 0)
            return int(conn.execute(inbox_events.delete().where(condition)).rowcount)

    # -- reading ---------------------------------------------------------------------------

    def get(self, event_id: int) -> Event | None:
        with reading(self.engine) as conn:
            row = conn.execute(sa.select(inbox_events).where(inbox_events.c.id == event_id)).first()
        return Event.from_row(row) if row else None

    def find(self, source: str, dedupe_key: str) -> Event | None:
        with reading(self.engine) as conn:
            row = conn.execute(
                sa.select(inbox_events).where(
                    inbox_events.c.source == source,
                    inbox_events.c.dedupe_key == stored_key(dedupe_key),
                )
            ).first()
        return Event.from_row(row) if row else None

    def newer_tick_exists(self, event: Event) -> bool:
        """Is there a later scheduler tick of the same flow than ``event``?"""
        with reading(self.engine) as conn:
            newer = conn.execute(
                sa.select(inbox_events.c.id)
                .where(
                    inbox_events.c.source == event.source,
                    inbox_events.c.kind == "tick",
                    inbox_events.c.flow == event.flow,
                    inbox_events.c.id > event.id,
                    inbox_events.c.received_at > event.received_at,
                )
                .limit(1)
            ).first()
        return newer is not None

    def runs_of(self, event_id: int) -> list[dict[str, Any]]:
        with reading(self.engine) as conn:
            rows = conn.execute(
                sa.select(job_runs).where(job_runs.c.event_id == event_id).order_by(job_runs.c.id)
            ).mappings()
            return [dict(row) for row in rows]

    def depth_by_status(self) -> dict[str, int]:
        with reading(self.engine) as conn:
            rows = conn.execute(
                sa.select(inbox_events.c.status, sa.func.count()).group_by(inbox_events.c.status)
            ).all()
        counts = dict.fromkeys(("pending", "running", "done", "dead"), 0)
        counts.update({row[0]: int(row[1]) for row in rows})
        return counts

    def oldest_pending_age(self, now: datetime | None = None) -> float:
        """Seconds since the oldest due pending event became due (0 when none waits)."""
        now = now or utcnow()
        with reading(self.engine) as conn:
            oldest = conn.execute(
                sa.select(sa.func.min(inbox_events.c.available_at)).where(
                    inbox_events.c.status == "pending", inbox_events.c.available_at <= now
                )
            ).scalar()
        if oldest is None:
            return 0.0
        if oldest.tzinfo is None:  # aggregate results bypass the column type on SQLite
            oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)
        return max(0.0, (now - oldest).total_seconds())

    # Defined last: inside the class body, the name ``list`` shadows the builtin below it.
    def list(
        self,
        *,
        status: str | None = None,
        source: str | None = None,
        flow: str | None = None,
        since: datetime | None = None,
        limit: int | None = 100,
    ) -> list[Event]:
        query = sa.select(inbox_events).order_by(inbox_events.c.id.desc())
        if status:
            query = query.where(inbox_events.c.status == status)
        if source:
            query = query.where(inbox_events.c.source == source)
        if flow:
            query = query.where(inbox_events.c.flow == flow)
        if since:
            query = query.where(inbox_events.c.received_at >= since)
        if limit:
            query = query.limit(limit)
        with reading(self.engine) as conn:
            return [Event.from_row(row) for row in conn.execute(query)]
