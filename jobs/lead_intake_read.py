"""Reading what Salesforce holds about a quote request: one Composite call, five queries at most.

The contact holding the e-mail (with its account's fields), the opportunity of this
submission, the intake Task, the files already attached to the opportunity (by key) and, when
this process has not cached them, the user ids of the configured owners.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors import salesforce_composite as composite
from connectors.salesforce_values import soql_quote
from jobs.lead_intake_config import IntakeSetup
from jobs.scoring_load import BREAKDOWN_FIELD, PRIORITY_FIELD, SCORE_FIELD

OPPORTUNITY_KEY = "HubSpot_Submission_Id__c"
CONTACT_KEY = "HubSpot_Contact_Id__c"
ACTIVITY_KEY = "Naturhome_Key__c"
WARNINGS_FIELD = "Intake_Warnings__c"


def task_key(conversion_id: str) -> str:
    return f"intake:{conversion_id}"


def _unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


def read_requests(
    setup: IntakeSetup,
    *,
    conversion_id: str,
    email: str,
    contact_id: str | None,
    file_keys: Sequence[str],
    usernames: Sequence[str],
) -> list[composite.SubRequest]:
    """The queries of the one read call (≤ 5, the Composite limit for queries)."""
    spec = setup.mapping
    rules = {name: [r.name for r in spec.objects[name].rules] for name in spec.objects}
    contact_fields = _unique(["Id", "AccountId", "Email", CONTACT_KEY, *rules.get("Contact", [])])
    account_fields = [f"Account.{n}" for n in _unique(["Id", *rules.get("Account", [])])]
    match = f"Email = {soql_quote(email)}"
    if contact_id:
        match += f" OR {CONTACT_KEY} = {soql_quote(contact_id)}"
    opportunity_fields = _unique(
        [
            "Id",
            "AccountId",
            "OwnerId",
            *rules.get("Opportunity", []),
            SCORE_FIELD,
            PRIORITY_FIELD,
            BREAKDOWN_FIELD,
            WARNINGS_FIELD,
        ]
    )
    reads = [
        composite.query(
            f"SELECT {', '.join(contact_fields + account_fields)} FROM Contact WHERE {match} "
            "ORDER BY CreatedDate ASC, Id ASC LIMIT 20",
            "contacts",
        ),
        composite.query(
            f"SELECT {', '.join(opportunity_fields)} FROM Opportunity "
            f"WHERE {OPPORTUNITY_KEY} = {soql_quote(conversion_id)} LIMIT 1",
            "opportunity",
        ),
        composite.query(
            "SELECT Id, WhatId, OwnerId, Subject, Description, Status, Priority, ActivityDate "
            f"FROM Task WHERE {ACTIVITY_KEY} = {soql_quote(task_key(conversion_id))} "
            "ORDER BY CreatedDate ASC LIMIT 1",
            "task",
        ),
    ]
    if file_keys:
        keys = ", ".join(soql_quote(k) for k in file_keys)
        reads.append(
            composite.query(
                f"SELECT Id, {ACTIVITY_KEY}, FirstPublishLocationId FROM ContentVersion "
                f"WHERE {ACTIVITY_KEY} IN ({keys})",
                "files",
            )
        )
    if usernames:
        names = ", ".join(soql_quote(u) for u in sorted(usernames))
        reads.append(
            composite.query(
                f"SELECT Id, Username FROM User WHERE IsActive = true AND Username IN ({names})",
                "owners",
            )
        )
    return reads


@dataclass(frozen=True)
class SalesforceState:
    """What Salesforce holds about this request, as read before writing."""

    contact: Mapping[str, Any] | None = None
    account: Mapping[str, Any] | None = None
    #: Another contact than the matched one already holds the submission's HubSpot contact id.
    contact_id_taken: bool = False
    opportunity: Mapping[str, Any] | None = None
    task: Mapping[str, Any] | None = None
    attached_keys: frozenset[str] = frozenset()
    #: Active users found, lower-case username -> id.
    owners: Mapping[str, str] = field(default_factory=dict)


def _plain(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: v for k, v in row.items() if k != "attributes"}


def state_from(
    answer: composite.CompositeResult, *, email: str, contact_id: str | None
) -> SalesforceState:
    """Reads the answers of :func:`read_requests`.

    The contact is the oldest holding the e-mail; failing that, the one holding the HubSpot
    contact id (the person changed address in HubSpot).
    """
    rows = answer["contacts"].records
    by_email = [r for r in rows if str(r.get("Email") or "").lower() == email.lower()]
    wanted = (contact_id or "").lower()
    by_id = [r for r in rows if wanted and str(r.get(CONTACT_KEY) or "").lower() == wanted]
    matches = by_email or by_id
    contact = matches[0] if matches else None
    taken = bool(contact is not None and any(r["Id"] != contact["Id"] for r in by_id))
    opportunity = next(iter(answer["opportunity"].records), None)
    attached: frozenset[str] = frozenset()
    if opportunity is not None and "files" in answer.responses:
        attached = frozenset(
            str(r[ACTIVITY_KEY])
            for r in answer["files"].records
            if r.get("FirstPublishLocationId") == opportunity["Id"]
        )
    owners = {}
    if "owners" in answer.responses:
        owners = {str(r["Username"]).lower(): str(r["Id"]) for r in answer["owners"].records}
    return SalesforceState(
        contact=_plain(contact),
        account=_plain(contact.get("Account")) if contact else None,
        contact_id_taken=taken,
        opportunity=_plain(opportunity),
        task=_plain(next(iter(answer["task"].records), None)),
        attached_keys=attached,
        owners=owners,
    )
