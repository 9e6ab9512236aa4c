"""The runtime of one process: settings, store, flows, connectors and metrics, wired once.

Every entry point (``serve``, ``worker``, ``run``, ``demo``, the tests) builds a
:class:`Runtime` from settings and asks it for what it needs: a worker, the scheduler, the
HTTP app. Connectors are built lazily by :class:`Services` the first time a flow asks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from naturhome_sync.deadletters import dead_letter_events
from naturhome_sync.errors import ConfigurationError, PermanentConfigError, TransientError
from naturhome_sync.flows import FlowContext, FlowRegistry, FlowResult, load_plugins
from naturhome_sync.logs import get_logger
from naturhome_sync.metrics import Metrics
from naturhome_sync.settings import Settings
from naturhome_sync.store import Inbox, NewEvent, SchemaState, create_db_engine, schema_state
from naturhome_sync.store import upgrade as upgrade_schema
from naturhome_sync.store.cursors import Cursors
from naturhome_sync.store.db import is_sqlite
from naturhome_sync.store.inbox import EnqueueResult, Event, utcnow
from naturhome_sync.store.locks import KeyLocks
from naturhome_sync.store.runs import JobRuns
from naturhome_sync.worker import Outcome, Worker, default_worker_name

if TYPE_CHECKING:
    from fastapi import FastAPI

    from connectors.hubspot import HubSpotClient
    from connectors.salesforce import SalesforceClient
    from naturhome_sync.scheduler import TickScheduler

log = get_logger("naturhome_sync.runtime")


class Services:
    """Connectors shared by the flows of one process, built on first use.

    Jobs register a factory per connector name (``salesforce``, ``hubspot``...); tests
    replace one with :meth:`override`.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._factories: dict[str, Callable[[Runtime], Any]] = {}
        self._instances: dict[str, Any] = {}
        self._lock = threading.RLock()

    def register(self, name: str, factory: Callable[[Runtime], Any]) -> None:
        self._factories[name] = factory

    def override(self, name: str, instance: Any) -> None:
        self._instances[name] = instance

    def get(self, name: str) -> Any:
        with self._lock:  # workers asking at once must share one client (one login)
            if name not in self._instances:
                factory = self._factories.get(name)
                if factory is None:
                    raise ConfigurationError(f"no connector named {name!r} is available")
                self._instances[name] = factory(self.runtime)
            return self._instances[name]

    @property
    def salesforce(self) -> SalesforceClient:
        client: SalesforceClient = self.get("salesforce")
        return client

    @property
    def hubspot(self) -> HubSpotClient:
        client: HubSpotClient = self.get("hubspot")
        return client

    def close(self) -> None:
        for instance in self._instances.values():
            close = getattr(instance, "close", None)
            if callable(close):
                close()
        self._instances.clear()


def _salesforce(runtime: Runtime) -> Any:
    from connectors.salesforce import SalesforceClient

    if runtime.settings.salesforce is None:
        raise PermanentConfigError(
            "Salesforce is not configured (NATURHOME_SALESFORCE__AUTH, __USERNAME, ...)"
        )
    return SalesforceClient(runtime.settings.salesforce, metrics=runtime.metrics)


def _hubspot(runtime: Runtime) -> Any:
    from connectors.hubspot import HubSpotClient

    if runtime.settings.hubspot is None:
        raise PermanentConfigError(
            "HubSpot is not configured (NATURHOME_HUBSPOT__ACCESS_TOKEN, __CLIENT_SECRET, ...)"
        )
    return HubSpotClient(runtime.settings.hubspot)


def build_registry(settings: Settings) -> FlowRegistry:
    import jobs

    registry = FlowRegistry()
    jobs.register(registry, settings)
    load_plugins(registry, settings, settings.plugins)
    return registry


def read_schedules_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"not valid YAML: {exc}", source=str(path)) from exc
    if not isinstance(data, dict):
        raise ConfigurationError("expected a mapping of flow: schedule", source=str(path))
    schedules: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str):
            raise ConfigurationError(
                "schedule must be a string ('every 5m', a cron line or 'off')",
                source=str(path),
                key=str(key),
            )
        schedules[str(key)] = value
    return schedules


class Runtime:
    def __init__(self, settings: Settings, *, registry: FlowRegistry | None = None) -> None:
        self.settings = settings
        self.engine = create_db_engine(
            settings.database_url,
            # Each worker may hold two connections at once (its event, a per-key lock), and
            # the HTTP handlers and heartbeats need theirs: never fewer than that.
            pool_size=max(settings.database.pool_size, 2 * settings.worker.count + 2),
            busy_timeout_ms=settings.database.sqlite_busy_timeout_ms,
        )
        self.inbox = Inbox(self.engine, max_attempts=settings.worker.max_attempts)
        self.cursors = Cursors(self.engine)
        self.job_runs = JobRuns(self.engine)
        self.key_locks = KeyLocks(self.engine)
        self._store_id: str | None = None
        self.metrics = Metrics(self.inbox)
        self.services = Services(self)
        self.services.register("salesforce", _salesforce)
        self.services.register("hubspot", _hubspot)
        self.registry = registry if registry is not None else build_registry(settings)
        self.workers: list[Worker] = []
        self.inbox.add_listener(self._on_enqueue)
        self.inbox.on_abandoned = self._on_abandoned
        self.schedules = self.registry.schedules(
            read_schedules_file(settings.schedules_file), settings.schedules
        )
        # Validate schedules now: a bad cron line must stop start-up, not the first tick.
        from naturhome_sync.scheduler import parse_schedule

        for flow, spec in self.schedules.items():
            parse_schedule(spec, settings.timezone, source=str(settings.schedules_file), key=flow)

    @property
    def store_id(self) -> str:
        """A short id of this store, minted once: it makes the store's event ids unique
        outside it (a recreated store restarts ids at 1; two environments may share an org)."""
        if self._store_id is None:
            import uuid

            self._store_id = self.cursors.get_or_create("store.id", uuid.uuid4().hex[:8])
        return self._store_id

    @property
    def uses_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    def _on_enqueue(self, result: EnqueueResult, event: NewEvent) -> None:
        self.metrics.received(event.source, event.flow, created=result.created)
        if result.created:
            for worker in self.workers:
                worker.wake()

    def _on_abandoned(self, event: Event) -> list[NewEvent]:
        """An event buried because its worker kept dying: count it, say it, mirror it."""
        self.metrics.dead(event.source, event.flow)
        log.error(
            "event dead: its worker stopped too often",
            event_id=event.id,
            flow=event.flow,
            attempts=event.attempts,
        )
        return dead_letter_events(
            self.registry.dead_letter_flow,
            event,
            category="internal",
            message=event.last_error or "the worker handling it stopped",
        )

    # -- schema ------------------------------------------------------------------------------

    def schema_state(self) -> SchemaState:
        return schema_state(self.engine)

    def ensure_schema(self, *, auto_upgrade_sqlite: bool = True) -> SchemaState:
        """Upgrade an SQLite store in place; refuse an out-of-date PostgreSQL one."""
        state = self.schema_state()
        if state.is_current:
            return state
        if self.uses_sqlite and auto_upgrade_sqlite:
            log.info("upgrading the SQLite store", current=state.current, head=state.head)
            return upgrade_schema(self.engine)
        raise ConfigurationError(state.describe(), source="database")

    def upgrade(self) -> SchemaState:
        return upgrade_schema(self.engine)

    # -- components --------------------------------------------------------------------------

    def new_worker(self, index: int = 0) -> Worker:
        worker = Worker(self, default_worker_name(index))
        self.workers.append(worker)
        return worker

    def scheduler(self) -> TickScheduler:
        from naturhome_sync.scheduler import TickScheduler

        return TickScheduler(self.inbox, self.schedules, timezone=self.settings.timezone)

    def app(self) -> FastAPI:
        from naturhome_sync.app import create_app

        return create_app(self)

    # -- one-off runs ------------------------------------------------------------------------

    def run_flow(self, name: str, *, payload: dict[str, Any] | None = None) -> Outcome:
        """Run a flow now, through the inbox (stored, recorded, retried like any event)."""
        if name not in self.registry:
            raise ConfigurationError(f"no flow named {name!r} (known: {self.registry.names})")
        import uuid

        result = self.inbox.enqueue(
            NewEvent(
                source="cli",
                kind="manual",
                flow=name,
                dedupe_key=f"manual:{uuid.uuid4().hex}",
                payload=payload or {},
            )
        )
        worker = Worker(self, default_worker_name())
        try:
            outcome = worker.run_once(event_id=result.event_id)
        finally:
            worker.stop()  # ends its heartbeat
        if outcome is not None:
            return outcome
        # Another worker (this process's or another machine's) took it first: wait for it.
        return self.wait_for_outcome(result.event_id)

    def wait_for_outcome(self, event_id: int, timeout: float = 600.0) -> Outcome:
        """The outcome of an event someone else is processing, once its attempt ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.inbox.get(event_id)
            runs = self.inbox.runs_of(event_id)
            if event is not None and event.status != "running" and runs:
                last = runs[-1]
                status = {"succeeded": "done", "retrying": "retry", "dead": "dead"}
                return Outcome(
                    event_id=event_id,
                    flow=event.flow,
                    status=status.get(last["status"], "lost"),  # type: ignore[arg-type]
                    attempts=event.attempts,
                    counters=dict(last["counters"] or {}),
                    summary=last["summary"],
                    error=last["error"],
                    category=event.error_category,
                )
            time.sleep(0.05)
        raise TransientError(f"event {event_id} is still running after {timeout:.0f}s")

    def dry_run(self, name: str, *, payload: dict[str, Any] | None = None) -> FlowResult:
        """Run a flow's handler with ``dry_run`` set: nothing is stored, nothing is written."""
        flow = self.registry.get(name)
        if flow is None:
            raise ConfigurationError(f"no flow named {name!r} (known: {self.registry.names})")
        now = utcnow()
        event = Event(
            id=0,
            source="cli",
            kind="dry-run",
            flow=name,
            dedupe_key="dry-run",
            payload=payload or {},
            status="running",
            attempts=1,
            received_at=now,
            available_at=now,
            started_at=now,
            finished_at=None,
            last_error=None,
            error_category=None,
            lease_owner=None,
            lease_expires_at=None,
            correlation_id="dry-run",
            replay_count=0,
            replayed_at=None,
            replayed_by=None,
        )
        return flow.handler(FlowContext(runtime=self, event=event, dry_run=True)) or FlowResult()

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()  # ends their heartbeat threads
        self.services.close()
        self.engine.dispose()
