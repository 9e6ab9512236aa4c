"""What every CLI command shares: the per-invocation state, output consoles, error exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from naturhome_sync.errors import NaturhomeError
from naturhome_sync.logs import configure_logging
from naturhome_sync.settings import Settings, load_settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@dataclass
class CliState:
    env_file: Path | None = None
    log_level: str | None = None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.env_file)
            configure_logging(self.log_level or self._settings.log.level, self._settings.log.format)
        return self._settings


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def handled_errors() -> Iterator[None]:
    try:
        yield
    except NaturhomeError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        fail(f"store unreachable ({type(exc).__name__}): {first_line}")


@contextmanager
def runtime_for(ctx: typer.Context, *, ensure_schema: bool = True) -> Iterator[Any]:
    from naturhome_sync.runtime import Runtime

    state: CliState = ctx.obj
    with handled_errors():
        runtime = Runtime(state.settings())
        try:
            if ensure_schema:
                runtime.ensure_schema()
            yield runtime
        finally:
            runtime.close()
