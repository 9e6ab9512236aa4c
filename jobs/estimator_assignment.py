"""Estimator assignment: each new quote request goes to the estimator who can take it.

Unassigned opportunities in *Quote Requested*, highest score first then oldest, go to the
active estimator whose countries cover the site's country and who has the fewest open
dossiers, never above his capacity (``User.Estimator_Capacity__c``). The opportunity gets
``Estimator__c``, ``Assigned_At__c`` and the stage *Quote In Progress*; the estimator gets a
Task with the priority in its subject. A dossier nobody can take waits for the next run.

Cost: one Composite call to read (three queries) and one to write (an update collection
and a task upsert collection), whatever the number of dossiers up to 200.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connectors import salesforce_composite as composite
from connectors.salesforce_values import soql_in
from naturhome_sync.flows import Flow, FlowContext, FlowRegistry, FlowResult
from naturhome_sync.settings import Settings
from naturhome_sync.store.inbox import utcnow

NAME = "estimator_assignment"
WAITING_STAGE = "Quote Requested"
ASSIGNED_STAGE = "Quote In Progress"
#: Stages in which a dossier still weighs on its estimator.
LOAD_STAGES = ("Quote Requested", "Quote In Progress")
#: Days an estimator has to start, by priority (the Task's due date).
DUE_DAYS = {"P1": 2, "P2": 5, "P3": 10}
TASK_PRIORITY = {"P1": "High", "P2": "Normal", "P3": "Low"}
BATCH = 200


@dataclass(frozen=True)
class Dossier:
    id: str
    name: str
    score: float
    priority: str
    site_country: str | None
    created: str


@dataclass
class Estimator:
    id: str
    name: str
    countries: frozenset[str]
    capacity: int
    load: int = 0

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.load)


@dataclass(frozen=True)
class Assignment:
    dossier: Dossier
    estimator: Estimator


@dataclass
class Plan:
    assignments: list[Assignment] = field(default_factory=list)
    waiting: list[tuple[Dossier, str]] = field(default_factory=list)


def plan(dossiers: Iterable[Dossier], estimators: Sequence[Estimator]) -> Plan:
    """Who takes what (pure). Loads in ``estimators`` are updated as dossiers are given."""
    result = Plan()
    ordered = sorted(dossiers, key=lambda d: (-d.score, d.created, d.id))
    for dossier in ordered:
        if not dossier.site_country:
            result.waiting.append((dossier, "site country unknown"))
            continue
        able = [e for e in estimators if dossier.site_country in e.countries]
        free = [e for e in able if e.free > 0]
        if not free:
            reason = "no estimator covers " + dossier.site_country if not able else "no capacity"
            result.waiting.append((dossier, reason))
            continue
        chosen = min(free, key=lambda e: (e.load, -e.free, e.name, e.id))
        chosen.load += 1
        result.assignments.append(Assignment(dossier, chosen))
    return result


def task_values(assignment: Assignment, today: date) -> dict[str, Any]:
    dossier = assignment.dossier
    priority = dossier.priority if dossier.priority in DUE_DAYS else "P3"
    return {
        "attributes": {"type": "Task"},
        "Naturhome_Key__c": f"assignment:{dossier.id}:{assignment.estimator.id}",
        "WhatId": dossier.id,
        "OwnerId": assignment.estimator.id,
        "Subject": f"[{priority}] Devis à préparer : {dossier.name}"[:255],
        "Description": (
            f"Dossier attribué automatiquement (score {dossier.score:g}, priorité {priority})."
        ),
        "Status": "Not Started",
        "Priority": TASK_PRIORITY[priority],
        "ActivityDate": (today + timedelta(days=DUE_DAYS[priority])).isoformat(),
    }


def writes(
    assignments: Sequence[Assignment], now: datetime, timezone: str
) -> list[composite.SubRequest]:
    """The update and task collections of one batch (one Composite call).

    ``now`` is aware; the Tasks' due dates count from the day it is in ``timezone`` (the
    estimators'), not in UTC: just after midnight in Brussels it is still yesterday in UTC.
    """
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    today = now.astimezone(ZoneInfo(timezone)).date()
    opportunities = [
        {
            "attributes": {"type": "Opportunity"},
            "id": a.dossier.id,
            "Estimator__c": a.estimator.id,
            "Assigned_At__c": stamp,
            "StageName": ASSIGNED_STAGE,
        }
        for a in assignments
    ]
    tasks = [task_values(a, today) for a in assignments]
    return [
        composite.SubRequest(
            "PATCH",
            "composite/sobjects",
            "assign",
            {"allOrNone": True, "records": opportunities},
        ),
        composite.SubRequest(
            "PATCH",
            "composite/sobjects/Task/Naturhome_Key__c",
            "tasks",
            {"allOrNone": True, "records": tasks},
        ),
    ]


# -- reading -----------------------------------------------------------------------------------


def reads() -> list[composite.SubRequest]:
    return [
        composite.query(
            "SELECT Id, Name, Score__c, Priority__c, Site_Country__c, CreatedDate "
            f"FROM Opportunity WHERE StageName = '{WAITING_STAGE}' AND Estimator__c = null "
            f"ORDER BY Score__c DESC NULLS LAST, CreatedDate ASC LIMIT {BATCH}",
            "dossiers",
        ),
        composite.query(
            "SELECT Id, Name, Estimator_Capacity__c, Estimator_Countries__c FROM User "
            "WHERE Is_Estimator__c = true AND IsActive = true",
            "estimators",
        ),
        composite.query(
            "SELECT Estimator__c FROM Opportunity WHERE Estimator__c != null "
            f"AND StageName IN {soql_in(list(LOAD_STAGES))}",
            "load",
        ),
    ]


def dossier_from(row: Mapping[str, Any]) -> Dossier:
    return Dossier(
        id=str(row["Id"]),
        name=str(row.get("Name") or row["Id"]),
        score=float(row.get("Score__c") or 0),
        priority=str(row.get("Priority__c") or "P3"),
        site_country=row.get("Site_Country__c"),
        created=str(row.get("CreatedDate") or ""),
    )


def estimators_from(rows: Iterable[Mapping[str, Any]], loads: Counter[str]) -> list[Estimator]:
    return [
        Estimator(
            id=str(row["Id"]),
            name=str(row.get("Name") or row["Id"]),
            countries=frozenset(
                c.strip() for c in str(row.get("Estimator_Countries__c") or "").split(";") if c
            ),
            capacity=int(row.get("Estimator_Capacity__c") or 0),
            load=loads.get(str(row["Id"]), 0),
        )
        for row in rows
    ]


def run(ctx: FlowContext) -> FlowResult:
    """Read, plan and write under one deployment-wide lock.

    Two overlapping runs (a tick and ``naturhome-sync run estimator_assignment``, or two
    ticks on two workers) would otherwise both plan from the same loads: a dossier could get
    two estimators (two Tasks), and an estimator more dossiers than his capacity. A run that
    waits for the lock reads what the other one wrote.
    """
    client = ctx.runtime.services.salesforce
    client.check_budget(urgent=False)
    with ctx.runtime.key_locks.hold(NAME):
        answer = client.composite(reads(), all_or_none=False)
        answer.raise_for_errors()
        loads = Counter(str(r["Estimator__c"]) for r in answer["load"].records)
        estimators = estimators_from(answer["estimators"].records, loads)
        result = plan((dossier_from(r) for r in answer["dossiers"].records), estimators)
        if result.assignments and not ctx.dry_run:
            written = client.composite(
                writes(result.assignments, utcnow(), ctx.settings.timezone), all_or_none=True
            )
            written.raise_for_errors()
    counters = {"assigned": len(result.assignments), "waiting": len(result.waiting)}
    lines = [f"{a.dossier.name} -> {a.estimator.name}" for a in result.assignments]
    lines += [f"{d.name} waits: {why}" for d, why in result.waiting]
    return FlowResult(
        counters=counters,
        summary=(
            f"{counters['assigned']} assigned, {counters['waiting']} waiting"
            + ("" if not lines else ": " + "; ".join(lines[:20]))
        ),
    )


def register(registry: FlowRegistry, settings: Settings) -> None:
    registry.add(
        Flow(
            name=NAME,
            handler=run,
            description="give unassigned quote requests to estimators by priority and capacity",
            schedule="every 10m" if settings.salesforce is not None else None,
        )
    )
