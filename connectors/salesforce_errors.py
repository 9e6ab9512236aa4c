"""What a Salesforce error means for us, decided by its ``errorCode`` (one table).

simple-salesforce types errors by HTTP status only, but the status does not say enough:
``UNABLE_TO_LOCK_ROW`` (retry) and ``REQUIRED_FIELD_MISSING`` (never retry) are both 400,
and the daily API limit arrives as a 403. So the code decides first, the status second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError
from urllib3.exceptions import NameResolutionError, NewConnectionError

from naturhome_sync.errors import (
    AuthError,
    PermanentConfigError,
    PermanentDataError,
    RateLimitedError,
    SyncError,
    TransientError,
)

#: How long to wait when the org's daily API allocation is spent (it is a rolling 24 h).
DAILY_LIMIT_RETRY_AFTER_S = 15 * 60
#: How long to wait when the org refuses for too many requests at once.
CONCURRENCY_RETRY_AFTER_S = 5.0

#: errorCode / statusCode -> error class. Anything not listed falls back on the status.
BY_CODE: Mapping[str, type[SyncError]] = {
    # Try again: contention, maintenance, server trouble.
    "UNABLE_TO_LOCK_ROW": TransientError,
    "SERVER_UNAVAILABLE": TransientError,
    "UNKNOWN_EXCEPTION": TransientError,
    "QUERY_TIMEOUT": TransientError,
    "INVALID_QUERY_LOCATOR": TransientError,
    "REQUEST_RUNNING_TOO_LONG": TransientError,
    # Slow down: the org's API allocation (403) or concurrency limit.
    "REQUEST_LIMIT_EXCEEDED": RateLimitedError,
    "CONCURRENT_REQUESTS_LIMIT_EXCEEDED": RateLimitedError,
    # Login endpoints in trouble (SOAP faults are all HTTP 500; OAuth errors are JSON).
    "unknown_error": TransientError,
    "temporarily_unavailable": TransientError,
    # Credentials.
    "INVALID_SESSION_ID": AuthError,
    "INVALID_AUTH_HEADER": AuthError,
    "INVALID_LOGIN": AuthError,
    "LOGIN_MUST_USE_SECURITY_TOKEN": AuthError,
    "INVALID_OPERATION_WITH_EXPIRED_PASSWORD": AuthError,
    "PASSWORD_LOCKOUT": AuthError,
    "invalid_grant": AuthError,
    "invalid_client": AuthError,
    "invalid_client_id": AuthError,
    "unsupported_grant_type": AuthError,
    # The org (or our permission set) lacks what the code expects: fix the org.
    "INVALID_FIELD": PermanentConfigError,
    "INVALID_TYPE": PermanentConfigError,
    "INVALID_FIELD_FOR_INSERT_UPDATE": PermanentConfigError,
    "INSUFFICIENT_ACCESS": PermanentConfigError,
    "INSUFFICIENT_ACCESS_OR_READONLY": PermanentConfigError,
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": PermanentConfigError,
    "API_DISABLED_FOR_ORG": PermanentConfigError,
    "API_CURRENTLY_DISABLED": PermanentConfigError,
    "FUNCTIONALITY_NOT_ENABLED": PermanentConfigError,
    "NO_APPLICABLE_PROCESS": PermanentConfigError,
    "MALFORMED_QUERY": PermanentConfigError,
    "METHOD_NOT_ALLOWED": PermanentConfigError,
    # The data cannot be written as it is.
    "REQUIRED_FIELD_MISSING": PermanentDataError,
    "STRING_TOO_LONG": PermanentDataError,
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": PermanentDataError,
    "DUPLICATE_VALUE": PermanentDataError,
    "DUPLICATES_DETECTED": PermanentDataError,
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": PermanentDataError,
    "FIELD_INTEGRITY_EXCEPTION": PermanentDataError,
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": PermanentDataError,
    "INVALID_CROSS_REFERENCE_KEY": PermanentDataError,
    "MALFORMED_ID": PermanentDataError,
    "JSON_PARSER_ERROR": PermanentDataError,
    "NUMBER_OUTSIDE_VALID_RANGE": PermanentDataError,
    "INVALID_EMAIL_ADDRESS": PermanentDataError,
    "ENTITY_IS_DELETED": PermanentDataError,
    "NOT_FOUND": PermanentDataError,
    "ALREADY_IN_PROCESS": PermanentDataError,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": PermanentDataError,
    "PROCESSING_HALTED": PermanentDataError,
}


def _by_status(status: int) -> type[SyncError]:
    if status >= 500 or status in (408, 429):
        return TransientError if status != 429 else RateLimitedError
    if status == 401:
        return AuthError
    if status == 403:
        return PermanentConfigError
    return PermanentDataError


def first_error(content: Any) -> tuple[str | None, str, list[str]]:
    """(code, message, fields) of a Salesforce error body (list form or a single object)."""
    item: Any = content[0] if isinstance(content, list) and content else content
    if isinstance(item, Mapping):
        code = item.get("errorCode") or item.get("statusCode") or item.get("error")
        message = item.get("message") or item.get("error_description") or str(item)
        fields = item.get("fields") or []
        return (str(code) if code else None, str(message), [str(f) for f in fields])
    return (None, str(content)[:500], [])


def error_for(code: str | None, status: int, message: str, **context: Any) -> SyncError:
    cls = BY_CODE.get(code or "", None) or _by_status(status)
    if code == "NOT_FOUND" and "external id field" in message.lower():
        # "Provided external ID field does not exist or is not accessible": the org lacks
        # the external id the code relies on (or our permission set hides it), not a record.
        cls = PermanentConfigError
    retry_after: float | None = None
    if cls is RateLimitedError:
        # REQUEST_LIMIT_EXCEEDED is both the spent daily allocation ("TotalRequests Limit
        # exceeded.") and too many long-running requests at once ("ConcurrentPerOrgLongTxn
        # Limit exceeded"): the first lasts, the second clears within seconds.
        daily = code == "REQUEST_LIMIT_EXCEEDED" and "concurrent" not in message.lower()
        retry_after = DAILY_LIMIT_RETRY_AFTER_S if daily else CONCURRENCY_RETRY_AFTER_S
    return cls(message, code=code or f"HTTP_{status}", retry_after=retry_after, **context)


#: Failures after which we cannot know whether Salesforce carried out the request (it may
#: have committed before the answer was lost): only idempotent calls are repeated at once.
AMBIGUOUS_CODES = frozenset({"TIMEOUT", "CONNECTION"})


def map_login_error(
    exc: SalesforceAuthenticationFailed, operation: str, status: int | None
) -> SyncError:
    """A refused or failed login. simple-salesforce keeps the OAuth ``error`` or the SOAP
    ``exceptionCode`` but drops the HTTP status (``status``, when the caller saw it): the code
    decides first, then a 5xx means the login service is in trouble, not our credentials."""
    code: str | None = str(getattr(exc, "code", "") or "") or None
    message = str(getattr(exc, "auth_message", "") or exc)
    if code and code.isdigit():  # no parseable body: the code is the HTTP status
        status, code = int(code), None
    cls = BY_CODE.get(code or "")
    if cls is None:
        cls = _by_status(status) if status and (status >= 500 or status == 429) else AuthError
    if cls is AuthError:
        return AuthError(f"{operation}: login refused: {message}", code=code)
    return error_for(code, status or 500, f"{operation}: login failed: {message}")


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when no connection was made (refused, unknown host): nothing reached Salesforce."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError)


def map_exception(exc: BaseException, operation: str) -> SyncError:
    """Translate whatever a call raised into the service's taxonomy."""
    if isinstance(exc, SyncError):
        return exc
    if isinstance(exc, SalesforceAuthenticationFailed):
        return map_login_error(exc, operation, None)
    if isinstance(exc, SalesforceError):
        code, message, fields = first_error(exc.content)
        detail = f"{operation}: {message}" + (f" (fields: {', '.join(fields)})" if fields else "")
        return error_for(code, exc.status, detail, details={"fields": fields})
    if isinstance(exc, requests.ConnectTimeout):
        return TransientError(f"{operation}: cannot connect to Salesforce", code="CONNECT_TIMEOUT")
    if isinstance(exc, requests.Timeout):
        return TransientError(f"{operation}: Salesforce did not answer in time", code="TIMEOUT")
    if isinstance(exc, requests.ConnectionError):
        code = "CONNECT_FAILED" if _never_sent(exc) else "CONNECTION"
        return TransientError(f"{operation}: cannot reach Salesforce: {exc}", code=code)
    if isinstance(exc, RecursionError):
        # simple-salesforce's SFType path recurses on a 401 that survives a re-login.
        return AuthError(f"{operation}: the session keeps being refused", code="INVALID_SESSION_ID")
    raise exc


def record_error(errors: Sequence[Mapping[str, Any]], *, record: str) -> SyncError:
    """The error of one record of a collections/composite answer (``statusCode`` form)."""
    code, message, fields = first_error(list(errors))
    suffix = f" (fields: {', '.join(fields)})" if fields else ""
    return error_for(code, 400, f"{record}: {message}{suffix}", details={"fields": fields})
