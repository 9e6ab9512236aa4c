"""The flow registry: what the runtime knows about the business flows it runs.

A flow declares a name, a handler and optionally a default schedule; it may also bring
HTTP routes (its webhook). The runtime never knows more than this, so a new flow is a new
module in ``jobs/`` plus one line in ``jobs.builtin_flows()``, or a plugin module named in
the ``plugins`` setting whose ``register(registry, settings)`` adds it.

A handler gets a :class:`FlowContext` (settings, logger, connectors, dry-run flag, the event)
and returns a :class:`FlowResult` (counters for the job run, a one-line summary, follow-up
events committed together with the event's completion) or raises an error from
:mod:`naturhome_sync.errors`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from naturhome_sync.errors import ConfigurationError

if TYPE_CHECKING:
    from fastapi import APIRouter

    from naturhome_sync.runtime import Runtime
    from naturhome_sync.settings import Settings
    from naturhome_sync.store import Event, NewEvent


@dataclass
class FlowResult:
    counters: dict[str, int] = field(default_factory=dict)
    summary: str | None = None
    follow_ups: list[NewEvent] = field(default_factory=list)


@dataclass
class FlowContext:
    """Everything a handler may use. Connectors come from ``runtime.services``."""

    runtime: Runtime
    event: Event
    dry_run: bool = False

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def log(self) -> Any:
        from naturhome_sync.logs import get_logger

        return get_logger(f"naturhome_sync.flow.{self.event.flow}")


Handler = Callable[[FlowContext], FlowResult | None]
RouterFactory = Callable[["Runtime"], "APIRouter"]


@dataclass(frozen=True)
class Flow:
    name: str
    handler: Handler
    description: str
    #: Default schedule (``every 5m``, cron line) or None for event-driven flows.
    schedule: str | None = None


class FlowRegistry:
    def __init__(self) -> None:
        self._flows: dict[str, Flow] = {}
        self._routers: list[RouterFactory] = []
        self.dead_letter_flow: str | None = None

    def add(self, flow: Flow) -> Flow:
        if flow.name in self._flows:
            raise ConfigurationError(f"flow {flow.name!r} is registered twice")
        self._flows[flow.name] = flow
        return flow

    def add_router(self, factory: RouterFactory) -> None:
        self._routers.append(factory)

    def get(self, name: str) -> Flow | None:
        return self._flows.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._flows

    def __iter__(self) -> Iterator[Flow]:
        return iter(sorted(self._flows.values(), key=lambda f: f.name))

    @property
    def names(self) -> list[str]:
        return sorted(self._flows)

    @property
    def routers(self) -> list[RouterFactory]:
        return list(self._routers)

    def schedules(
        self, file_schedules: Mapping[str, str], overrides: Mapping[str, str]
    ) -> dict[str, str]:
        """Effective schedule per flow: settings override the file, the file the default."""
        effective: dict[str, str] = {}
        for source, values in (("schedules file", file_schedules), ("settings", overrides)):
            for name in values:
                if name not in self._flows:
                    raise ConfigurationError(
                        f"no flow named {name!r} (known: {', '.join(self.names)})",
                        source=source,
                        key=name,
                    )
        for flow in self:
            schedule = overrides.get(flow.name, file_schedules.get(flow.name, flow.schedule))
            if schedule and schedule.strip().lower() != "off":
                effective[flow.name] = schedule.strip()
        return effective


def load_plugins(registry: FlowRegistry, settings: Settings, modules: list[str]) -> None:
    """Import each plugin module and let its ``register(registry, settings)`` add flows."""
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigurationError(
                f"cannot import {module_name!r}: {exc}", key="NATURHOME_PLUGINS"
            ) from exc
        register = getattr(module, "register", None)
        if not callable(register):
            raise ConfigurationError(
                f"module {module_name!r} has no register(registry, settings) function",
                key="NATURHOME_PLUGINS",
            )
        register(registry, settings)
