"""A do-nothing endpoint, for the benchmarks only: ``POST /bench/noop`` reads the body, answers 200.

Loaded into a benchmarked service as a plugin (``NATURHOME_PLUGINS='["benchmarks.noop_endpoint"]'``)
so that webhook latencies are reported next to what the same server, framework and client
take to answer a request that does nothing: the ratio is what the webhook itself costs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from naturhome_sync.flows import FlowRegistry
    from naturhome_sync.runtime import Runtime
    from naturhome_sync.settings import Settings

PATH = "/bench/noop"


def noop_router(_runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.post(PATH)
    async def noop(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"ok": True})

    return router


def register(registry: FlowRegistry, _settings: Settings) -> None:
    registry.add_router(noop_router)
