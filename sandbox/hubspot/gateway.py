"""What stands in front of every HubSpot API route: stats, faults, auth, rate limits.

A pure ASGI wrapper rather than per-route code, so no route can forget the bearer check, the
counters count faulted calls too, and an injected fault answers before anything else runs
(as an outage at HubSpot's edge would).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.hubspot.errors import HubSpotApiError, error_response, rate_limited, unauthorized
from sandbox.hubspot.runtime import EmulatorRuntime, Fault

CONTROL_PREFIX = "/__sandbox"
STORAGE_PREFIX = "/_files/"
SEARCH_SUFFIX = "/search"


class Gateway:
    def __init__(self, app: ASGIApp, router: Router, runtime: EmulatorRuntime) -> None:
        self.app = app
        self.router = router
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        self.runtime.count_call(method, self._pattern(scope))

        fault = self.runtime.take_fault(method, path)
        if fault is not None:
            if fault.latency_s:
                await asyncio.sleep(fault.latency_s)
            if fault.status is not None:
                await _fault_response(fault)(scope, receive, send)
                return

        if path.startswith(STORAGE_PREFIX):
            await self.app(scope, receive, send)
            return
        if not self._authorised(Request(scope)):
            await unauthorized().response()(scope, receive, send)
            return

        search = method == "POST" and path.endswith(SEARCH_SUFFIX)
        policy = self.runtime.admit(search=search)
        if policy is not None:
            await rate_limited(policy).response()(scope, receive, send)
            return
        if search:  # HubSpot sends no rate-limit headers on search responses
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self._with_rate_limit_headers(send))

    def _authorised(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expected = self.runtime.config.access_token.encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)

    def _pattern(self, scope: Scope) -> str:
        partial: str | None = None
        for route in self.router.routes:
            match, _ = route.matches(scope)
            route_path = str(getattr(route, "path", ""))
            if match is Match.FULL:
                return route_path
            if match is Match.PARTIAL and partial is None:
                partial = route_path
        return partial or "(unrouted)"

    def _with_rate_limit_headers(self, send: Send) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                for name, value in self.runtime.rate_limit_headers().items():
                    headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        return send_with_headers


def _fault_response(fault: Fault) -> Response:
    assert fault.status is not None
    body: Any = fault.body
    if body is None:
        body = _default_fault_body(fault.status)
    if isinstance(body, str):
        return Response(body, status_code=fault.status, headers=fault.headers)
    if isinstance(body, dict) and body.get("status") == "error":
        return error_response(fault.status, body, fault.headers)
    return JSONResponse(body, status_code=fault.status, headers=fault.headers)


def _default_fault_body(status: int) -> dict[str, Any]:
    if status == 429:
        return rate_limited("TEN_SECONDLY_ROLLING").body
    categories = {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION", 404: "OBJECT_NOT_FOUND"}
    message = "injected fault" if status < 500 else "internal error"
    return HubSpotApiError(status, message, categories.get(status, "INTERNAL_ERROR")).body


def json_body(raw: bytes) -> Any:
    """Parse a request body the way HubSpot's routes do; malformed JSON is a 400."""
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise HubSpotApiError(
            400, "Invalid input JSON on line 1, column 1", "VALIDATION_ERROR"
        ) from None
