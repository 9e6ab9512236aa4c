"""Alembic migrations, driven from code (no alembic.ini to ship or to find)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str

    @property
    def is_current(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        if self.is_current:
            return f"schema at {self.head} (current)"
        return (
            f"schema at {self.current or 'nothing (empty database)'}, the code needs {self.head}: "
            "run `naturhome-sync db upgrade`"
        )


def schema_state(engine: Engine) -> SchemaState:
    head = ScriptDirectory.from_config(_config(engine)).get_current_head()
    assert head is not None
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return SchemaState(current=current, head=head)


def upgrade(engine: Engine, revision: str = "head") -> SchemaState:
    command.upgrade(_config(engine), revision)
    return schema_state(engine)
