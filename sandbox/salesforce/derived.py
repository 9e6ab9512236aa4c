"""Fields the platform computes on standard objects, so reads match a real org.

Opportunity IsClosed/IsWon/Probability follow the stage (the OpportunityStage value set
carries closed/won/probability); Task and Case IsClosed follow their status; Task.AccountId
follows what the task is related to. Only fields present in the schema are written.
"""

from __future__ import annotations

from typing import Any

from naturhome_sync.sfschema import ObjectDef
from sandbox.salesforce.store import Record, Store

_CLOSED_STATUS = {"Task": "completed", "Case": "closed"}


def apply(store: Store, obj: ObjectDef, before: Record | None, data: Record, stamp: str) -> None:
    """Recompute the derived fields of ``data`` (``before`` is None on create)."""
    if obj.name == "Opportunity":
        _opportunity(obj, before, data)
    if obj.name in _CLOSED_STATUS and obj.field("IsClosed") is not None:
        closed = str(data.get("Status") or "").casefold() == _CLOSED_STATUS[obj.name]
        was_closed = bool(before and before.get("IsClosed"))
        data["IsClosed"] = closed
        if obj.field("ClosedDate") is not None:
            data["ClosedDate"] = (
                (before or {}).get("ClosedDate")
                if closed and was_closed
                else (stamp if closed else None)
            )
    if obj.name == "Task" and obj.field("AccountId") is not None:
        data["AccountId"] = _account_of(store, data.get("WhatId"))


def _opportunity(obj: ObjectDef, before: Record | None, data: Record) -> None:
    stage_field = obj.field("StageName")
    stage = data.get("StageName")
    value = (
        next((v for v in stage_field.picklist_values if v.value == stage), None)
        if stage_field
        else None
    )
    if value is None:
        return
    if obj.field("IsClosed") is not None:
        data["IsClosed"] = value.closed
    if obj.field("IsWon") is not None:
        data["IsWon"] = value.won
    stage_changed = before is None or before.get("StageName") != stage
    probability_given = before is not None and before.get("Probability") != data.get("Probability")
    follows_stage = (before is None and data.get("Probability") is None) or (
        stage_changed and before is not None and not probability_given
    )
    if obj.field("Probability") is not None and value.probability is not None and follows_stage:
        data["Probability"] = float(value.probability)


def _account_of(store: Store, what_id: Any) -> str | None:
    if not isinstance(what_id, str):
        return None
    found = store.get(what_id)
    if found is None:
        return None
    sobject, _, record = found
    if sobject == "Account":
        return what_id
    account = record.get("AccountId")
    return account if isinstance(account, str) else None
