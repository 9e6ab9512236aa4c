"""The clock: APScheduler 3 enqueues one tick event per scheduled time, and nothing else.

A tick's dedupe key is ``flow@<scheduled time in UTC>``, so two schedulers (two machines,
or a restart overlapping the old process) enqueue each tick once: the second insert is a
duplicate. That is why no leader election is needed. Interval schedules are anchored at a
fixed epoch so every scheduler computes the same fire times, whenever it started.

Schedule syntax: ``every 30s`` / ``every 5m`` / ``every 2h`` / ``every 1d``, a 5-field cron
line (``0 6 * * 1-5``, in the configured time zone), or ``off``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from naturhome_sync.errors import ConfigurationError
from naturhome_sync.logs import get_logger
from naturhome_sync.store.inbox import EnqueueResult, Inbox, NewEvent

log = get_logger("naturhome_sync.scheduler")

_INTERVAL = re.compile(r"^every\s+(\d+)\s*(s|m|h|d)$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Interval schedules count from here, so every process agrees on the fire times.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def parse_schedule(
    text: str, timezone: str, *, source: str = "schedules", key: str = ""
) -> BaseTrigger:
    spec = text.strip()
    match = _INTERVAL.match(spec)
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        if seconds <= 0:
            raise ConfigurationError("interval must be positive", source=source, key=key)
        return IntervalTrigger(seconds=seconds, start_date=EPOCH, timezone=UTC)
    try:
        return CronTrigger.from_crontab(spec, timezone=ZoneInfo(timezone))
    except ValueError as exc:
        raise ConfigurationError(
            f"{spec!r} is neither 'every <n><s|m|h|d>' nor a 5-field cron line ({exc})",
            source=source,
            key=key,
        ) from exc


def tick_event(flow: str, scheduled_at: datetime) -> NewEvent:
    at = scheduled_at.astimezone(UTC).replace(microsecond=0)
    return NewEvent(
        source="scheduler",
        kind="tick",
        flow=flow,
        dedupe_key=f"{flow}@{at.isoformat().replace('+00:00', 'Z')}",
        payload={"scheduled_at": at.isoformat()},
    )


class _EnqueueExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs a job inline with its *scheduled* time (APScheduler hides it from job functions)."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        events = []
        try:
            for run_time in run_times:
                job.func(*job.args, run_time)
                events.append(
                    JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time)
                )
        except Exception as exc:
            self._run_job_error(job.id, exc, exc.__traceback__)
        else:
            self._run_job_success(job.id, events)


class TickScheduler:
    def __init__(
        self,
        inbox: Inbox,
        schedules: Mapping[str, str],
        *,
        timezone: str = "UTC",
        misfire_grace_seconds: int = 300,
    ) -> None:
        self.inbox = inbox
        self.triggers = {
            flow: parse_schedule(spec, timezone, key=flow) for flow, spec in schedules.items()
        }
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": _EnqueueExecutor()},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": misfire_grace_seconds,
            },
        )
        for flow, trigger in self.triggers.items():
            self._scheduler.add_job(self._on_fire, trigger, args=[flow], id=flow, name=flow)

    def _on_fire(self, flow: str, scheduled_at: datetime | None = None) -> None:
        # APScheduler checks a job's signature when it is added; the executor supplies
        # ``scheduled_at`` when it fires.
        assert scheduled_at is not None
        self.enqueue_tick(flow, scheduled_at)

    def enqueue_tick(self, flow: str, scheduled_at: datetime) -> EnqueueResult:
        event = tick_event(flow, scheduled_at)
        result = self.inbox.enqueue(event)
        log.info(
            "tick enqueued" if result.created else "tick already enqueued",
            flow=flow,
            scheduled_at=event.payload["scheduled_at"],
            event_id=result.event_id,
        )
        return result

    def next_fire_times(self, now: datetime | None = None) -> dict[str, datetime | None]:
        now = now or datetime.now(UTC)
        return {
            flow: trigger.get_next_fire_time(None, now) for flow, trigger in self.triggers.items()
        }

    def start(self) -> None:
        if self.triggers:
            self._scheduler.start()
            log.info("scheduler started", schedules=sorted(self.triggers))

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
