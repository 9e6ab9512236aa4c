"""Housekeeping: forget what is finished and old, so the store stays small.

Done events older than the retention period are deleted (dead ones never are: a person
must look at them); job runs older than their own retention go too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from naturhome_sync.flows import Flow, FlowContext, FlowRegistry, FlowResult
from naturhome_sync.settings import HousekeepingSettings, Settings
from naturhome_sync.store.inbox import utcnow

NAME = "housekeeping"


@dataclass(frozen=True)
class Cutoffs:
    events_finished_before: datetime
    runs_started_before: datetime


def cutoffs(now: datetime, policy: HousekeepingSettings) -> Cutoffs:
    return Cutoffs(
        events_finished_before=now - timedelta(days=policy.retention_days),
        runs_started_before=now - timedelta(days=policy.job_run_retention_days),
    )


def run(ctx: FlowContext) -> FlowResult:
    limits = cutoffs(utcnow(), ctx.settings.housekeeping)
    runtime = ctx.runtime
    events = runtime.inbox.purge_done(limits.events_finished_before, dry_run=ctx.dry_run)
    runs = runtime.job_runs.purge(limits.runs_started_before, dry_run=ctx.dry_run)
    verb = "would purge" if ctx.dry_run else "purged"
    return FlowResult(
        counters={"events_purged": events, "job_runs_purged": runs},
        summary=(
            f"{verb} {events} done event(s) finished before "
            f"{limits.events_finished_before:%Y-%m-%d} and {runs} job run(s)"
        ),
    )


def register(registry: FlowRegistry, _settings: Settings) -> None:
    registry.add(
        Flow(
            name=NAME,
            handler=run,
            description="purge done events and old job runs past their retention",
            schedule="0 3 * * *",
        )
    )
