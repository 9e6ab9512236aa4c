"""Reading and pruning job runs (the worker writes them with each event's outcome)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from naturhome_sync.store.tables import job_runs


class JobRuns:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def recent(self, *, flow: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        query = sa.select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)
        if flow:
            query = query.where(job_runs.c.flow == flow)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def purge(self, older_than: datetime, *, dry_run: bool = False) -> int:
        condition = job_runs.c.started_at < older_than
        with self.engine.begin() as conn:
            if dry_run:
                count = conn.execute(
                    sa.select(sa.func.count()).select_from(job_runs).where(condition)
                ).scalar()
                return int(count or 0)
            return int(conn.execute(job_runs.delete().where(condition)).rowcount)
