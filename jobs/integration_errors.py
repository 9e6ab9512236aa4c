"""Dead letters mirrored into Salesforce as Integration_Error__c records.

When an event dies, the worker enqueues a ``dead_letter`` event for this flow (in the same
transaction); when a replayed event then succeeds, a ``resolved`` one. This flow upserts
the Integration_Error__c keyed by the event (``<store id>:<event id>``: unique beyond this
store, since a recreated store restarts its ids), so Salesforce users see what did not
sync and why, and see it resolved once it is. Being events themselves, the mirror's writes
are retried like any other work when Salesforce is unavailable: nothing is lost.

The two mirror events are not ordered (one may be waiting for Salesforce while the other
runs), so each decides from the inbox, not from its own payload, whether the problem is
still open: a ``dead_letter`` for an event that has been replayed successfully since
records it resolved, and a ``resolved`` that finds no record leaves the work to the
``dead_letter`` still on its way.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from naturhome_sync.flows import Flow, FlowContext, FlowRegistry, FlowResult
from naturhome_sync.settings import Settings

if TYPE_CHECKING:
    from naturhome_sync.runtime import Runtime

NAME = "integration_errors"
OBJECT = "Integration_Error__c"
KEY = "Event_Id__c"
MESSAGE_LIMIT = 32_768


def event_key(runtime: Runtime, event_id: int) -> str:
    """The Integration_Error__c key of an inbox event."""
    return f"{runtime.store_id}:{event_id}"


def error_record(payload: dict[str, Any], *, resolved: bool = False) -> dict[str, Any]:
    """The Integration_Error__c values for a dead letter (pure)."""
    message = str(payload.get("message") or "")
    record: dict[str, Any] = {
        "Source__c": str(payload.get("source") or "")[:40],
        "Flow__c": str(payload.get("flow") or "")[:80],
        "Category__c": payload.get("category") or "internal",
        "Message__c": message[:MESSAGE_LIMIT],
        "Attempts__c": int(payload.get("attempts") or 0),
        "Resolved__c": resolved,
    }
    if payload.get("occurred_at"):
        record["Occurred_At__c"] = datetime.fromisoformat(str(payload["occurred_at"]))
    if payload.get("record_id"):
        record["Record_Id__c"] = str(payload["record_id"])[:18]
    if payload.get("external_id"):
        record["External_Id__c"] = str(payload["external_id"])[:255]
    return record


def resolved_since(runtime: Runtime, payload: dict[str, Any]) -> bool:
    """Has the event that died been replayed and succeeded since this dead letter?"""
    current = runtime.inbox.get(int(payload["event_id"]))
    return (
        current is not None
        and current.status == "done"
        and current.replay_count > int(payload.get("replay_count") or 0)
    )


def run(ctx: FlowContext) -> FlowResult:
    payload = ctx.event.payload
    key = event_key(ctx.runtime, int(payload["event_id"]))
    client = ctx.runtime.services.salesforce
    if ctx.event.kind == "dead_letter":
        values = error_record(payload, resolved=resolved_since(ctx.runtime, payload))
        if ctx.dry_run:
            return FlowResult(counters={"errors_mirrored": 0}, summary=f"would mirror {values}")
        result = client.upsert(OBJECT, KEY, key, values)
        state = "resolved" if values["Resolved__c"] else "open"
        return FlowResult(
            counters={"errors_mirrored": 1},
            summary=f"Integration_Error__c {result.id} for event {key} ({state})",
        )
    existing = client.get_by_external_id(OBJECT, KEY, key)
    if existing is None or existing.get("Resolved__c"):
        # Not mirrored yet: the dead letter, when it runs, sees the success and says so.
        return FlowResult(counters={"errors_resolved": 0}, summary="nothing to resolve yet")
    if not ctx.dry_run:
        client.update(OBJECT, str(existing["Id"]), {"Resolved__c": True})
    return FlowResult(counters={"errors_resolved": 1}, summary=f"event {key} resolved")


def register(registry: FlowRegistry, settings: Settings) -> None:
    registry.add(
        Flow(name=NAME, handler=run, description="mirror dead letters as Integration_Error__c")
    )
    if settings.salesforce is not None:
        registry.dead_letter_flow = NAME
