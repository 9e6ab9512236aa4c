"""``/__sandbox/*``: the emulator's own endpoints, outside HubSpot's API (no token needed).

``POST /__sandbox/submissions`` is a contract other tools (the demo, benchmarks, the
lead's end-to-end tests) rely on: its name, request and response keys must not change.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.hubspot.intake import IntakeError, RecordedSubmission, record_submission
from sandbox.hubspot.runtime import EmulatorRuntime
from sandbox.hubspot.webhooks import (
    DeliveryMode,
    DeliveryResult,
    WebhookStyle,
    app_events,
    send_webhook,
    workflow_body,
)


class ControlError(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def control_error_response(error: ControlError) -> JSONResponse:
    return JSONResponse({"error": str(error)}, status_code=error.status_code)


async def _json_object(request: Request, *, required: bool = True) -> dict[str, Any]:
    raw = await request.body()
    if not raw and not required:
        return {}
    try:
        payload = json.loads(raw)
    except ValueError:
        raise ControlError(400, "body must be JSON") from None
    if not isinstance(payload, dict):
        raise ControlError(400, "body must be a JSON object")
    return payload


def _runtime(request: Request) -> EmulatorRuntime:
    runtime: EmulatorRuntime = request.app.state.runtime
    return runtime


async def stats(request: Request) -> Response:
    return JSONResponse(_runtime(request).stats())


async def reset(request: Request) -> Response:
    payload = await _json_object(request, required=False)
    scope = payload.get("scope", "all")
    if scope not in ("all", "stats"):
        raise ControlError(400, "scope must be 'all' or 'stats'")
    _runtime(request).reset(data=scope == "all")
    return JSONResponse({"reset": scope})


async def add_fault(request: Request) -> Response:
    payload = await _json_object(request)
    try:
        status = None if payload.get("status") is None else int(payload["status"])
        latency_s = float(payload.get("latency_ms", 0)) / 1000
        count = int(payload.get("count", 1))
        headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
        method, path = str(payload.get("method", "*")), str(payload.get("path", ".*"))
        re.compile(path)
    except (TypeError, ValueError, AttributeError, re.error) as error:
        raise ControlError(400, f"invalid fault: {error}") from None
    if status is None and not latency_s:
        raise ControlError(400, "a fault needs a status, a latency_ms, or both")
    if count < 1:
        raise ControlError(400, "count must be at least 1")
    fault = _runtime(request).add_fault(
        method=method,
        path=path,
        count=count,
        status=status,
        body=payload.get("body"),
        headers=headers,
        latency_s=latency_s,
    )
    return JSONResponse(fault.describe(), status_code=201)


async def list_faults(request: Request) -> Response:
    return JSONResponse({"faults": _runtime(request).faults()})


async def clear_faults(request: Request) -> Response:
    _runtime(request).clear_faults()
    return Response(status_code=204)


async def settings(request: Request) -> Response:
    runtime = _runtime(request)
    if request.method == "GET":
        return JSONResponse(runtime.settings())
    try:
        return JSONResponse(runtime.update_settings(await _json_object(request)))
    except ValueError as error:
        raise ControlError(400, str(error)) from None


async def clock(request: Request) -> Response:
    """``GET`` the emulator's now; ``POST {"advance_seconds": n}`` moves it; ``DELETE``
    puts it back on the wall clock."""
    runtime = _runtime(request)
    if request.method == "POST":
        payload = await _json_object(request)
        try:
            runtime.advance_clock(float(payload.get("advance_seconds", 0)))
        except (TypeError, ValueError) as error:
            raise ControlError(400, f"invalid advance_seconds: {error}") from None
    elif request.method == "DELETE":
        runtime.reset_clock()
    return JSONResponse(runtime.clock())


async def submissions(request: Request) -> Response:
    runtime = _runtime(request)
    payload = await _json_object(request)
    deliver = payload.get("deliver", "none")
    if deliver not in ("webhook", "none"):
        raise ControlError(400, "deliver must be 'webhook' or 'none'")
    options = payload.get("webhook") or {}
    try:
        style = WebhookStyle(options.get("style", WebhookStyle.WORKFLOW))
        mode = DeliveryMode(options.get("mode", DeliveryMode.VALID))
    except ValueError as error:
        raise ControlError(400, str(error)) from None
    if deliver == "webhook" and not runtime.config.service_webhook_url:
        raise ControlError(409, "no service_webhook_url configured (POST /__sandbox/config)")
    try:
        recorded = record_submission(runtime, payload)
    except IntakeError as error:
        raise ControlError(400, str(error)) from None
    answer: dict[str, Any] = {
        "conversion_id": recorded.conversion_id,
        "contact_id": str(recorded.contact_id),
    }
    if deliver == "webhook":
        result = await asyncio.to_thread(deliver_submission, runtime, recorded, style, mode)
        answer["delivery"] = result.as_dict()
    return JSONResponse(answer)


def deliver_submission(
    runtime: EmulatorRuntime,
    recorded: RecordedSubmission,
    style: WebhookStyle,
    mode: DeliveryMode,
) -> DeliveryResult:
    """Send the webhook HubSpot would send for this submission to the service."""
    url = runtime.config.service_webhook_url
    assert url is not None
    payload: Any
    if style is WebhookStyle.WORKFLOW:
        payload = workflow_body(
            contact_id=recorded.contact_id,
            email=recorded.values["email"],
            conversion_id=recorded.conversion_id,
            form_guid=recorded.form_guid,
            submitted_at=recorded.submitted_ms,
            values=recorded.values,
        )
    else:
        payload = app_events(
            contact_id=recorded.contact_id,
            portal_id=runtime.config.portal_id,
            app_id=runtime.config.app_id,
            occurred_at=recorded.submitted_ms,
            contact_created=recorded.contact_created,
        )
    return send_webhook(
        url,
        payload,
        client_secret=runtime.config.client_secret,
        style=style,
        mode=mode,
        timeout_s=runtime.config.webhook_timeout_s,
    )


ROUTES = [
    Route("/__sandbox/stats", stats, methods=["GET"]),
    Route("/__sandbox/reset", reset, methods=["POST"]),
    Route("/__sandbox/faults", add_fault, methods=["POST"]),
    Route("/__sandbox/faults", list_faults, methods=["GET"]),
    Route("/__sandbox/faults", clear_faults, methods=["DELETE"]),
    Route("/__sandbox/config", settings, methods=["GET", "POST"]),
    Route("/__sandbox/clock", clock, methods=["GET", "POST", "DELETE"]),
    Route("/__sandbox/submissions", submissions, methods=["POST"]),
]
