"""The lead intake's pure core: the read it asks for and the writes it plans.

``plan_intake`` is exercised on states shaped like what Salesforce answers, including the
state the plan itself leaves behind: planning again on it must write nothing (a replay).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.hubspot_models import DownloadedFile, Submission
from connectors.salesforce_composite import CompositeResult, SubResponse
from jobs.lead_intake import refused_file_node
from jobs.lead_intake_config import IntakeSetup, OwnerRule, load_setup
from jobs.lead_intake_files import FileOutcome, file_links
from jobs.lead_intake_plan import IntakePlan, mapping_source, plan_intake
from jobs.lead_intake_read import SalesforceState, read_requests, state_from
from naturhome_sync.errors import PermanentConfigError
from naturhome_sync.mapping import MappedRecords, apply_mapping
from naturhome_sync.paths import shipped_dir

SUBMITTED_AT = 1_768_209_300_000  # 12 January 2026, 10:15 in Brussels
LINK = (
    "https://api.hubapi.com/form-integrations/v1/uploaded-files/signed-url-redirect/4711"
    "?portalId=1&sign=abc&conversionId=conv-1&filename=plan.pdf"
)
REP, SOPHIE = "005REP000000000AAA", "005SOPHIE0000000AA"
OWNERS = {"thomas.renard@naturhome.example": REP, "sophie.weber@naturhome.example": SOPHIE}
ACCOUNT_ID, CONTACT_ID, OPPORTUNITY_ID = "001A", "003C", "006O"


@pytest.fixture(scope="module")
def setup() -> IntakeSetup:
    return load_setup(
        config_dir=shipped_dir("config"),
        mappings_dir=shipped_dir("mappings"),
        salesforce_dir=shipped_dir("salesforce"),
        default_max_file_bytes=25 * 1024 * 1024,
    )


def submission(contact_id: str | None = "1001", **values: str) -> Submission:
    form = {
        "email": "Claire.Dupont@example.be",
        "firstname": "Claire",
        "lastname": "Dupont",
        "zip": "6670",
        "city": "Gouvy",
        "country": "BE",
        "site_postal_code": "6670",
        "site_city": "Gouvy",
        "site_country": "BE",
        "project_type": "Nouvelle construction",
        "budget": "450000",
        "living_area_m2": "180",
        "desired_start": "2026-08",
        "plans": LINK,
    }
    form.update(values)
    return Submission(
        conversion_id="conv-1",
        submitted_at=SUBMITTED_AT,
        values={k: v for k, v in form.items() if v},
        page_url=None,
        form_guid="form-1",
        contact_id=contact_id,
    )


def mapped_of(setup: IntakeSetup, sub: Submission) -> MappedRecords:
    return apply_mapping(setup.mapping, mapping_source(sub), external_id_field="conversion_id")


def fetched(sub: Submission, content: bytes = b"%PDF-1.4 plan") -> list[FileOutcome]:
    return [
        FileOutcome(link, "downloaded", file=DownloadedFile(link.name, content, "application/pdf"))
        for link in file_links(sub)
    ]


def nodes(plan: IntakePlan) -> list[tuple[str, str, str]]:
    return [(n.method, n.path, n.reference_id) for n in plan.nodes]


def body(plan: IntakePlan, ref: str) -> dict[str, Any]:
    node = next(n for n in plan.nodes if n.reference_id == ref)
    assert node.body is not None
    return dict(node.body)


def as_salesforce(values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A record as Salesforce answers it: JSON values, whole numbers as floats."""
    record = json.loads(json.dumps(values))
    for name, value in record.items():
        if isinstance(value, int) and not isinstance(value, bool):
            record[name] = float(value)
    record.update(extra)
    return record


def filed(setup: IntakeSetup, sub: Submission) -> tuple[IntakePlan, SalesforceState]:
    """The plan for a new client, and the state Salesforce holds once it is written."""
    plan = plan_intake(
        setup, sub, mapped_of(setup, sub), SalesforceState(owners=OWNERS), fetched(sub)
    )
    account = as_salesforce(body(plan, "account"), Id=ACCOUNT_ID)
    contact = as_salesforce(body(plan, "contact"), Id=CONTACT_ID, AccountId=ACCOUNT_ID)
    contact["HubSpot_Contact_Id__c"] = sub.contact_id
    opportunity = as_salesforce(
        body(plan, "opportunity"),
        Id=OPPORTUNITY_ID,
        AccountId=ACCOUNT_ID,
        HubSpot_Submission_Id__c=sub.conversion_id,
    )
    task = as_salesforce(body(plan, "task"), WhatId=OPPORTUNITY_ID)
    state = SalesforceState(
        contact=contact,
        account=account,
        opportunity=opportunity,
        task=task,
        attached_keys=frozenset(link.key for link in file_links(sub)),
        owners=OWNERS,
    )
    return plan, state


# -- reading ------------------------------------------------------------------------------------


def test_the_read_is_one_composite_of_at_most_five_queries(setup: IntakeSetup) -> None:
    reads = read_requests(
        setup,
        conversion_id="conv-1",
        email="o'brien@example.be",
        contact_id="1001",
        file_keys=["hubspot-file:conv-1:4711"],
        usernames=["thomas.renard@naturhome.example"],
    )
    assert [r.reference_id for r in reads] == ["contacts", "opportunity", "task", "files", "owners"]
    soql = {r.reference_id: parse_qs(urlsplit(r.path).query)["q"][0] for r in reads}
    assert (
        "WHERE Email = 'o\\'brien@example.be' OR HubSpot_Contact_Id__c = '1001'"
        in (soql["contacts"])
    )
    assert "Account.BillingCity" in soql["contacts"]
    assert "ORDER BY CreatedDate ASC" in soql["contacts"]
    assert "WHERE HubSpot_Submission_Id__c = 'conv-1'" in soql["opportunity"]
    assert "Intake_Warnings__c" in soql["opportunity"]
    assert "WHERE Naturhome_Key__c = 'intake:conv-1'" in soql["task"]
    assert "Naturhome_Key__c IN ('hubspot-file:conv-1:4711')" in soql["files"]
    assert "Username IN ('thomas.renard@naturhome.example')" in soql["owners"]
    minimal = read_requests(
        setup, conversion_id="c", email="a@b.be", contact_id=None, file_keys=[], usernames=[]
    )
    assert [r.reference_id for r in minimal] == ["contacts", "opportunity", "task"]
    assert "HubSpot_Contact_Id__c =" not in parse_qs(urlsplit(minimal[0].path).query)["q"][0]


def answer(**records: list[dict[str, Any]]) -> CompositeResult:
    return CompositeResult(
        {
            ref: SubResponse(ref, 200, {"records": rows, "done": True})
            for ref, rows in {"contacts": [], "opportunity": [], "task": [], **records}.items()
        }
    )


def test_the_contact_is_the_oldest_with_the_address_else_the_hubspot_one() -> None:
    older = {"Id": "003OLD", "Email": "CLAIRE@example.be", "HubSpot_Contact_Id__c": None}
    newer = {
        "Id": "003NEW",
        "Email": "claire@example.be",
        "HubSpot_Contact_Id__c": None,
        "Account": {"attributes": {"type": "Account"}, "Id": "001N", "Name": "N"},
    }
    by_hubspot = {"Id": "003HS", "Email": "old@example.be", "HubSpot_Contact_Id__c": "1001"}
    state = state_from(
        answer(contacts=[older, newer, by_hubspot]), email="claire@example.be", contact_id="1001"
    )
    assert state.contact is not None and state.contact["Id"] == "003OLD"
    assert state.account is None  # the oldest contact has no account
    assert state.contact_id_taken  # 003HS holds the HubSpot id: do not give it to 003OLD
    moved = state_from(answer(contacts=[by_hubspot]), email="claire@example.be", contact_id="1001")
    assert moved.contact is not None and moved.contact["Id"] == "003HS"
    assert not moved.contact_id_taken
    nobody = state_from(answer(), email="claire@example.be", contact_id=None)
    assert nobody.contact is None and nobody.opportunity is None and nobody.owners == {}


def test_only_files_attached_to_this_opportunity_count() -> None:
    state = state_from(
        answer(
            opportunity=[{"attributes": {}, "Id": "006O"}],
            files=[
                {"Naturhome_Key__c": "k1", "FirstPublishLocationId": "006O"},
                {"Naturhome_Key__c": "k2", "FirstPublishLocationId": "006DELETED"},
            ],
            owners=[{"Id": "005X", "Username": "Thomas.Renard@naturhome.example"}],
        ),
        email="a@b.be",
        contact_id=None,
    )
    assert state.attached_keys == {"k1"}
    assert state.owners == {"thomas.renard@naturhome.example": "005X"}
    assert state.opportunity == {"Id": "006O"}


# -- planning -----------------------------------------------------------------------------------


def test_a_new_client_is_one_graph_linked_by_references(setup: IntakeSetup) -> None:
    plan, _ = filed(setup, submission())
    assert nodes(plan) == [
        ("POST", "sobjects/Account", "account"),
        ("PATCH", "sobjects/Contact/HubSpot_Contact_Id__c/1001", "contact"),
        ("PATCH", "sobjects/Opportunity/HubSpot_Submission_Id__c/conv-1", "opportunity"),
        ("POST", "sobjects/ContentVersion", "file0"),
        ("PATCH", "sobjects/Task/Naturhome_Key__c/intake%3Aconv-1", "task"),
    ]
    account = body(plan, "account")
    assert (account["Name"], account["Type"], account["OwnerId"]) == (
        "Dupont Claire",
        "Client",
        REP,
    )
    contact = body(plan, "contact")
    assert contact["AccountId"] == "@{account.id}"
    assert contact["Email"] == "claire.dupont@example.be"
    assert "HubSpot_Contact_Id__c" not in contact  # it is the key, in the URL
    opportunity = body(plan, "opportunity")
    assert opportunity["AccountId"] == "@{account.id}"
    assert opportunity["OwnerId"] == REP
    assert (opportunity["StageName"], opportunity["LeadSource"]) == ("Quote Requested", "HubSpot")
    # 22 budget + 20 new build + 20 near Gouvy + 15 start in 6 months + 6 area + 8 (6 of 8 details)
    assert (opportunity["Score__c"], opportunity["Priority__c"]) == (91, "P1")
    assert opportunity["Score_Breakdown__c"].count("\n") == 5
    assert "Intake_Warnings__c" not in opportunity
    file = body(plan, "file0")
    assert file["FirstPublishLocationId"] == "@{opportunity.id}"
    assert file["Naturhome_Key__c"] == "hubspot-file:conv-1:4711"
    assert file["PathOnClient"] == "plan.pdf"
    task = body(plan, "task")
    assert task["WhatId"] == "@{opportunity.id}"
    assert (task["Subject"], task["Status"], task["OwnerId"]) == (
        "Demande de devis reçue via HubSpot",
        "Completed",
        REP,
    )
    assert task["ActivityDate"] == "2026-01-12"
    assert "Score : 91/100, priorité P1" in task["Description"]
    assert "Fichiers joints : plan.pdf" in task["Description"]
    assert plan.new_client and plan.opportunity_id is None
    assert plan.counters == {
        "files_attached": 1,
        "files_skipped": 0,
        "files_failed": 0,
        "warnings": 0,
    }


def test_without_a_hubspot_contact_id_the_contact_is_created(setup: IntakeSetup) -> None:
    sub = submission(contact_id=None)
    plan = plan_intake(setup, sub, mapped_of(setup, sub), SalesforceState(owners=OWNERS), [])
    assert ("POST", "sobjects/Contact", "contact") in nodes(plan)
    assert "Fichiers joints : aucun" in body(plan, "task")["Description"]


def test_planning_again_on_what_the_plan_left_writes_nothing(setup: IntakeSetup) -> None:
    sub = submission()
    _, state = filed(setup, sub)
    attached = [FileOutcome(link, "attached") for link in file_links(sub)]
    replay = plan_intake(setup, sub, mapped_of(setup, sub), state, attached)
    assert replay.nodes == []
    assert replay.opportunity_id == OPPORTUNITY_ID
    assert replay.counters["files_skipped"] == 1
    assert not replay.new_client


def test_a_replay_keeps_what_the_team_changed(setup: IntakeSetup) -> None:
    sub = submission()
    _, state = filed(setup, sub)
    opportunity = {
        **state.opportunity,
        "StageName": "Quote In Progress",
        "OwnerId": SOPHIE,
        "Score__c": 40.0,
        "Priority__c": "P2",
        "Budget__c": 300000.0,
    }
    state = replace(state, opportunity=opportunity, owners={})
    attached = [FileOutcome(link, "attached") for link in file_links(sub)]
    plan = plan_intake(setup, sub, mapped_of(setup, sub), state, attached)
    # No owner is needed (and none could be resolved): nothing about the dossier is rewritten;
    # only the task follows the dossier's current owner and score.
    assert nodes(plan) == [("PATCH", "sobjects/Task/Naturhome_Key__c/intake%3Aconv-1", "task")]
    task = body(plan, "task")
    assert task["OwnerId"] == SOPHIE
    assert task["WhatId"] == OPPORTUNITY_ID
    assert "Score : 40/100, priorité P2" in task["Description"]


def test_a_known_client_gets_only_blank_fields_filled(setup: IntakeSetup) -> None:
    first, state = filed(setup, submission())
    account = {**state.account, "Name": "Dupont-Martin", "BillingCity": None}
    contact = {**state.contact, "FirstName": "Claire-Marie", "Phone": None}
    second = replace(
        submission(phone="061 21 00 00", project_type="Agrandissement"), conversion_id="conv-2"
    )
    known = SalesforceState(contact=contact, account=account, owners=OWNERS)
    plan = plan_intake(setup, second, mapped_of(setup, second), known, [])
    assert nodes(plan)[:3] == [
        ("PATCH", f"sobjects/Account/{ACCOUNT_ID}", "account"),
        ("PATCH", f"sobjects/Contact/{CONTACT_ID}", "contact"),
        ("PATCH", "sobjects/Opportunity/HubSpot_Submission_Id__c/conv-2", "opportunity"),
    ]
    assert body(plan, "account") == {"BillingCity": "Gouvy"}  # the name is the rep's
    assert body(plan, "contact") == {"Phone": "+3261210000"}  # the first name too
    assert body(plan, "opportunity")["AccountId"] == ACCOUNT_ID
    assert body(plan, "opportunity")["Project_Type__c"] == "Extension"
    assert not plan.new_client
    assert first.new_client


def test_a_contact_without_account_gets_one(setup: IntakeSetup) -> None:
    _, state = filed(setup, submission())
    orphan = replace(state, account=None, opportunity=None, task=None, attached_keys=frozenset())
    plan = plan_intake(setup, submission(), mapped_of(setup, submission()), orphan, [])
    assert nodes(plan)[:2] == [
        ("POST", "sobjects/Account", "account"),
        ("PATCH", f"sobjects/Contact/{CONTACT_ID}", "contact"),
    ]
    assert body(plan, "contact") == {"AccountId": "@{account.id}"}


def test_the_hubspot_id_held_by_another_contact_is_not_copied(setup: IntakeSetup) -> None:
    _, state = filed(setup, submission())
    contact = {**state.contact, "HubSpot_Contact_Id__c": None}
    taken = replace(state, contact=contact, opportunity=None, contact_id_taken=True)
    plan = plan_intake(setup, submission(), mapped_of(setup, submission()), taken, [])
    assert "contact" not in {n.reference_id for n in plan.nodes}
    free = replace(taken, contact_id_taken=False)
    plan = plan_intake(setup, submission(), mapped_of(setup, submission()), free, [])
    assert body(plan, "contact") == {"HubSpot_Contact_Id__c": "1001"}


def test_a_dossier_without_score_gets_one_and_nothing_else(setup: IntakeSetup) -> None:
    sub = submission()
    _, state = filed(setup, sub)
    blank = {**state.opportunity, "Score__c": None, "Priority__c": None}
    attached = [FileOutcome(link, "attached") for link in file_links(sub)]
    plan = plan_intake(
        setup, sub, mapped_of(setup, sub), replace(state, opportunity=blank), attached
    )
    assert nodes(plan)[0] == ("PATCH", f"sobjects/Opportunity/{OPPORTUNITY_ID}", "opportunity")
    assert body(plan, "opportunity") == {"Score__c": 91, "Priority__c": "P1"}


def test_failed_files_become_warnings_and_replace_older_ones(setup: IntakeSetup) -> None:
    sub = submission(
        plans=f"{LINK};{LINK.replace('4711', '4712').replace('plan.pdf', 'coupe.pdf')}",
        budget="beaucoup",
    )
    plan_link, cut_link = file_links(sub)
    outcomes = [
        FileOutcome(plan_link, "failed", warning="Fichier « plan.pdf » non joint : indisponible"),
        FileOutcome(
            cut_link, "downloaded", file=DownloadedFile("coupe.pdf", b"%PDF", "application/pdf")
        ),
    ]
    plan = plan_intake(setup, sub, mapped_of(setup, sub), SalesforceState(owners=OWNERS), outcomes)
    warnings = body(plan, "opportunity")["Intake_Warnings__c"].splitlines()
    assert warnings[0].startswith("Budget (budget) : ")
    assert warnings[1] == "Fichier « plan.pdf » non joint : indisponible"
    assert plan.counters["files_failed"] == 1 and plan.counters["warnings"] == 2
    assert [n.reference_id for n in plan.nodes].count("file0") == 1
    description = body(plan, "task")["Description"]
    assert "Fichiers joints : coupe.pdf\nAvertissements :\nBudget" in description

    # A replay fetches plan.pdf this time: its old line goes, the budget line stays.
    existing = {
        "Id": OPPORTUNITY_ID,
        "OwnerId": REP,
        "AccountId": ACCOUNT_ID,
        "StageName": "Quote Requested",
        "Score__c": 50.0,
        "Priority__c": "P2",
        "Intake_Warnings__c": "\n".join(warnings),
    }
    again = [
        FileOutcome(
            plan_link, "downloaded", file=DownloadedFile("plan.pdf", b"%PDF", "application/pdf")
        ),
        FileOutcome(cut_link, "attached"),
    ]
    state = SalesforceState(
        contact={"Id": CONTACT_ID, "AccountId": ACCOUNT_ID, "Email": "claire.dupont@example.be"},
        account={"Id": ACCOUNT_ID, "Name": "Dupont Claire"},
        opportunity=existing,
        attached_keys=frozenset({cut_link.key}),
    )
    replay = plan_intake(setup, sub, mapped_of(setup, sub), state, again)
    assert body(replay, "opportunity")["Intake_Warnings__c"] == warnings[0]
    assert body(replay, "file0")["FirstPublishLocationId"] == OPPORTUNITY_ID
    assert "Fichiers joints : plan.pdf, coupe.pdf" in body(replay, "task")["Description"]


def test_files_beyond_the_graph_budget_go_alone(setup: IntakeSetup) -> None:
    small = replace(setup, config=replace(setup.config, graph_max_bytes=10))
    sub = submission(plans=f"{LINK};{LINK.replace('4711', '4712')}")
    outcomes = [
        FileOutcome(link, "downloaded", file=DownloadedFile(link.name, content, "x"))
        for link, content in zip(file_links(sub), [b"12345678", b"12345"], strict=True)
    ]
    plan = plan_intake(small, sub, mapped_of(small, sub), SalesforceState(owners=OWNERS), outcomes)
    assert [n.reference_id for n in plan.nodes if n.reference_id.startswith("file")] == ["file0"]
    assert [(link.key, f.content) for link, f in plan.separate_files] == [
        ("hubspot-file:conv-1:4712", b"12345")
    ]
    assert plan.counters["files_attached"] == 2


def test_without_files_in_graph_every_file_goes_alone(setup: IntakeSetup) -> None:
    """The plan made after Salesforce refused a file inside the graph."""
    sub = submission(plans=f"{LINK};{LINK.replace('4711', '4712')}")
    outcomes = [
        FileOutcome(link, "downloaded", file=DownloadedFile(link.name, b"%PDF", "x"))
        for link in file_links(sub)
    ]
    state = SalesforceState(owners=OWNERS)
    plan = plan_intake(setup, sub, mapped_of(setup, sub), state, outcomes, files_in_graph=False)
    assert [n.reference_id for n in plan.nodes] == ["account", "contact", "opportunity", "task"]
    assert [link.key for link, _ in plan.separate_files] == [
        "hubspot-file:conv-1:4711",
        "hubspot-file:conv-1:4712",
    ]
    assert "Fichiers joints : plan.pdf, plan.pdf" in body(plan, "task")["Description"]


def graph_answer(*responses: tuple[str, int, Any]) -> CompositeResult:
    return CompositeResult({ref: SubResponse(ref, status, body) for ref, status, body in responses})


HALTED = [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back"}]


def test_a_graph_refused_for_a_file_is_told_from_one_refused_for_the_dossier() -> None:
    too_long = [{"errorCode": "STRING_TOO_LONG", "message": "Path On Client", "fields": []}]
    by_file = graph_answer(("account", 400, HALTED), ("file0", 400, too_long))
    refused = refused_file_node(by_file)
    assert refused is not None and refused[0] == "file0"
    assert refused[1].code == "STRING_TOO_LONG"
    by_opportunity = graph_answer(("opportunity", 400, too_long), ("file0", 400, HALTED))
    assert refused_file_node(by_opportunity) is None
    locked = [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "busy"}]
    assert refused_file_node(graph_answer(("file0", 400, locked))) is None  # retry it all


def test_owners_from_rules_with_a_fallback_and_a_missing_default(setup: IntakeSetup) -> None:
    rules = (
        OwnerRule("Allemagne", "sophie.weber@naturhome.example", frozenset({"DE"})),
        OwnerRule("Belgique", "gone@naturhome.example", frozenset({"BE"})),
    )
    ruled = replace(setup, config=replace(setup.config, owner_rules=rules))
    german = submission(site_country="DE", site_postal_code="54290", country="DE")
    plan = plan_intake(ruled, german, mapped_of(ruled, german), SalesforceState(owners=OWNERS), [])
    assert body(plan, "opportunity")["OwnerId"] == SOPHIE
    assert body(plan, "account")["OwnerId"] == SOPHIE
    assert plan.owner == "sophie.weber@naturhome.example"

    belgian = submission()
    plan = plan_intake(
        ruled, belgian, mapped_of(ruled, belgian), SalesforceState(owners=OWNERS), []
    )
    assert body(plan, "opportunity")["OwnerId"] == REP
    assert body(plan, "opportunity")["Intake_Warnings__c"] == (
        "Responsable gone@naturhome.example (règle « Belgique ») introuvable ou inactif dans "
        "Salesforce : dossier attribué à thomas.renard@naturhome.example"
    )
    with pytest.raises(PermanentConfigError, match="default_owner thomas.renard"):
        plan_intake(ruled, belgian, mapped_of(ruled, belgian), SalesforceState(owners={}), [])
