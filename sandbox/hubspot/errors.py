"""HubSpot's error bodies, so clients see what production sends them.

Shapes come from HubSpot's error-handling guide and from bodies quoted in public issues:
``{"status": "error", "message", "correlationId", "category", "errors"?, "context"?,
"links"?}``; rate-limit errors carry ``errorType``/``policyName`` instead of ``category``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.responses import JSONResponse

AUTH_MISSING_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)

RATE_LIMIT_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


class HubSpotApiError(Exception):
    """Raised by a route to answer with a HubSpot error body."""

    def __init__(
        self,
        status_code: int,
        message: str,
        category: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
        links: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body: dict[str, Any] = {"status": "error", "message": message}
        self.body["correlationId"] = str(uuid.uuid4())
        if errors is not None:
            self.body["errors"] = errors
        if context is not None:
            self.body["context"] = context
        if links is not None:
            self.body["links"] = links
        self.body["category"] = category
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return error_response(self.status_code, self.body, self.headers)


def error_response(
    status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    correlation = str(body.get("correlationId") or uuid.uuid4())
    merged = {"X-HubSpot-Correlation-Id": correlation, **(headers or {})}
    return JSONResponse(body, status_code=status_code, headers=merged)


def unauthorized() -> HubSpotApiError:
    return HubSpotApiError(
        401,
        AUTH_MISSING_MESSAGE,
        "INVALID_AUTHENTICATION",
        headers={"X-HubSpot-Auth-Failure": "401 Unauthorized"},
    )


def object_not_found(object_id: str) -> HubSpotApiError:
    return HubSpotApiError(
        404,
        "Object not found.  objectId are usually numeric.",
        "OBJECT_NOT_FOUND",
        context={"id": [object_id]},
    )


def validation_error(message: str, errors: list[dict[str, Any]] | None = None) -> HubSpotApiError:
    return HubSpotApiError(400, message, "VALIDATION_ERROR", errors=errors)


def property_errors(portal_id: int, problems: list[tuple[str, str, str]]) -> HubSpotApiError:
    """400 for writes naming unknown or read-only properties: ``(name, error_code, message)``.

    HubSpot embeds a JSON list in ``message`` and repeats each problem in ``errors``.
    """
    details = [
        {
            "isValid": False,
            "message": text,
            "error": code,
            "name": name,
            "localizedErrorMessage": text,
            "portalId": portal_id,
        }
        for name, code, text in problems
    ]
    message = "Property values were not valid: " + json.dumps(details, separators=(",", ":"))
    errors = [
        {"message": text, "code": code, "context": {"propertyName": [name]}}
        for name, code, text in problems
    ]
    return validation_error(message, errors)


def rate_limited(policy: str) -> HubSpotApiError:
    error = HubSpotApiError(429, RATE_LIMIT_MESSAGES[policy], "RATE_LIMITS")
    error.body = {
        "status": "error",
        "message": RATE_LIMIT_MESSAGES[policy],
        "errorType": "RATE_LIMIT",
        "correlationId": error.body["correlationId"],
        "policyName": policy,
    }
    return error
