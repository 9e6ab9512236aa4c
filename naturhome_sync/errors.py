"""Every error naturhome-sync raises on purpose, in one place.

The runtime decides what happens to an event from the *category* of the error its flow
raised, never from the exception's origin. Connectors translate what their outside system
answered (an HTTP status, a Salesforce ``errorCode``, a HubSpot ``errorType``) into one of
these classes; flows raise them for their own reasons (a mapping that cannot be applied).

    NaturhomeError
    ├── ConfigurationError          start-up refuses to run: settings, config files, mappings
    └── SyncError                   raised while processing an event (carries ``category``)
        ├── TransientError          "transient"        network, 5xx, lock contention -> retry
        │   └── RateLimitedError    "rate_limited"     429 / daily quota -> retry after a delay
        ├── AuthError               "auth"             refused even after a fresh login -> dead
        ├── PermanentDataError      "permanent_data"   the input cannot be written as is -> dead
        └── PermanentConfigError    "permanent_config" the org or settings lack something -> dead

Anything else escaping a flow is a bug; the worker records it with category ``"internal"``
and retries it like a transient error until the attempt budget runs out, so a flaky bug
does not lose the event and a deterministic one ends up dead with its traceback summary.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

Category = Literal[
    "transient", "rate_limited", "auth", "permanent_data", "permanent_config", "internal"
]

#: Categories the worker retries (with backoff) until the attempt budget is spent.
RETRYABLE_CATEGORIES: frozenset[str] = frozenset({"transient", "rate_limited", "internal"})


class NaturhomeError(Exception):
    """Root of every deliberate naturhome-sync error."""


class ConfigurationError(NaturhomeError):
    """The service cannot start (or a command cannot run) with this configuration.

    ``source`` names the file or the settings source and ``key`` the offending entry, so the
    one-line message tells the operator exactly what to fix.
    """

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None):
        self.source = source
        self.key = key
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class SyncError(NaturhomeError):
    """A unit of work failed; ``category`` tells the worker what to do next.

    ``retry_after`` (seconds) is a hint from the outside system (Retry-After, a rate-limit
    window); the worker waits at least that long. ``code`` keeps the outside system's own
    error code (``UNABLE_TO_LOCK_ROW``, ``RATE_LIMIT``...). ``record_id`` and ``external_id``
    point at what the error is about, for the Integration_Error__c mirror.
    """

    category: ClassVar[Category] = "transient"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retry_after: float | None = None,
        record_id: str | None = None,
        external_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after
        self.record_id = record_id
        self.external_id = external_id
        self.details = details or {}

    @property
    def retryable(self) -> bool:
        return self.category in RETRYABLE_CATEGORIES

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


class TransientError(SyncError):
    """Try again later: the same request may well succeed (timeouts, 5xx, row locks)."""

    category: ClassVar[Category] = "transient"


class RateLimitedError(TransientError):
    """The outside system asks us to slow down; ``retry_after`` says for how long."""

    category: ClassVar[Category] = "rate_limited"


class AuthError(SyncError):
    """Credentials were refused even after one fresh login; a person must fix them."""

    category: ClassVar[Category] = "auth"


class PermanentDataError(SyncError):
    """This input can never be written as it is (validation, mapping, unknown record)."""

    category: ClassVar[Category] = "permanent_data"


class PermanentConfigError(SyncError):
    """The org or the settings lack something the flow needs (missing field, no access)."""

    category: ClassVar[Category] = "permanent_config"


def category_of(exc: BaseException) -> Category:
    """The category the worker files ``exc`` under (``internal`` for undeclared errors)."""
    if isinstance(exc, SyncError):
        return exc.category
    return "internal"


__all__ = [
    "RETRYABLE_CATEGORIES",
    "AuthError",
    "Category",
    "ConfigurationError",
    "NaturhomeError",
    "PermanentConfigError",
    "PermanentDataError",
    "RateLimitedError",
    "SyncError",
    "TransientError",
    "category_of",
]
