"""The org's notion of now, which tests and demos may move forward.

Session expiry, relative date literals (TODAY, LAST_N_DAYS:n) and audit timestamps all read
this clock, so ``POST /__sandbox/clock`` can age sessions or records without sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, timezone: str = "UTC") -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()
        self.zone = ZoneInfo(timezone)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def today(self) -> date:
        """Today in the org's time zone, where relative date literals start."""
        return self.now().astimezone(self.zone).date()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset.total_seconds()
