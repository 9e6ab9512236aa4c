"""The HTTP face of the service: health, readiness, metrics, and the flows' webhook routes.

Every error answer is JSON (``{"error": code, "message": text}``), whatever produced it: a
route, the framework (404, 405, 422) or the body-size guard (413). Webhook routes come with
their flows (``FlowRegistry.add_router``); this module knows none of them.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from naturhome_sync import __version__
from naturhome_sync.logs import get_logger
from naturhome_sync.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from naturhome_sync.runtime import Runtime

log = get_logger("naturhome_sync.http")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def error_response(
    status: int, message: str, *, code: str | None = None, **extra: Any
) -> JSONResponse:
    body = {"error": code or _STATUS_CODES.get(status, "error"), "message": message, **extra}
    return JSONResponse(status_code=status, content=body)


class BodySizeLimit:
    """Refuse bodies over ``max_bytes`` with 413, declared (Content-Length) or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                await self._reject(send, 400, "Content-Length is not a number")
                return
            if too_big:
                await self._reject(send, 413, self._message())
                return
        received = 0
        started = False
        rejected = False

        async def counting_receive() -> Message:
            # The framework turns exceptions raised while it reads the body into its own
            # 400, so answer 413 right here and swallow whatever the app sends afterwards.
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if not started and not rejected:
                        rejected = True
                        await self._reject(send, 413, self._message())
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counting_receive, guarded_send)

    def _message(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"

    @staticmethod
    async def _reject(send: Send, status: int, message: str) -> None:
        body = json.dumps({"error": _STATUS_CODES[status], "message": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="naturhome-sync",
        version=__version__,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_response(exc.status_code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            422,
            "request does not match the expected shape",
            details=json.loads(json.dumps(exc.errors(), default=str)),
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", path=request.url.path, error=repr(exc), exc_info=exc)
        return error_response(500, "internal error; the request was not processed")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is alive (touches nothing external, on purpose)."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", response_model=None)
    def readyz() -> dict[str, str] | JSONResponse:
        """Ready when the store answers and its schema is the one this code needs."""
        try:
            state = runtime.schema_state()
        except SQLAlchemyError as exc:
            reason = f"database unreachable: {type(exc).__name__}"
            return error_response(503, reason, code="not_ready", reason=reason)
        if not state.is_current:
            return error_response(503, state.describe(), code="not_ready", reason=state.describe())
        return {"status": "ready", "schema": state.head}

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(runtime.metrics.render(), media_type=CONTENT_TYPE)

    for factory in runtime.registry.routers:
        app.include_router(factory(runtime))

    app.add_middleware(BodySizeLimit, max_bytes=runtime.settings.http.max_body_bytes)
    return app
