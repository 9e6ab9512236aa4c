"""How HubSpot quote requests enter the inbox: the signed webhook (the catch-up poller and
the contact-event resolver are in :mod:`jobs.hubspot_catchup`).

Every path ends in the same event: ``source="hubspot"``, ``kind="form_submission"``,
``dedupe_key="submission:<conversion id>"``, flow ``lead_intake``, payload a canonical
submission. So a submission delivered by a workflow webhook, again by a retry, and once
more by the poller is stored once and processed once.

Deliveries that only name a contact (app-webhook batches, a workflow body without the
conversion id) are stored as ``contact`` events of the ``hubspot_resolve`` flow, which reads
the contact and its latest submission and enqueues the submission event.

The route answers: 401 for a bad or stale signature (nothing stored), 400 for a body that
is not JSON, 413 over the size limit, 503 when the store is down (HubSpot retries), and
2xx only once the events are committed. A JSON body of an unexpected shape is stored too
(kind ``unrecognised``) and dead-letters with a readable reason: nothing is lost silently.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from connectors.hubspot_models import Submission
from connectors.hubspot_signatures import public_request_uri, verify_request
from naturhome_sync.app import error_response
from naturhome_sync.errors import (
    PermanentDataError,
)
from naturhome_sync.flows import Flow, FlowRegistry
from naturhome_sync.logs import get_logger
from naturhome_sync.store import NewEvent
from naturhome_sync.webhooks import store_and_acknowledge

if TYPE_CHECKING:
    from naturhome_sync.runtime import Runtime
    from naturhome_sync.settings import Settings

log = get_logger("jobs.hubspot_intake")

SOURCE = "hubspot"
INTAKE_FLOW = "lead_intake"
RESOLVE_FLOW = "hubspot_resolve"
POLL_FLOW = "hubspot_poll"
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


# -- pure: deliveries -> events ---------------------------------------------------------------


def submission_payload(submission: Submission, *, received_via: str) -> dict[str, Any]:
    return {
        "conversion_id": submission.conversion_id,
        "submitted_at": submission.submitted_at,
        "form_guid": submission.form_guid,
        "contact_id": submission.contact_id,
        "page_url": submission.page_url,
        "values": dict(submission.values),
        "received_via": received_via,
    }


def submission_from_payload(payload: Mapping[str, Any]) -> Submission:
    return Submission(
        conversion_id=str(payload["conversion_id"]),
        submitted_at=int(payload["submitted_at"]),
        values={str(k): str(v) for k, v in (payload.get("values") or {}).items()},
        page_url=payload.get("page_url"),
        form_guid=str(payload["form_guid"]),
        contact_id=payload.get("contact_id"),
    )


def submission_event(submission: Submission, *, received_via: str) -> NewEvent:
    return NewEvent(
        source=SOURCE,
        kind="form_submission",
        flow=INTAKE_FLOW,
        dedupe_key=f"submission:{submission.conversion_id}",
        payload=submission_payload(submission, received_via=received_via),
    )


def parse_delivery(raw: bytes) -> Any:
    """The JSON of a verified delivery, in a form every store keeps; ``ValueError`` if not JSON.

    Strict JSON only: ``NaN``, ``Infinity`` and numbers beyond a double are refused (no store
    writes them back as JSON). Strings lose NUL characters and lone surrogates become U+FFFD:
    both are valid JSON escapes that PostgreSQL's ``jsonb`` refuses, and a delivery refused by
    the store would be answered 503 and retried by HubSpot for days, failing each time.
    """

    def finite(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"number {text} is out of range")
        return value

    def refuse(name: str) -> float:
        raise ValueError(f"{name} is not JSON")

    try:
        return _storable(json.loads(raw, parse_float=finite, parse_constant=refuse))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    return value


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:32]


def events_from_delivery(body: Any, raw: bytes) -> list[NewEvent]:
    """The inbox events of one webhook delivery (already verified and parsed)."""
    if isinstance(body, list):
        events: dict[str, NewEvent] = {}
        for item in body:
            if not isinstance(item, Mapping):
                return [_unrecognised(raw, "an app-webhook batch holds a non-object")]
            key = ":".join(
                str(item.get(k, ""))
                for k in (
                    "portalId",
                    "subscriptionType",
                    "objectId",
                    "propertyName",
                    "occurredAt",
                    "eventId",
                )
            )
            events[key] = NewEvent(
                source=SOURCE,
                kind="contact",
                flow=RESOLVE_FLOW,
                dedupe_key=f"event:{key}",
                payload={
                    "contact_id": str(item.get("objectId") or ""),
                    "event": dict(item),
                    "occurred_at": item.get("occurredAt"),
                },
            )
        return list(events.values())
    if isinstance(body, Mapping):
        if body.get("conversion_id"):
            try:
                submission = Submission.from_workflow_body(body)
            except PermanentDataError as exc:
                return [_unrecognised(raw, str(exc))]
            return [submission_event(submission, received_via="webhook")]
        if body.get("email") or body.get("hs_object_id"):
            return [
                NewEvent(
                    source=SOURCE,
                    kind="contact",
                    flow=RESOLVE_FLOW,
                    dedupe_key=f"contact-body:{_digest(raw)}",
                    payload={
                        "contact_id": str(body.get("hs_object_id") or ""),
                        "email": body.get("email"),
                        "occurred_at": body.get("submitted_at"),
                        "event": dict(body),
                    },
                )
            ]
    return [_unrecognised(raw, "neither a workflow body (object) nor an app-webhook batch (array)")]


def _unrecognised(raw: bytes, reason: str) -> NewEvent:
    return NewEvent(
        source=SOURCE,
        kind="unrecognised",
        flow=RESOLVE_FLOW,
        dedupe_key=f"body:{_digest(raw)}",
        payload={"reason": reason, "body": raw.decode("utf-8", errors="replace")[:100_000]},
    )


# -- the webhook route -----------------------------------------------------------------------


def webhook_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.post("/webhooks/hubspot")
    async def hubspot_webhook(request: Request) -> JSONResponse:
        settings = runtime.settings.hubspot
        if settings is None or not settings.client_secret.get_secret_value():
            # 503, not 401: HubSpot retries, and the deliveries arrive once we are configured.
            return error_response(503, "HubSpot is not configured on this service")
        raw = await request.body()
        # Behind a reverse proxy the socket URL is not the one HubSpot signed: the public
        # base comes from configuration; without one, the request's own scheme and host.
        base = (
            settings.webhook_public_base_url
            or runtime.settings.http.public_base_url
            or f"{request.url.scheme}://{request.url.netloc}"
        )
        uri = public_request_uri(
            base,
            request.scope.get("raw_path") or request.url.path.encode(),
            request.scope.get("query_string") or b"",
        )
        verdict = verify_request(
            method=request.method,
            uri=uri,
            body=raw,
            headers=request.headers,
            client_secret=settings.client_secret.get_secret_value(),
            max_age_s=settings.signature_max_age_s,
            accepted_versions=settings.accepted_signature_versions,
        )
        if not verdict.ok:
            # The path only: a query may carry an "API key" the HubSpot admin chose to add.
            log.warning("hubspot webhook refused", reason=verdict.reason, uri=uri.partition("?")[0])
            runtime.metrics.webhook("hubspot", "bad_signature")
            return error_response(401, "invalid signature")
        # Tells the operator whether every delivery carries v3 (accepted_signature_versions).
        log.debug("hubspot webhook verified", version=verdict.version)
        try:
            body = parse_delivery(raw)
        except ValueError as exc:
            runtime.metrics.webhook("hubspot", "malformed")
            return error_response(400, f"body is not JSON: {exc}")
        events = events_from_delivery(body, raw)
        response: JSONResponse = await run_in_threadpool(store_and_acknowledge, runtime, events)
        runtime.metrics.webhook(
            "hubspot", "accepted" if response.status_code < 300 else "store_failed"
        )
        return response

    return router


def register(registry: FlowRegistry, settings: Settings) -> None:
    from jobs.hubspot_catchup import poll, resolve

    configured = settings.hubspot is not None
    registry.add(
        Flow(
            name=POLL_FLOW,
            handler=poll,
            schedule="every 5m" if configured else None,
            description="catch-up: read HubSpot quote forms, enqueue new submissions",
        )
    )
    registry.add(
        Flow(
            name=RESOLVE_FLOW,
            handler=resolve,
            description="find the submission of a HubSpot delivery naming a contact",
        )
    )
    registry.add_router(webhook_router)
