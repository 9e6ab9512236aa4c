"""One engine factory for both databases, with the SQLite settings that make it a fair queue.

SQLite: WAL (readers never block the writer), a busy timeout (writers wait for each other
instead of failing with ``database is locked``) and ``BEGIN IMMEDIATE`` on every transaction
that may write (a deferred transaction that reads then writes cannot wait for the lock and
fails at once; an immediate one takes the write lock up front and waits its turn); pure
reads go through :func:`reading` and stay deferred. That is what lets the HTTP
handler, the scheduler and the worker write concurrently in one process.

PostgreSQL: psycopg 3; ``postgresql://`` URLs are accepted as they are usually written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

READ_ONLY = "naturhome_read_only"


def reading(engine: Engine) -> Connection:
    """A connection for reads only: on SQLite its transactions do not take the write lock
    (``BEGIN`` instead of ``BEGIN IMMEDIATE``), so metrics, ``events list`` and pollers of
    the inbox never queue behind the writers. Use as ``with reading(engine) as conn:``."""
    return engine.connect().execution_options(**{READ_ONLY: True})


def normalise_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def create_db_engine(url: str, *, pool_size: int = 5, busy_timeout_ms: int = 30_000) -> Engine:
    url = normalise_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url, busy_timeout_ms)
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, future=True
    )


def _sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        future=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Reads (see reading()) begin deferred: under WAL they never wait for the writer.
        deferred = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine
