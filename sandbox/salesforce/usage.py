"""The daily API allocation: every authenticated data call counts, composite and collection
calls count once, and a spent allocation answers 403 REQUEST_LIMIT_EXCEEDED.

The count is persisted and resets when the UTC day changes (an org uses a rolling 24 hours;
a calendar day is close enough for tests and demos and easy to reason about).
"""

from __future__ import annotations

import threading
from typing import Any

from sandbox.salesforce.clock import Clock
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.store import Store


class ApiUsage:
    def __init__(self, store: Store, clock: Clock, allocation: int, lock: threading.RLock) -> None:
        """``lock`` is the org lock: the count lives in the shared SQLite connection."""
        self.store = store
        self.clock = clock
        self.allocation = allocation
        self._lock = lock

    def _current(self) -> int:
        day = self.clock.now().date().isoformat()
        if self.store.meta("api_usage_day") != day:
            self.store.set_meta("api_usage_day", day)
            self.store.set_meta("api_usage_count", "0")
            return 0
        return int(self.store.meta("api_usage_count") or 0)

    def count_call(self) -> None:
        """Count one call, or refuse it when the allocation is spent."""
        with self._lock:
            used = self._current()
            if used >= self.allocation:
                raise SfError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", status=403)
            self.store.set_meta("api_usage_count", str(used + 1))

    def used(self) -> int:
        with self._lock:
            return self._current()

    def header(self) -> str:
        return f"api-usage={self.used()}/{self.allocation}"

    def reset(self) -> None:
        with self._lock:
            self.store.set_meta("api_usage_count", "0")

    def limits(self) -> dict[str, Any]:
        """``GET /limits/``: the daily API allocation is live, the others are plain-org values."""
        used = self.used()

        def static(maximum: int) -> dict[str, int]:
            return {"Max": maximum, "Remaining": maximum}

        return {
            "ConcurrentAsyncGetReportInstances": static(200),
            "ConcurrentSyncReportRuns": static(20),
            "DailyApiRequests": {
                "Max": self.allocation,
                "Remaining": max(0, self.allocation - used),
            },
            "DailyAsyncApexExecutions": static(250000),
            "DailyBulkApiBatches": static(15000),
            "DailyBulkV2QueryFileStorageMB": static(976562),
            "DailyBulkV2QueryJobs": static(10000),
            "DailyStreamingApiEvents": static(1000000),
            "DataStorageMB": static(1024),
            "FileStorageMB": static(1024),
            "HourlyPublishedPlatformEvents": static(250000),
            "SingleEmail": static(5000),
        }
