"""How HubSpot quote requests enter the inbox: the signed webhook and the catch-up poller.

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

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from connectors.hubspot_models import Submission
from connectors.hubspot_signatures import public_request_uri, verify_request
from naturhome_sync.app import error_response
from naturhome_sync.errors import PermanentDataError, TransientError
from naturhome_sync.flows import Flow, FlowContext, FlowRegistry, FlowResult
from naturhome_sync.logs import get_logger
from naturhome_sync.store import NewEvent
from naturhome_sync.store.inbox import utcnow
from naturhome_sync.webhooks import store_and_acknowledge

if TYPE_CHECKING:
    from naturhome_sync.runtime import Runtime
    from naturhome_sync.settings import Settings

log = get_logger("jobs.hubspot_intake")

SOURCE = "hubspot"
INTAKE_FLOW = "lead_intake"
RESOLVE_FLOW = "hubspot_resolve"
POLL_FLOW = "hubspot_poll"
#: How far back the poller looks the first time it runs for a form.
FIRST_POLL_LOOKBACK_MS = 7 * 24 * 3600 * 1000
#: Resolving a contact event: how long before the event its submission may have been made.
RESOLVE_WINDOW_MS = 24 * 3600 * 1000


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
                    "contact_id": str(item.get("objectId", "")),
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
        if settings is None:
            return error_response(503, "HubSpot is not configured on this service")
        raw = await request.body()
        base = settings.webhook_public_base_url or runtime.settings.http.public_base_url
        if base:
            uri = public_request_uri(
                base,
                request.scope.get("raw_path") or request.url.path.encode(),
                request.scope.get("query_string") or b"",
            )
        else:
            uri = str(request.url)
        verdict = verify_request(
            method=request.method,
            uri=uri,
            body=raw,
            headers=request.headers,
            client_secret=settings.client_secret.get_secret_value(),
            max_age_s=settings.signature_max_age_s,
        )
        if not verdict.ok:
            log.warning("hubspot webhook refused", reason=verdict.reason, uri=uri)
            runtime.metrics.webhook("hubspot", "bad_signature")
            return error_response(401, "invalid signature")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            runtime.metrics.webhook("hubspot", "malformed")
            return error_response(400, "body is not JSON")
        events = events_from_delivery(body, raw)
        response: JSONResponse = await run_in_threadpool(store_and_acknowledge, runtime, events)
        runtime.metrics.webhook(
            "hubspot", "accepted" if response.status_code < 300 else "store_failed"
        )
        return response

    return router


# -- resolving contact-only deliveries ----------------------------------------------------------


def resolve(ctx: FlowContext) -> FlowResult:
    """A delivery that names a contact: find its latest submission, enqueue that."""
    event = ctx.event
    if event.kind == "unrecognised":
        raise PermanentDataError(f"HubSpot delivery not understood: {event.payload['reason']}")
    settings = ctx.settings.hubspot
    if settings is None or not settings.form_guids:
        raise PermanentDataError("no HubSpot form configured (NATURHOME_HUBSPOT__FORM_GUIDS)")
    payload = event.payload
    details = payload.get("event") or {}
    if details.get("subscriptionType") == "contact.creation" and details.get(
        "changeSource"
    ) not in (None, "FORM"):
        return FlowResult(counters={"ignored": 1}, summary="contact not created by a form")
    client = ctx.runtime.services.hubspot
    email = payload.get("email")
    contact_id = payload.get("contact_id") or None
    if not email:
        if not contact_id:
            raise PermanentDataError("HubSpot delivery names neither a contact id nor an e-mail")
        email = client.get_contact(contact_id, ["email"]).email
    if not email:
        raise PermanentDataError(f"HubSpot contact {contact_id} has no e-mail")
    occurred = int(payload.get("occurred_at") or 0)
    for form_guid in settings.form_guids:
        submission = client.latest_submission_for_contact(
            form_guid, email, not_before_ms=max(0, occurred - RESOLVE_WINDOW_MS)
        )
        if submission is not None:
            if contact_id and not submission.contact_id:
                submission = dataclasses.replace(submission, contact_id=contact_id)
            return FlowResult(
                counters={"submissions_found": 1},
                summary=f"submission {submission.conversion_id} of {email}",
                follow_ups=[submission_event(submission, received_via="contact_event")],
            )
    # The forms API may not show a fresh submission yet: try again later (bounded).
    raise TransientError(f"no recent quote-form submission found for {email} yet")


# -- the catch-up poller ------------------------------------------------------------------------


def cursor_name(form_guid: str) -> str:
    return f"hubspot.form.{form_guid}.submitted_at_ms"


def poll(ctx: FlowContext) -> FlowResult:
    """Read each quote form back to its high-water mark; enqueue what is new."""
    settings = ctx.settings.hubspot
    if settings is None:
        raise PermanentDataError("HubSpot is not configured (NATURHOME_HUBSPOT__...)")
    client = ctx.runtime.services.hubspot
    cursors = ctx.runtime.cursors
    counters = {"submissions_seen": 0, "submissions_new": 0}
    for form_guid in settings.form_guids:
        stored = cursors.get(cursor_name(form_guid))
        now_ms = int(utcnow().timestamp() * 1000)
        mark = int(stored) if stored else now_ms - FIRST_POLL_LOOKBACK_MS
        submissions = list(client.iter_submissions_since(form_guid, mark))
        counters["submissions_seen"] += len(submissions)
        if not submissions or ctx.dry_run:
            continue
        results = ctx.runtime.inbox.enqueue_many(
            [submission_event(s, received_via="poller") for s in submissions]
        )
        counters["submissions_new"] += sum(1 for r in results if r.created)
        # Stored first, cursor second: a crash in between re-reads, and dedupe absorbs it.
        cursors.set(cursor_name(form_guid), str(max(s.submitted_at for s in submissions)))
    return FlowResult(
        counters=counters,
        summary=f"{counters['submissions_new']} new of {counters['submissions_seen']} read",
    )


def register(registry: FlowRegistry, settings: Settings) -> None:
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
