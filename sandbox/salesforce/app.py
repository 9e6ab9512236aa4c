"""The ASGI application: Salesforce's URL space plus the ``/__sandbox`` control endpoints.

Routing is done on the raw request path, segment by segment, because an external id in a
URL may contain an encoded ``/`` (``%2F``) that a framework router would decode first.
Handlers run in the thread pool under the org lock; injected latency is awaited outside it,
so a slow fault never blocks other requests. A fault's ``latency_ms`` is awaited before the
call is carried out, its ``answer_latency_ms`` after (the work committed, the answer late).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.salesforce import seed
from sandbox.salesforce.control import Fault
from sandbox.salesforce.errors import SfError, not_found
from sandbox.salesforce.http_types import RestRequest, RestResponse, error_response, split_path
from sandbox.salesforce.org import Org
from sandbox.salesforce.rest import path_pattern, versions

_DATA = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_SOAP = re.compile(r"^/services/Soap/u/(\d+\.\d)(/.*)?$")
_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]


def create_app(org: Org) -> Starlette:
    async def endpoint(request: Request) -> Response:
        raw = request.scope.get("raw_path") or request.url.path.encode()
        path = raw.decode("latin-1")
        if path.startswith("/__sandbox"):
            return await _control(org, request, path)
        body = await request.body()
        return await _service(org, request, path, body)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=_METHODS)])


def _to_response(result: RestResponse, limit_info: str | None = None) -> Response:
    headers = dict(result.headers)
    if limit_info:
        headers["Sforce-Limit-Info"] = limit_info
    if result.status == 204 or (result.body is None and result.raw is None):
        return Response(status_code=result.status, headers=headers)
    return Response(
        result.payload, status_code=result.status, media_type=result.content_type, headers=headers
    )


def _json(status: int, body: Any) -> Response:
    return Response(
        json.dumps(body), status_code=status, media_type="application/json;charset=UTF-8"
    )


def _instance_url(org: Org, request: Request) -> str:
    if org.config.instance_url:
        return org.config.instance_url.rstrip("/")
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


async def _service(org: Org, request: Request, path: str, body: bytes) -> Response:
    method = request.method
    data = _DATA.match(path)
    pattern = (
        path_pattern(method, split_path(data.group(2) or "", plus_is_space=False))
        if data
        else f"{method} {path}"
    )
    org.stats.count(pattern)
    if path.rstrip("/") == "/services/data":
        return _json(200, versions(org.config.max_api_version))
    if data is not None:
        return await _data_call(org, request, path, data, body)
    fault = org.faults.match(method, path)
    if fault is not None:
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.status is not None:  # rendered as on data paths: no body is an empty body
            return _to_response(RestResponse(fault.status, fault.body))
    soap = _SOAP.match(path)
    if soap is not None and method == "POST":
        result = await run_in_threadpool(
            _locked, org, org.auth.soap_login, body, _instance_url(org, request), soap.group(1)
        )
        await _answer_late(fault)
        return Response(result.body, status_code=result.status, media_type=result.content_type)
    if path.rstrip("/") == "/services/oauth2/token" and method == "POST":
        result = await run_in_threadpool(
            _locked,
            org,
            org.auth.oauth_token,
            body,
            request.headers.get("authorization"),
            _instance_url(org, request),
            request.headers.get("x-forwarded-host"),
        )
        await _answer_late(fault)
        return _json(result.status, result.body)
    return _to_response(error_response(not_found()))


async def _answer_late(fault: Fault | None) -> None:
    """Hold back the answer of a call already carried out (and committed)."""
    if fault is not None and fault.answer_latency_ms:
        await asyncio.sleep(fault.answer_latency_ms / 1000)


def _locked(org: Org, func: Any, *args: Any) -> Any:
    with org.lock:
        return func(*args)


async def _data_call(
    org: Org, request: Request, path: str, match: re.Match[str], body: bytes
) -> Response:
    version = match.group(1)
    if float(version) > float(org.config.max_api_version) or float(version) < 20.0:
        return _to_response(error_response(not_found()))
    try:
        user_id = await run_in_threadpool(org.authorize, request.headers.get("authorization"))
    except SfError as error:
        limit = org.usage.header() if error.code == "REQUEST_LIMIT_EXCEEDED" else None
        return _to_response(error_response(error), limit)
    limit_info = org.usage.header()
    fault = org.faults.match(request.method, path)
    if fault is not None:
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.status is not None:
            return _to_response(RestResponse(fault.status, fault.body), limit_info)
    req = RestRequest(
        method=request.method,
        segments=split_path(
            match.group(2) or "", plus_is_space=org.config.behaviour.plus_in_path_is_space
        ),
        query_string=request.scope.get("query_string", b"").decode("latin-1"),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        version=version,
        user_id=user_id,
    )
    result = await run_in_threadpool(org.handle, req)
    await _answer_late(fault)
    return _to_response(result, limit_info)


async def _control(org: Org, request: Request, path: str) -> Response:
    """The ``/__sandbox`` endpoints (not Salesforce: never counted, never faulted)."""
    method, route = request.method, path.rstrip("/")
    body = await request.body()
    payload: Any = json.loads(body) if body.strip() else {}
    if route == "/__sandbox" and method == "GET":
        return _json(
            200, {"org_id": org.org_id, "user_id": org.user_id, "now": org.clock.now().isoformat()}
        )
    if route == "/__sandbox/stats":
        if method == "DELETE":
            org.stats.reset()
            return _json(200, {"reset": True})
        used = org.usage.used()
        calls = org.stats.snapshot()
        return _json(
            200,
            {
                "calls": calls,
                "total_calls": sum(calls.values()),
                "api_usage": {"used": used, "max": org.usage.allocation},
            },
        )
    if route == "/__sandbox/reset" and method == "POST":
        return _json(200, await run_in_threadpool(org.reset))
    if route == "/__sandbox/faults":
        if method == "POST":
            try:
                fault = org.faults.add(payload)
            except SfError as error:
                return _json(400, error.top_level())
            return _json(201, fault.describe())
        if method == "DELETE":
            org.faults.clear()
            return _json(200, {"cleared": True})
        return _json(200, {"faults": org.faults.list()})
    if route == "/__sandbox/load" and method == "POST":
        try:
            return _json(200, await run_in_threadpool(_locked, org, seed.load, org, payload))
        except seed.LoadError as error:
            return _json(400, error.body())
    if route == "/__sandbox/clock":
        if method == "POST":
            org.clock.advance(float(payload.get("advance_seconds", 0)))
        elif method == "DELETE":
            org.clock.reset()
        return _json(
            200, {"now": org.clock.now().isoformat(), "offset_seconds": org.clock.offset_seconds}
        )
    if route == "/__sandbox/sessions" and method == "DELETE":
        return _json(200, {"expired": await run_in_threadpool(org.expire_sessions)})
    return _json(404, [{"message": "Unknown sandbox endpoint", "errorCode": "NOT_FOUND"}])
