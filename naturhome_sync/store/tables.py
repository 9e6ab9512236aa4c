"""Table definitions shared by the store and the migrations.

Times are stored in UTC and always come back timezone-aware (:class:`UTCDateTime`), so the
same comparisons hold on SQLite (which has no time zones) and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

EVENT_STATUSES = ("pending", "running", "done", "dead")

inbox_events = sa.Table(
    "inbox_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("flow", sa.String(64), nullable=False),
    sa.Column("dedupe_key", sa.String(255), nullable=False),
    sa.Column("payload", JsonType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("available_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("error_category", sa.String(32)),
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_expires_at", UTCDateTime),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("replay_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("replayed_at", UTCDateTime),
    sa.Column("replayed_by", sa.String(128)),
    sa.UniqueConstraint("source", "dedupe_key", name="uq_inbox_events_source_dedupe_key"),
    sa.CheckConstraint(
        "status IN ('pending', 'running', 'done', 'dead')", name="ck_inbox_events_status"
    ),
    sa.Index("ix_inbox_events_claim", "status", "available_at"),
    sa.Index("ix_inbox_events_flow_status", "flow", "status"),
    sa.Index("ix_inbox_events_finished_at", "finished_at"),
)

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", BigId, sa.ForeignKey("inbox_events.id", ondelete="SET NULL")),
    sa.Column("flow", sa.String(64), nullable=False),
    sa.Column("trigger", sa.String(64), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    sa.Column("worker", sa.String(128)),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("counters", JsonType, nullable=False),
    sa.Column("summary", sa.Text),
    sa.Column("error", sa.Text),
    sa.Index("ix_job_runs_event_id", "event_id"),
    sa.Index("ix_job_runs_flow_started_at", "flow", "started_at"),
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

key_locks = sa.Table(
    "key_locks",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)
