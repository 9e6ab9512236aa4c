"""The pure core of the lead intake: exactly what to write, given what was read.

Nothing here calls anything. :func:`plan_intake` decides the nodes of the one Composite
Graph (all or nothing) that files the request:

- new client: Account create, Contact create (or upsert by ``HubSpot_Contact_Id__c`` when the
  HubSpot contact is known) linked to it by reference;
- known client: only the Account/Contact updates the mapping's ``on_existing`` rules call for
  (Salesforce wins unless blank), none when nothing changes;
- the Opportunity: upsert by ``HubSpot_Submission_Id__c`` when new; when it exists, an update
  of what is blank or changed only (stage, owner, account and score are never rewritten);
- one ContentVersion per file not yet attached (:mod:`jobs.lead_intake_files`);
- the Task ``intake:<conversion id>``, written only when its content differs.

A replay of a request already filed therefore plans no node at all, and costs the read only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors import salesforce_composite as composite
from connectors.hubspot_models import DownloadedFile, Submission
from connectors.salesforce import file_version, task_values
from jobs.lead_intake_config import IntakeConfig, IntakeSetup
from jobs.lead_intake_files import FileLink, FileOutcome, file_warning_prefix
from jobs.lead_intake_read import (
    ACTIVITY_KEY,
    CONTACT_KEY,
    OPPORTUNITY_KEY,
    WARNINGS_FIELD,
    SalesforceState,
    task_key,
)
from jobs.scoring import ScoreResult, score
from jobs.scoring_load import BREAKDOWN_FIELD, PRIORITY_FIELD, SCORE_FIELD
from naturhome_sync.errors import PermanentConfigError
from naturhome_sync.mapping import (
    MappedRecords,
    changed_fields,
    is_blank_in_salesforce,
    merge_existing,
    submission_date,
    values_equal,
)

LONG_TEXT_LIMIT = 32_000
#: Graph node (= composite reference) names; files are ``file0``, ``file1``...
ACCOUNT, CONTACT, OPPORTUNITY, TASK = "account", "contact", "opportunity", "task"
FILE_NODE = "file"
NODE_OBJECTS = {ACCOUNT: "accounts", CONTACT: "contacts", OPPORTUNITY: "opportunities"}


def mapping_source(submission: Submission) -> dict[str, Any]:
    """The mapping's input: the form values plus the keys the intake adds."""
    return {
        **submission.values,
        "conversion_id": submission.conversion_id,
        "contact_id": submission.contact_id,
        "form_guid": submission.form_guid,
        "submitted_at": submission.submitted_at,
        "page_url": submission.page_url,
    }


def number_text(value: Any) -> str:
    """``100`` for a score whether it is ``100``, ``100.0`` or ``Decimal("100.0")``."""
    number = Decimal(str(value))
    return str(int(number)) if number == number.to_integral_value() else str(number)


@dataclass(frozen=True)
class Owner:
    username: str
    user_id: str


def resolve_owner(
    config: IntakeConfig, opportunity: Mapping[str, Any], owners: Mapping[str, str]
) -> tuple[Owner, list[str]]:
    """The owner of a new dossier, and a warning when a rule's user had to be replaced."""
    username, rule = config.owner_for(opportunity)
    warnings: list[str] = []
    if username.lower() not in owners and rule is not None:
        warnings.append(
            f"Responsable {username} (règle « {rule} ») introuvable ou inactif dans Salesforce : "
            f"dossier attribué à {config.default_owner}"
        )
        username = config.default_owner
    user_id = owners.get(username.lower())
    if user_id is None:
        raise PermanentConfigError(
            f"{config.path}: default_owner {username} is not an active Salesforce user",
            code="INTAKE_OWNER",
        )
    return Owner(username, user_id), warnings


def merge_warnings(existing: str | None, lines: Sequence[str], files: Sequence[str]) -> str:
    """The dossier's warnings: what Salesforce holds, minus old lines about ``files`` (whose
    fate this run knows), plus this run's new lines. Capped at the field's size."""
    prefixes = tuple(file_warning_prefix(name) for name in files)
    kept = [
        line
        for line in (existing or "").splitlines()
        if line.strip() and not (prefixes and line.startswith(prefixes))
    ]
    kept += [line for line in dict.fromkeys(lines) if line not in kept]
    text = "\n".join(kept)
    return text if len(text) <= LONG_TEXT_LIMIT else text[: LONG_TEXT_LIMIT - 1] + "…"


@dataclass
class IntakePlan:
    nodes: list[composite.SubRequest]
    #: Downloaded files too big to travel in the graph: one ContentVersion call each, after it.
    separate_files: list[tuple[FileLink, DownloadedFile]]
    #: The opportunity's id when it exists already; None: read it from the graph's answer.
    opportunity_id: str | None
    new_client: bool
    #: As the dossier holds it once written (Salesforce answers numbers as floats or Decimals).
    score: int | float | Decimal | None
    priority: str | None
    warnings: list[str]
    #: Intake_Warnings__c as this plan leaves it.
    warnings_text: str
    owner: str | None
    counters: dict[str, int]

    def lines(self) -> list[str]:
        return [f"{n.method} {n.path.split('?')[0]}" for n in self.nodes]


def _task_description(
    submission: Submission,
    opportunity: Mapping[str, Any],
    files: Sequence[str],
    warnings_text: str,
) -> str:
    day = submission_date(submission.submitted_at)
    parts = [
        f"Demande de devis reçue via HubSpot le {day:%d/%m/%Y} "
        f"(soumission {submission.conversion_id}).",
    ]
    if opportunity.get(SCORE_FIELD) is not None:
        parts.append(
            f"Score : {number_text(opportunity[SCORE_FIELD])}/100, "
            f"priorité {opportunity.get(PRIORITY_FIELD)}"
        )
        if opportunity.get(BREAKDOWN_FIELD):
            parts.append(str(opportunity[BREAKDOWN_FIELD]))
    parts.append("Fichiers joints : " + (", ".join(files) if files else "aucun"))
    if warnings_text:
        parts.append("Avertissements :\n" + warnings_text)
    text = "\n".join(parts)
    return text if len(text) <= LONG_TEXT_LIMIT else text[: LONG_TEXT_LIMIT - 1] + "…"


def _with(values: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {k: v for k, v in {**values, **extra}.items() if v is not None}


def _client_nodes(
    setup: IntakeSetup,
    state: SalesforceState,
    records: Mapping[str, Mapping[str, Any]],
    owner: Owner | None,
) -> tuple[list[composite.SubRequest], str]:
    """Account and contact writes, and the account id (or reference) the dossier goes on."""
    spec = setup.mapping
    account_in = records.get("Account", {})
    contact_in = dict(records.get("Contact", {}))
    nodes: list[composite.SubRequest] = []
    new_account = state.contact is None or state.account is None
    if new_account:
        assert owner is not None
        nodes.append(composite.create("Account", _with(account_in, OwnerId=owner.user_id), ACCOUNT))
        account_id = "@{account.id}"
    else:
        assert state.account is not None
        account_id = str(state.account["Id"])
        changes = merge_existing(spec, "Account", account_in, state.account)
        if changes:
            nodes.append(composite.update("Account", account_id, changes, ACCOUNT))
    if state.contact is None:
        assert owner is not None
        values = _with(contact_in, AccountId=account_id, OwnerId=owner.user_id)
        hubspot_id = values.get(CONTACT_KEY)
        nodes.append(
            composite.upsert("Contact", CONTACT_KEY, str(hubspot_id), values, CONTACT)
            if hubspot_id
            else composite.create("Contact", values, CONTACT)
        )
    else:
        if state.contact_id_taken:
            contact_in.pop(CONTACT_KEY, None)  # unique: another contact holds it
        changes = merge_existing(spec, "Contact", contact_in, state.contact)
        if new_account:
            changes["AccountId"] = account_id
        if changes:
            nodes.append(composite.update("Contact", str(state.contact["Id"]), changes, CONTACT))
    return nodes, account_id


def _split_files(
    files: Sequence[FileOutcome], budget: int
) -> tuple[list[tuple[FileLink, DownloadedFile]], list[tuple[FileLink, DownloadedFile]]]:
    """Downloaded files that fit in the graph (in order, up to ``budget`` bytes), and the rest
    (all of them with a budget of -1)."""
    in_graph: list[tuple[FileLink, DownloadedFile]] = []
    separate: list[tuple[FileLink, DownloadedFile]] = []
    for outcome in files:
        if outcome.status != "downloaded" or outcome.file is None:
            continue
        if outcome.file.size <= budget:
            in_graph.append((outcome.link, outcome.file))
            budget -= outcome.file.size
        else:
            separate.append((outcome.link, outcome.file))
    return in_graph, separate


@dataclass(frozen=True)
class _Dossier:
    node: composite.SubRequest | None
    #: The id when the opportunity exists already (None: the graph gives it).
    id: str | None
    #: What the files and the task point at: the id, or a reference to the graph's node.
    what_id: str
    task_owner: str | None
    #: The opportunity's fields once written (score, priority, breakdown for the task).
    fields: Mapping[str, Any]


def _dossier(
    setup: IntakeSetup,
    submission: Submission,
    opportunity_in: Mapping[str, Any],
    existing: Mapping[str, Any] | None,
    account_id: str,
    owner: Owner | None,
    warnings_text: str,
) -> _Dossier:
    today = submission_date(submission.submitted_at)
    if existing is None:
        assert owner is not None
        result: ScoreResult = score(setup.scoring, opportunity_in, today)
        values = _with(
            opportunity_in,
            AccountId=account_id,
            OwnerId=owner.user_id,
            **result.fields(),
            **{WARNINGS_FIELD: warnings_text or None},
        )
        node = composite.upsert(
            "Opportunity", OPPORTUNITY_KEY, submission.conversion_id, values, OPPORTUNITY
        )
        return _Dossier(node, None, "@{opportunity.id}", owner.user_id, values)
    opportunity_id = str(existing["Id"])
    changes = merge_existing(setup.mapping, "Opportunity", opportunity_in, existing)
    if is_blank_in_salesforce(existing.get("AccountId")):
        changes["AccountId"] = account_id
    for name, value in score(setup.scoring, {**existing, **changes}, today).fields().items():
        if is_blank_in_salesforce(existing.get(name)) and value is not None:
            changes[name] = value
    if not values_equal(warnings_text or None, existing.get(WARNINGS_FIELD)):
        changes[WARNINGS_FIELD] = warnings_text or None
    update = (
        composite.update("Opportunity", opportunity_id, changes, OPPORTUNITY) if changes else None
    )
    task_owner = str(existing.get("OwnerId") or (owner.user_id if owner else "")) or None
    return _Dossier(update, opportunity_id, opportunity_id, task_owner, {**existing, **changes})


def plan_intake(
    setup: IntakeSetup,
    submission: Submission,
    mapped: MappedRecords,
    state: SalesforceState,
    files: Sequence[FileOutcome],
    *,
    files_in_graph: bool = True,
) -> IntakePlan:
    """The writes that file this request, given what Salesforce holds (see module doc).

    ``files_in_graph=False`` puts every downloaded file after the graph, one call each: for
    when Salesforce refused a file inside the graph, which refuses the whole dossier.
    """
    config = setup.config
    opportunity_in = mapped.records.get("Opportunity", {})
    warnings = [w.line() for w in mapped.warnings]
    owner: Owner | None = None
    if state.contact is None or state.account is None or state.opportunity is None:
        owner, owner_warnings = resolve_owner(config, opportunity_in, state.owners)
        warnings += owner_warnings
    warnings += [f.warning for f in files if f.warning]
    fated = [f.link.name for f in files if f.status in ("attached", "downloaded", "failed")]
    existing = state.opportunity
    warnings_text = merge_warnings(
        existing.get(WARNINGS_FIELD) if existing else None, warnings, fated
    )

    nodes, account_id = _client_nodes(setup, state, mapped.records, owner)
    dossier = _dossier(
        setup, submission, opportunity_in, existing, account_id, owner, warnings_text
    )
    if dossier.node is not None:
        nodes.append(dossier.node)
    in_graph, separate = _split_files(files, config.graph_max_bytes if files_in_graph else -1)
    for index, (link, content) in enumerate(in_graph):
        body = file_version(dossier.what_id, content.name, content.content, key=link.key)
        nodes.append(composite.create("ContentVersion", body, f"{FILE_NODE}{index}"))
    attached = [f.link.name for f in files if f.status in ("attached", "downloaded")]
    task = task_values(
        dossier.what_id,
        config.task_subject,
        description=_task_description(submission, dossier.fields, attached, warnings_text),
        owner_id=dossier.task_owner,
        status="Completed",
        activity_date=submission_date(submission.submitted_at),
    )
    if state.task is None or changed_fields(task, state.task):
        key = task_key(submission.conversion_id)
        nodes.append(composite.upsert("Task", ACTIVITY_KEY, key, task, TASK))

    return IntakePlan(
        nodes=nodes,
        separate_files=separate,
        opportunity_id=dossier.id,
        new_client=state.contact is None,
        score=dossier.fields.get(SCORE_FIELD),
        priority=dossier.fields.get(PRIORITY_FIELD),
        warnings=warnings,
        warnings_text=warnings_text,
        owner=owner.username if owner else None,
        counters={
            "files_attached": sum(1 for f in files if f.status == "downloaded"),
            "files_skipped": sum(1 for f in files if f.status == "attached"),
            "files_failed": sum(1 for f in files if f.status == "failed"),
            "warnings": len(warnings),
        },
    )
