"""Turns what HubSpot answered into the service's error taxonomy (``naturhome_sync.errors``).

The status alone is not enough: a 429 means "wait out the rest of a 10-second window",
"wait one second" or "come back tomorrow" depending on the body's ``policyName``, and a 400
naming a property that does not exist means the portal lacks a custom property (an admin
must create it), not that this record is bad.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from naturhome_sync.errors import (
    AuthError,
    PermanentConfigError,
    PermanentDataError,
    RateLimitedError,
    SyncError,
    TransientError,
)

#: Statuses HubSpot documents as "try again": locks, portal migration, gateway trouble.
RETRYABLE_STATUSES = frozenset({423, 477, 500, 502, 503, 504, 521, 522, 523, 524})
LOCKED_RETRY_AFTER_S = 2.0
SECONDLY_RETRY_AFTER_S = 1.0
MIN_DAILY_RETRY_AFTER_S = 60.0


class HubSpotNotFoundError(PermanentDataError):
    """The record (contact, form, file) does not exist in the portal."""


class HubSpotFileTooLargeError(PermanentDataError):
    """An uploaded file is bigger than ``max_file_bytes``; it is not downloaded."""


class HubSpotFileUnavailableError(TransientError):
    """The file's host could not be reached or refused the download link (try again later)."""


class HubSpotFileUrlError(PermanentDataError):
    """The value is not a HubSpot uploaded-file link we may send our token to."""


def parse_error_body(body: bytes | str | None) -> dict[str, Any]:
    """HubSpot's JSON error body, or ``{}`` when it is empty, HTML or otherwise odd."""
    if not body:
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """``Retry-After`` in seconds (HubSpot's REST API uses seconds; dates are not used)."""
    raw = header(headers, "Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def seconds_until_midnight(timezone: str, now: datetime | None = None) -> float:
    """The daily limit resets at midnight in the account's time zone."""
    zone = ZoneInfo(timezone)
    current = now.astimezone(zone) if now else datetime.now(zone)
    midnight = (current + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(MIN_DAILY_RETRY_AFTER_S, (midnight - current).total_seconds())


def error_from_response(
    status: int,
    body: bytes | str | None,
    headers: Mapping[str, str] | None,
    *,
    operation: str,
    burst_retry_after: Callable[[], float],
    account_timezone: str,
) -> SyncError:
    """The taxonomy error for one non-2xx HubSpot answer to ``operation``."""
    data = parse_error_body(body)
    message = str(data.get("message") or f"HTTP {status}")
    details = {
        "status": status,
        "operation": operation,
        "correlation_id": data.get("correlationId") or header(headers, "X-HubSpot-Correlation-Id"),
        "category": data.get("category"),
    }
    text = f"HubSpot {operation}: {message}"
    if status == 429:
        policy = str(data.get("policyName") or "")
        retry_after = retry_after_seconds(headers)
        if retry_after is None:
            if policy == "SECONDLY":
                retry_after = SECONDLY_RETRY_AFTER_S
            elif policy == "DAILY":
                retry_after = seconds_until_midnight(account_timezone)
            else:
                retry_after = burst_retry_after()
        details["policy"] = policy or None
        return RateLimitedError(
            text, code=policy or "RATE_LIMIT", retry_after=retry_after, details=details
        )
    category = str(data.get("category") or "")
    codes = [str(item.get("code")) for item in data.get("errors") or [] if isinstance(item, dict)]
    if status in (401, 403):
        return AuthError(text, code=category or f"HTTP_{status}", details=details)
    if status == 404:
        return HubSpotNotFoundError(text, code=category or "OBJECT_NOT_FOUND", details=details)
    if status in RETRYABLE_STATUSES:
        retry_after = retry_after_seconds(headers)
        if status == 423 and retry_after is None:
            retry_after = LOCKED_RETRY_AFTER_S
        return TransientError(text, code=f"HTTP_{status}", retry_after=retry_after, details=details)
    if "PROPERTY_DOESNT_EXIST" in codes or "PROPERTY_DOESNT_EXIST" in message:
        return PermanentConfigError(text, code="PROPERTY_DOESNT_EXIST", details=details)
    if 400 <= status < 500:
        code = codes[0] if codes else category or f"HTTP_{status}"
        return PermanentDataError(text, code=code, details=details)
    return TransientError(text, code=f"HTTP_{status}", details=details)


def transport_error(operation: str, error: BaseException) -> TransientError:
    """No answer at all (refused, reset, timed out): always worth another try."""
    return TransientError(
        f"HubSpot {operation}: {type(error).__name__}: {error}",
        code="NETWORK",
        details={"operation": operation},
    )
