"""Alembic environment: runs against the engine handed over by naturhome_sync.store.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from naturhome_sync.store.tables import metadata

engine = context.config.attributes["engine"]
assert isinstance(engine, Engine)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=engine.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
