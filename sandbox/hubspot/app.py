"""The emulator's ASGI application: HubSpot's routes behind the gateway, plus control routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from sandbox.hubspot import contacts, control, forms
from sandbox.hubspot.errors import HubSpotApiError
from sandbox.hubspot.gateway import Gateway
from sandbox.hubspot.runtime import EmulatorRuntime


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HubSpotApiError)
    return exc.response()


async def _control_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, control.ControlError)
    return control.control_error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "Resource not found" if exc.status_code == 404 else str(exc.detail)
    category = "OBJECT_NOT_FOUND" if exc.status_code == 404 else "VALIDATION_ERROR"
    return HubSpotApiError(exc.status_code, message, category).response()


def create_app(runtime: EmulatorRuntime) -> ASGIApp:
    app = Starlette(
        routes=[*contacts.ROUTES, *forms.ROUTES, *control.ROUTES],
        exception_handlers={
            HubSpotApiError: _api_error,
            control.ControlError: _control_error,
            HTTPException: _http_error,
        },
    )
    app.state.runtime = runtime
    return Gateway(app, app.router, runtime)
