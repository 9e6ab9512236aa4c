"""Reading and pruning job runs (the worker writes them with each event's outcome)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from naturhome_sync.store.tables import job_runs


class JobRuns:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def purge(self, older_than: datetime, *, dry_run: bool = False) -> int:
        condition = job_runs.c.started_at < older_than
        with self.engine.begin() as conn:
            if dry_run:
                count = conn.execute(
                    sa.select(sa.func.count()).select_from(job_runs).where(condition)
                ).scalar()
                return int(count or 0)
            return int(conn.execute(job_runs.delete().where(condition)).rowcount)
