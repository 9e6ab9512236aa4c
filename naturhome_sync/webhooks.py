"""Store-then-acknowledge, shared by every webhook route.

A delivery is answered 2xx only after its events are committed; a duplicate is answered
2xx too (the sender must stop retrying) and stored once. When the store is unavailable the
answer is 503 with Retry-After, so the sender retries later: nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from naturhome_sync.app import error_response
from naturhome_sync.logs import get_logger

if TYPE_CHECKING:
    from naturhome_sync.runtime import Runtime
    from naturhome_sync.store import NewEvent

log = get_logger("naturhome_sync.webhooks")


def store_and_acknowledge(
    runtime: Runtime, events: Sequence[NewEvent], *, status_code: int = 200
) -> JSONResponse:
    try:
        results = runtime.inbox.enqueue_many(events)
    except SQLAlchemyError as exc:
        log.error("could not store a delivery", error=type(exc).__name__, events=len(events))
        response = error_response(503, "storage unavailable, retry later")
        response.headers["Retry-After"] = "30"
        return response
    created = [r.event_id for r in results if r.created]
    duplicates = [r.event_id for r in results if not r.created]
    log.info("delivery stored", created=len(created), duplicates=len(duplicates))
    return JSONResponse(
        status_code=status_code,
        content={
            "stored": len(created),
            "duplicates": len(duplicates),
            "event_ids": [r.event_id for r in results],
        },
    )
