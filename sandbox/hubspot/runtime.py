"""What one running emulator knows beyond its database: addresses, counters, faults, limits,
and its clock.

Stats, faults and rate-limit windows are deliberately in memory: they describe this run of
the emulator (a test's injected 503 must not come back after a restart), while contacts,
submissions and files live in :class:`~sandbox.hubspot.store.EmulatorStore`.

The clock (``now_ms``) is the wall clock plus an offset that ``POST /__sandbox/clock`` moves
forward, so tests can age what depends on time (search lag, file-link expiry, timestamps of
new records) without sleeping. Rate-limit windows keep the real monotonic clock: they limit
what a client really sends per second. Webhook signatures keep the real time too (the
service checks them against its own clock).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.hubspot.config import HubSpotEmulatorConfig
from sandbox.hubspot.store import EmulatorStore

#: Stored URLs carry this marker instead of an address, so they survive a restart on another
#: port; every response replaces it with the emulator's current base URL.
BASE_URL_MARKER = "{emulator_base_url}"

#: Settings that ``POST /__sandbox/config`` may change while the emulator runs.
RUNTIME_SETTINGS: dict[str, type] = {
    "service_webhook_url": str,
    "search_delay_s": float,
    "file_url_ttl_s": float,
    "rate_limits": bool,
    "burst_limit": int,
    "search_per_second": int,
    "daily_limit": int,
    "omit_empty_properties": bool,
}


@dataclass
class Fault:
    """The next ``remaining`` calls matching ``method`` and ``path`` get this answer."""

    id: int
    method: str
    path: re.Pattern[str]
    remaining: int
    status: int | None
    body: Any
    headers: dict[str, str]
    latency_s: float

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path.pattern,
            "remaining": self.remaining,
            "status": self.status,
            "latency_ms": round(self.latency_s * 1000),
        }


@dataclass
class RateLimiter:
    """HubSpot's per-app rolling 10-s burst limit, daily limit and search's secondly limit."""

    burst: deque[float] = field(default_factory=deque)
    search: deque[float] = field(default_factory=deque)
    daily_count: int = 0
    day: int = -1

    def admit(self, config: HubSpotEmulatorConfig, *, search: bool, now: float) -> str | None:
        """Record the call and return ``None``, or return the policy it violates."""
        today = int(now // 86_400)
        if today != self.day:
            self.day, self.daily_count = today, 0
        _expire(self.burst, now - config.burst_window_s)
        _expire(self.search, now - 1.0)
        if config.rate_limits:
            if self.daily_count >= config.daily_limit:
                return "DAILY"
            if search and len(self.search) >= config.search_per_second:
                return "SECONDLY"
            if not search and len(self.burst) >= config.burst_limit:
                return "TEN_SECONDLY_ROLLING"
        self.daily_count += 1
        (self.search if search else self.burst).append(now)
        return None

    def headers(self, config: HubSpotEmulatorConfig) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Max": str(config.burst_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, config.burst_limit - len(self.burst))),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(round(config.burst_window_s * 1000)),
            "X-HubSpot-RateLimit-Daily": str(config.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(
                max(0, config.daily_limit - self.daily_count)
            ),
        }


def _coerce(name: str, value: Any) -> Any:
    kind = RUNTIME_SETTINGS[name]
    if value is None and name == "service_webhook_url":
        return None
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is bool and isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    if kind is float and numeric:
        return float(value)
    if kind is int and numeric and float(value).is_integer():
        return int(value)
    raise ValueError(f"{name} must be {kind.__name__}, got {value!r}")


def _expire(window: deque[float], horizon: float) -> None:
    while window and window[0] <= horizon:
        window.popleft()


class EmulatorRuntime:
    def __init__(self, config: HubSpotEmulatorConfig, store: EmulatorStore) -> None:
        self.config = config
        self.store = store
        self.base_url = f"http://{config.host}:{config.port}"
        self.storage_base_url = config.storage_base_url or f"http://{config.storage_host}"
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._faults: list[Fault] = []
        self._next_fault_id = 1
        self._limiter = RateLimiter()
        self._clock_offset_ms = 0

    def set_port(self, port: int) -> None:
        self.base_url = f"http://{self.config.host}:{port}"
        if self.config.storage_base_url is None:
            self.storage_base_url = f"http://{self.config.storage_host}:{port}"

    def render(self, value: str) -> str:
        return value.replace(BASE_URL_MARKER, self.base_url)

    # clock -----------------------------------------------------------------------------------

    def now_ms(self) -> int:
        with self._lock:
            offset = self._clock_offset_ms
        return int(time.time() * 1000) + offset

    def advance_clock(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward (DELETE resets it)")
        with self._lock:
            self._clock_offset_ms += round(seconds * 1000)

    def reset_clock(self) -> None:
        with self._lock:
            self._clock_offset_ms = 0

    def clock(self) -> dict[str, Any]:
        now = self.now_ms()
        with self._lock:
            offset = self._clock_offset_ms
        moment = datetime.fromtimestamp(now / 1000, tz=UTC)
        return {"now": moment.isoformat(), "now_ms": now, "offset_seconds": offset / 1000}

    # stats -----------------------------------------------------------------------------------

    def count_call(self, method: str, pattern: str) -> None:
        with self._lock:
            self._calls[f"{method} {pattern}"] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            calls = dict(sorted(self._calls.items()))
        return {"calls": calls, "total": sum(calls.values())}

    # faults ----------------------------------------------------------------------------------

    def add_fault(
        self,
        *,
        method: str,
        path: str,
        count: int,
        status: int | None,
        body: Any,
        headers: dict[str, str],
        latency_s: float,
    ) -> Fault:
        with self._lock:
            fault = Fault(
                id=self._next_fault_id,
                method=method.upper(),
                path=re.compile(path),
                remaining=count,
                status=status,
                body=body,
                headers=headers,
                latency_s=latency_s,
            )
            self._next_fault_id += 1
            self._faults.append(fault)
            return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in ("*", method) and fault.path.search(path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # rate limits -----------------------------------------------------------------------------

    def admit(self, *, search: bool) -> str | None:
        with self._lock:
            return self._limiter.admit(self.config, search=search, now=time.monotonic())

    def rate_limit_headers(self) -> dict[str, str]:
        with self._lock:
            return self._limiter.headers(self.config)

    # settings and reset ----------------------------------------------------------------------

    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change runtime switches; all or nothing, so a typo leaves the emulator as it was."""
        unknown = sorted(set(changes) - set(RUNTIME_SETTINGS))
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(unknown)}")
        clean = {name: _coerce(name, value) for name, value in changes.items()}
        with self._lock:
            for name, value in clean.items():
                setattr(self.config, name, value)
        return self.settings()

    def settings(self) -> dict[str, Any]:
        return {name: getattr(self.config, name) for name in RUNTIME_SETTINGS}

    def reset(self, *, data: bool) -> None:
        """Counters, faults and limits always; with ``data``, the records and the clock."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._limiter = RateLimiter()
            if data:
                self._clock_offset_ms = 0
        if data:
            self.store.reset()
