"""Workers: claim an event, run its flow, record the outcome.

The decision after an attempt is one small table (:func:`decide`): success -> done;
retryable category with attempts left -> pending again after a backoff; anything else ->
dead, with a follow-up event for the dead-letter mirror when one is registered.

Shutdown is cooperative: :meth:`Worker.stop` stops claiming; the event in hand finishes.
If it does not finish within the grace period, the caller releases its lease
(:meth:`Worker.release_current`) so another worker picks it up at once.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.exc import SQLAlchemyError

from naturhome_sync.deadletters import dead_letter_events, resolution_events
from naturhome_sync.errors import (
    RETRYABLE_CATEGORIES,
    PermanentConfigError,
    SyncError,
    category_of,
)
from naturhome_sync.flows import FlowContext, FlowResult
from naturhome_sync.logs import bound_to_event, get_logger
from naturhome_sync.retry import backoff_seconds
from naturhome_sync.store.inbox import Event, RunRecord, utcnow

if TYPE_CHECKING:
    from naturhome_sync.runtime import Runtime

log = get_logger("naturhome_sync.worker")

OutcomeStatus = Literal["done", "retry", "dead", "lost"]


@dataclass(frozen=True)
class Decision:
    status: Literal["done", "retry", "dead"]
    delay_seconds: float = 0.0


def decide(
    *,
    category: str | None,
    attempts: int,
    max_attempts: int,
    delay: float,
    age_seconds: float = 0.0,
    rate_limited_max_age_seconds: float = 48 * 3600,
) -> Decision:
    """What happens to an event after an attempt (``category`` None means it succeeded).

    Being told to slow down is not a failure of the event: a rate-limited attempt does not
    spend the attempt budget, only time (up to ``rate_limited_max_age_seconds`` after the
    event arrived), so a long API-budget stop or a daily limit does not kill the queue.
    """
    if category is None:
        return Decision("done")
    if category == "rate_limited" and age_seconds < rate_limited_max_age_seconds:
        return Decision("retry", delay)
    if category in RETRYABLE_CATEGORIES and attempts < max_attempts:
        return Decision("retry", delay)
    return Decision("dead")


@dataclass(frozen=True)
class Outcome:
    event_id: int
    flow: str
    status: OutcomeStatus
    attempts: int
    counters: dict[str, int] = field(default_factory=dict)
    summary: str | None = None
    error: str | None = None
    category: str | None = None
    delay_seconds: float = 0.0


def default_worker_name(index: int = 0) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


def trigger_of(event: Event) -> str:
    if event.replay_count:
        return "replay"
    return {"scheduler": "schedule", "cli": "manual"}.get(event.source, event.source)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, SyncError):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


class Worker:
    def __init__(self, runtime: Runtime, name: str | None = None) -> None:
        self.runtime = runtime
        self.name = name or default_worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._current: Event | None = None
        self._current_lock = threading.Lock()
        self._heartbeat_thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def busy(self) -> bool:
        return self._current is not None

    def run_forever(self) -> None:
        """Claim and process until :meth:`stop`; database outages are waited out."""
        settings = self.runtime.settings.worker
        log.info("worker started", worker=self.name)
        while not self._stop.is_set():
            try:
                outcome = self.run_once()
            except SQLAlchemyError as exc:
                log.warning("store unavailable, waiting", worker=self.name, error=str(exc))
                self._stop.wait(settings.poll_interval_seconds)
                continue
            except Exception as exc:  # a bug outside any flow: keep the worker alive
                log.error("worker loop error", worker=self.name, error=repr(exc), exc_info=exc)
                self._stop.wait(settings.poll_interval_seconds)
                continue
            if outcome is None:
                self._wake.wait(settings.poll_interval_seconds)
                self._wake.clear()
        log.info("worker stopped", worker=self.name)

    def release_current(self) -> bool:
        """Give back the event in hand (shutdown grace exceeded); True if one was released."""
        with self._current_lock:
            event = self._current
        return bool(event and self.runtime.inbox.release(event, self.name))

    def _heartbeat(self) -> None:
        lease = self.runtime.settings.worker.lease_seconds
        while not self._stop.wait(lease / 3):
            with self._current_lock:
                event = self._current
            if event is not None:
                try:
                    self.runtime.inbox.extend_lease(event.id, self.name, lease)
                except SQLAlchemyError as exc:
                    log.warning("could not extend lease", event_id=event.id, error=str(exc))

    # -- one event ---------------------------------------------------------------------------

    def _ensure_heartbeat(self) -> None:
        """One heartbeat thread per worker, started with its first event (``run`` too)."""
        if self._heartbeat_thread is None:
            self._heartbeat_thread = threading.Thread(
                target=self._heartbeat, name=f"{self.name}-heartbeat", daemon=True
            )
            self._heartbeat_thread.start()

    def run_once(self, event_id: int | None = None) -> Outcome | None:
        self._ensure_heartbeat()
        event = self.runtime.inbox.claim(
            self.name, self.runtime.settings.worker.lease_seconds, event_id=event_id
        )
        if event is None:
            return None
        with self._current_lock:
            self._current = event
        try:
            return self.process(event)
        finally:
            with self._current_lock:
                self._current = None

    def process(self, event: Event) -> Outcome:
        with bound_to_event(event.id, event.flow, event.correlation_id):
            started_at = utcnow()
            began = time.perf_counter()
            result, error = self._run_handler(event)
            elapsed = time.perf_counter() - began
            self.runtime.metrics.observe_duration(event.flow, elapsed)
            return self._record(event, started_at, elapsed, result, error)

    def _run_handler(self, event: Event) -> tuple[FlowResult, BaseException | None]:
        if event.kind == "tick" and self.runtime.inbox.newer_tick_exists(event):
            # A tick that waited (retries, an outage) while newer ones were enqueued: running
            # it would repeat the newer run's work. It is done, not dead.
            return FlowResult(
                counters={"superseded": 1}, summary="superseded by a newer tick"
            ), None
        flow = self.runtime.registry.get(event.flow)
        if flow is None:
            return FlowResult(), PermanentConfigError(
                f"no flow named {event.flow!r} is registered in this process"
            )
        try:
            result = flow.handler(FlowContext(runtime=self.runtime, event=event))
        except Exception as exc:
            return FlowResult(), exc
        return result or FlowResult(), None

    def _record(
        self,
        event: Event,
        started_at: Any,
        elapsed: float,
        result: FlowResult,
        error: BaseException | None,
    ) -> Outcome:
        inbox = self.runtime.inbox
        settings = self.runtime.settings
        category = category_of(error) if error else None
        retry_after = error.retry_after if isinstance(error, SyncError) else None
        delay = backoff_seconds(event.attempts, settings.retry, retry_after=retry_after)
        decision = decide(
            category=category,
            attempts=event.attempts,
            max_attempts=inbox.max_attempts,
            delay=delay,
            age_seconds=(utcnow() - event.received_at).total_seconds(),
            rate_limited_max_age_seconds=settings.worker.rate_limited_max_age_hours * 3600,
        )
        message = describe_error(error) if error else None
        run = RunRecord(
            flow=event.flow,
            trigger=trigger_of(event),
            attempt=event.attempts,
            worker=self.name,
            started_at=started_at,
            status={"done": "succeeded", "retry": "retrying", "dead": "dead"}[decision.status],
            counters=dict(result.counters),
            summary=result.summary,
            error=message,
        )
        metrics = self.runtime.metrics
        if decision.status == "done":
            mirror = self.runtime.registry.dead_letter_flow
            follow_ups = list(result.follow_ups) + resolution_events(mirror, event)
            kept = inbox.complete(event, self.name, run, follow_ups)
            if kept:
                metrics.processed(event.source, event.flow)
            log.info(
                "event done",
                attempts=event.attempts,
                duration_s=round(elapsed, 4),
                counters=result.counters,
                summary=result.summary,
            )
        elif decision.status == "retry":
            assert category is not None
            assert message is not None
            kept = inbox.retry_later(
                event,
                self.name,
                run,
                delay_seconds=decision.delay_seconds,
                error=message,
                category=category,
            )
            metrics.failed(event.source, event.flow, category)
            log.warning(
                "event failed, will retry",
                attempts=event.attempts,
                category=category,
                error=message,
                retry_in_s=round(decision.delay_seconds, 1),
            )
        else:
            assert category is not None
            assert message is not None
            kept = inbox.bury(
                event,
                self.name,
                run,
                error=message,
                category=category,
                follow_ups=dead_letter_events(
                    self.runtime.registry.dead_letter_flow,
                    event,
                    category=category,
                    message=message,
                    error=error,
                ),
            )
            metrics.failed(event.source, event.flow, category)
            if kept:
                metrics.dead(event.source, event.flow)
            log.error("event dead", attempts=event.attempts, category=category, error=message)
        if not kept:
            log.warning("lease lost before the outcome was recorded; another worker owns it")
        return Outcome(
            event_id=event.id,
            flow=event.flow,
            status=decision.status if kept else "lost",
            attempts=event.attempts,
            counters=dict(result.counters),
            summary=result.summary,
            error=message,
            category=category,
            delay_seconds=decision.delay_seconds,
        )
