"""Inbox events, job runs and cursors.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from naturhome_sync.store.tables import BigId, JsonType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_events",
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
    )
    op.create_index("ix_inbox_events_claim", "inbox_events", ["status", "available_at"])
    op.create_index("ix_inbox_events_flow_status", "inbox_events", ["flow", "status"])
    op.create_index("ix_inbox_events_finished_at", "inbox_events", ["finished_at"])
    op.create_table(
        "job_runs",
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
    )
    op.create_index("ix_job_runs_event_id", "job_runs", ["event_id"])
    op.create_index("ix_job_runs_flow_started_at", "job_runs", ["flow", "started_at"])
    op.create_table(
        "cursors",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cursors")
    op.drop_table("job_runs")
    op.drop_table("inbox_events")
