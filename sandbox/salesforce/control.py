"""Call statistics and fault injection for the sandbox control endpoints.

Faults let reliability tests make the next N matching calls fail the way an org fails
(a status plus a Salesforce error body: UNABLE_TO_LOCK_ROW, REQUEST_LIMIT_EXCEEDED, 503...)
or slow down, without touching the data. A fault given only an ``errorCode`` gets the
status and message an org uses for it.

``latency_ms`` slows a call down *before* it is carried out (a refused or slow call that
commits nothing); ``answer_latency_ms`` carries the call out, commits it, and only then holds
the answer back: the case a client timeout makes dangerous, since the work is done while the
client believes it failed and tries again.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sandbox.salesforce.config import Behaviour
from sandbox.salesforce.errors import SfError

_DEFAULT_MESSAGES = {
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record or 1 records",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
    "INVALID_SESSION_ID": "Session expired or invalid",
    "UNKNOWN_EXCEPTION": (
        "An unexpected error occurred. Please include this ErrorId if you contact support"
    ),
    "SERVER_UNAVAILABLE": "Server temporarily unavailable",
    "QUERY_TIMEOUT": "Your query request was running for too long.",
}
_DEFAULT_STATUS = {
    "REQUEST_LIMIT_EXCEEDED": 403,
    "INVALID_SESSION_ID": 401,
    "UNKNOWN_EXCEPTION": 500,
    "SERVER_UNAVAILABLE": 503,
    "NOT_FOUND": 404,
}


@dataclass
class Fault:
    id: int
    method: str
    path: re.Pattern[str]
    status: int | None
    body: Any
    remaining: int | None
    skip: int
    latency_ms: int
    answer_latency_ms: int = 0
    hits: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path.pattern,
            "status": self.status,
            "body": self.body,
            "remaining": self.remaining,
            "after": self.skip,
            "latency_ms": self.latency_ms,
            "answer_latency_ms": self.answer_latency_ms,
            "hits": self.hits,
        }


class Faults:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._next = 1

    def add(self, spec: Any) -> Fault:
        if not isinstance(spec, dict):
            raise SfError("JSON_PARSER_ERROR", "a fault is a JSON object", fields=[])
        try:
            path = re.compile(str(spec.get("path", ".*")))
        except re.error as exc:
            raise SfError(
                "INVALID_FIELD", f"path is not a regular expression: {exc}", fields=["path"]
            ) from None
        code = spec.get("errorCode")
        status = spec.get("status")
        body = spec.get("body")
        if code and body is None:
            message = spec.get("message") or _DEFAULT_MESSAGES.get(code, code)
            body = [{"message": message, "errorCode": code}]
        if code and status is None:
            status = (
                self.behaviour.lock_row_status
                if code == "UNABLE_TO_LOCK_ROW"
                else _DEFAULT_STATUS.get(code, 400)
            )
        times = spec.get("times", 1)
        latency = int(spec.get("latency_ms", 0))
        answer_latency = int(spec.get("answer_latency_ms", 0))
        if status is None and latency <= 0 and answer_latency <= 0:
            raise SfError(
                "MISSING_ARGUMENT",
                "a fault needs a status, an errorCode, a latency_ms or an answer_latency_ms",
                fields=[],
            )
        if status is not None and answer_latency > 0:
            raise SfError(
                "INVALID_FIELD",
                "answer_latency_ms delays the answer of a call carried out; a refused call "
                "(status, errorCode) carries nothing out",
                fields=["answer_latency_ms"],
            )
        with self._lock:
            fault = Fault(
                id=self._next,
                method=str(spec.get("method", "*")).upper(),
                path=path,
                status=int(status) if status is not None else None,
                body=body,
                remaining=None if times is None else int(times),
                skip=int(spec.get("after", 0)),
                latency_ms=latency,
                answer_latency_ms=answer_latency,
            )
            self._next += 1
            self._faults.append(fault)
        return fault

    def match(self, method: str, path: str) -> Fault | None:
        """The first live fault for this call (consuming one of its uses), if any."""
        with self._lock:
            for fault in self._faults:
                if fault.method not in ("*", method) or not fault.path.search(path):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class Stats:
    """Calls by ``METHOD pattern`` plus logins, for ``GET /__sandbox/stats``."""

    def __init__(self) -> None:
        self._calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, key: str) -> None:
        with self._lock:
            self._calls[key] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._calls.items()))

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
