"""Shared fixtures: a store on SQLite and (when available) PostgreSQL, settings, runtimes.

PostgreSQL tests need ``NATURHOME_TEST_DATABASE_URL`` (e.g.
``postgresql://postgres@127.0.0.1:5432/test``). Without it they are skipped with that
reason; with ``NATURHOME_TEST_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) a missing or
unreachable PostgreSQL fails them instead, so CI cannot go green without running them.
Each PostgreSQL test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from naturhome_sync.runtime import Runtime
from naturhome_sync.settings import Settings, load_settings
from naturhome_sync.store.db import normalise_url

PG_URL_ENV = "NATURHOME_TEST_DATABASE_URL"
PG_REQUIRED_ENV = "NATURHOME_TEST_REQUIRE_POSTGRES"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's NATURHOME_* variables, ./.env or proxy settings."""
    kept = (PG_URL_ENV, PG_REQUIRED_ENV)
    proxies = ("http_proxy", "https_proxy", "all_proxy")
    for name in list(os.environ):
        ours = name.startswith("NATURHOME_") and name not in kept
        if ours or name.lower() in proxies:
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    monkeypatch.chdir(tmp_path)


_LOOPBACK = ("localhost", "::1", "")


def _is_loopback(host: object) -> bool:
    text = host.decode() if isinstance(host, bytes) else str(host)
    return text in _LOOPBACK or text.startswith("127.")


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """Tests touch no network beyond loopback: anything else fails loudly, not silently."""
    import socket

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise OSError(f"a test tried to reach {address!r}: only loopback is allowed")

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host):
            raise socket.gaierror(f"a test tried to resolve {host!r}: only loopback is allowed")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    yield
    socket.socket.connect = real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = real_getaddrinfo


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get(PG_REQUIRED_ENV) == "1":
        pytest.fail(f"PostgreSQL is required here but {reason}")
    pytest.skip(f"PostgreSQL test skipped: {reason}")


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        _postgres_unavailable(f"{PG_URL_ENV} is not set")
        raise AssertionError  # unreachable: skip/fail raise
    try:
        engine = sa.create_engine(normalise_url(url))
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except sa.exc.OperationalError as exc:
        _postgres_unavailable(f"cannot connect to {url}: {exc.orig}")
    return normalise_url(url)


@pytest.fixture
def postgres_url(postgres_base_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_base_url else "?"
    yield f"{postgres_base_url}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'naturhome.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def make_settings(tmp_path: Path, database_url: str | None = None, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "state_dir": tmp_path / "state",
        "http": {"port": 0},
        "worker": {"poll_interval_seconds": 0.05, "lease_seconds": 30, "max_attempts": 3},
        "retry": {"base_seconds": 0.01, "max_seconds": 0.05, "jitter": 0.1},
        "plugins": ["naturhome_sync.testing"],
        "log": {"format": "json"},
    }
    if database_url:
        base["database"] = {"url": database_url}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return load_settings(**base)


@pytest.fixture
def settings_factory(tmp_path: Path) -> Any:
    """``settings_factory(database_url=None, **overrides)`` -> test Settings in tmp_path."""

    def factory(database_url: str | None = None, **overrides: Any) -> Settings:
        return make_settings(tmp_path, database_url, **overrides)

    return factory


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    rt.upgrade()
    yield rt
    rt.close()


@pytest.fixture
def closed_port_url() -> Iterator[str]:
    """A loopback URL where nothing listens. The port stays bound (never listening) for the
    test, so a connection is refused and no other process can take the port meanwhile."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Processes:
    """Starts ``naturhome-sync`` subprocesses with an env file; kills leftovers at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        import sys

        self.tmp_path = tmp_path
        self.executable = str(Path(sys.executable).parent / "naturhome-sync")
        self.started: list[Any] = []

    def env_file(self, database_url: str, **settings: str) -> Path:
        lines = {
            "NATURHOME_DATABASE__URL": database_url,
            "NATURHOME_STATE_DIR": str(self.tmp_path / "state"),
            "NATURHOME_PLUGINS": '["naturhome_sync.testing"]',
            "NATURHOME_WORKER__POLL_INTERVAL_SECONDS": "0.05",
            "NATURHOME_LOG__FORMAT": "json",
            "NATURHOME_LOG__LEVEL": "INFO",
            **{f"NATURHOME_{k.upper()}": v for k, v in settings.items()},
        }
        path = self.tmp_path / f"test-{len(list(self.tmp_path.glob('test-*.env')))}.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
        return path

    def start(self, env_file: Path, *args: str) -> Any:
        import subprocess

        log = open(self.tmp_path / f"proc-{len(self.started)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [self.executable, "--env-file", str(env_file), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.tmp_path,
        )
        proc.log_path = log.name  # type: ignore[attr-defined]
        self.started.append(proc)
        return proc

    @staticmethod
    def free_port() -> int:
        return free_port()

    @staticmethod
    def output(proc: Any) -> str:
        return Path(proc.log_path).read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()


#: With PostgreSQL required (CI), a run must really exercise it: at least this many
#: PostgreSQL tests pass, the multi-process one among them. A narrowed run (-k, -m) fails.
PG_MINIMUM_PASSED = 80  # of 94 today; a narrowed run passes far fewer
PG_MUST_PASS = "test_postgres_four_worker_processes_process_2000_events_once"
_postgres_passed: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and "postgres" in report.keywords:
        _postgres_passed.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(PG_REQUIRED_ENV) != "1" or exitstatus != 0:
        return
    ran_must = any(PG_MUST_PASS in node for node in _postgres_passed)
    if len(_postgres_passed) < PG_MINIMUM_PASSED or not ran_must:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"PostgreSQL is required, but only {len(_postgres_passed)} PostgreSQL tests "
                f"passed (at least {PG_MINIMUM_PASSED}, including {PG_MUST_PASS}): "
                "was the run narrowed?",
                red=True,
            )
