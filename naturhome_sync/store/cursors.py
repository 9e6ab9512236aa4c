"""Named cursors (high-water marks of pollers), written in the same store as the inbox."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from naturhome_sync.store.db import reading
from naturhome_sync.store.inbox import utcnow
from naturhome_sync.store.tables import cursors


class Cursors:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, name: str) -> str | None:
        with reading(self.engine) as conn:
            value = conn.execute(sa.select(cursors.c.value).where(cursors.c.name == name)).scalar()
        return None if value is None else str(value)

    def set(self, name: str, value: str) -> None:
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        now = utcnow()
        statement = insert(cursors).values(name=name, value=value, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=["name"], set_={"value": value, "updated_at": now}
        )
        with self.engine.begin() as conn:
            conn.execute(statement)

    def get_or_create(self, name: str, value: str) -> str:
        """The stored value, or ``value`` stored now if there was none (first writer wins)."""
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        with self.engine.begin() as conn:
            conn.execute(
                insert(cursors)
                .values(name=name, value=value, updated_at=utcnow())
                .on_conflict_do_nothing(index_elements=["name"])
            )
        stored = self.get(name)
        assert stored is not None
        return stored

    def all(self) -> dict[str, str]:
        with reading(self.engine) as conn:
            return {row.name: row.value for row in conn.execute(sa.select(cursors))}
