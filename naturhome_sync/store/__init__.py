"""Durable state: the inbox of events, job runs and cursors (SQLAlchemy 2, SQLite or PostgreSQL)."""

from naturhome_sync.store.db import create_db_engine, is_sqlite
from naturhome_sync.store.inbox import Event, EventStatus, Inbox, NewEvent
from naturhome_sync.store.migrate import SchemaState, schema_state, upgrade

__all__ = [
    "Event",
    "EventStatus",
    "Inbox",
    "NewEvent",
    "SchemaState",
    "create_db_engine",
    "is_sqlite",
    "schema_state",
    "upgrade",
]
