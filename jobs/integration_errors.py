"""Dead letters mirrored into Salesforce as Integration_Error__c records.

When an event dies, the worker enqueues a ``dead_letter`` event for this flow (in the same
transaction); when a replayed event then succeeds, a ``resolved`` one. This flow upserts
the Integration_Error__c keyed by the inbox event id, so Salesforce users see what did not
sync and why, and see it resolved once it is. Being an event itself, the mirror is retried
like any other work when Salesforce is unavailable: nothing is lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from naturhome_sync.flows import Flow, FlowContext, FlowRegistry, FlowResult
from naturhome_sync.settings import Settings

NAME = "integration_errors"
OBJECT = "Integration_Error__c"
KEY = "Event_Id__c"
MESSAGE_LIMIT = 32_768


def error_record(payload: dict[str, Any]) -> dict[str, Any]:
    """The Integration_Error__c values for a dead letter (pure)."""
    message = str(payload.get("message") or "")
    record: dict[str, Any] = {
        "Source__c": str(payload.get("source") or "")[:40],
        "Flow__c": str(payload.get("flow") or "")[:80],
        "Category__c": payload.get("category") or "internal",
        "Message__c": message[:MESSAGE_LIMIT],
        "Attempts__c": int(payload.get("attempts") or 0),
        "Resolved__c": False,
    }
    if payload.get("occurred_at"):
        record["Occurred_At__c"] = datetime.fromisoformat(str(payload["occurred_at"]))
    if payload.get("record_id"):
        record["Record_Id__c"] = str(payload["record_id"])[:18]
    if payload.get("external_id"):
        record["External_Id__c"] = str(payload["external_id"])[:255]
    return record


def run(ctx: FlowContext) -> FlowResult:
    payload = ctx.event.payload
    event_key = str(payload["event_id"])
    client = ctx.runtime.services.salesforce
    if ctx.event.kind == "dead_letter":
        values = error_record(payload)
        if ctx.dry_run:
            return FlowResult(counters={"errors_mirrored": 0}, summary=f"would mirror {values}")
        result = client.upsert(OBJECT, KEY, event_key, values)
        return FlowResult(
            counters={"errors_mirrored": 1},
            summary=f"Integration_Error__c {result.id} for event {event_key}",
        )
    existing = client.get_by_external_id(OBJECT, KEY, event_key)
    if existing is None or existing.get("Resolved__c"):
        return FlowResult(counters={"errors_resolved": 0}, summary="nothing to resolve")
    if not ctx.dry_run:
        client.update(OBJECT, str(existing["Id"]), {"Resolved__c": True})
    return FlowResult(counters={"errors_resolved": 1}, summary=f"event {event_key} resolved")


def register(registry: FlowRegistry, settings: Settings) -> None:
    registry.add(
        Flow(name=NAME, handler=run, description="mirror dead letters as Integration_Error__c")
    )
    if settings.salesforce is not None:
        registry.dead_letter_flow = NAME
