"""The helpers the flows use, end to end: reads, collections, composite, graph, files,
approvals, tasks. They run against the emulator and, unchanged, against a live org."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from connectors import salesforce_composite as sub
from connectors.salesforce import SalesforceClient
from naturhome_sync.errors import PermanentConfigError, PermanentDataError
from sandbox.salesforce import Behaviour

if TYPE_CHECKING:
    from conftest import Cleanup, Emulator

emulator_only = pytest.mark.emulator_only
COLLECTIONS = "/composite/sobjects/Work_Item__c/Code__c"


def work_items(prefix: str, n: int) -> list[dict[str, Any]]:
    return [{"Code__c": f"{prefix}-{i:03d}", "Name": f"Item {i}"} for i in range(n)]


def opportunity(key: str, **values: Any) -> dict[str, Any]:
    return {
        "Name": f"Maison {key}",
        "StageName": "Quote Requested",
        "CloseDate": "2026-06-30",
    } | values


# -- reads -------------------------------------------------------------------------------------


def test_values_round_trip_exactly(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    ext = key("opp")
    values = opportunity(
        ext,
        Amount=Decimal("123456.78"),
        CloseDate=date(2026, 6, 30),
        Assigned_At__c=datetime(2026, 1, 2, 9, 30, tzinfo=UTC),
        Project_Type__c="New build",
    )
    result = client.upsert("Opportunity", "HubSpot_Submission_Id__c", ext, values)
    cleanup.add(result.id)
    row = client.get_by_external_id("Opportunity", "HubSpot_Submission_Id__c", ext) or {}
    assert row["Id"] == result.id and result.created is True
    assert row["Amount"] == Decimal("123456.78") and isinstance(row["Amount"], Decimal)
    assert row["CloseDate"] == "2026-06-30"
    assert row["Assigned_At__c"].startswith("2026-01-02T09:30:00.000+0000")
    fetched = client.get("Opportunity", result.id, ["Name", "Project_Type__c"]) or {}
    assert (fetched["Name"], fetched["Project_Type__c"]) == (f"Maison {ext}", "New build")


@pytest.mark.parametrize("label", ["2026/W49", "Gouvy 12+3"])
def test_external_ids_with_slashes_spaces_and_plus_signs(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str], label: str
) -> None:
    code = f"{key('odd')} {label}"
    created = client.upsert("Work_Item__c", "Code__c", code, {"Name": "Odd"})
    cleanup.add(created.id)
    updated = client.upsert("Work_Item__c", "Code__c", code, {"Name": "Odd again"})
    assert updated.id == created.id and updated.created is False
    found = client.get_by_external_id("Work_Item__c", "Code__c", code) or {}
    assert (found["Id"], found["Code__c"], found["Name"]) == (created.id, code, "Odd again")


def test_query_iter_follows_the_pages(
    client: SalesforceClient,
    cleanup: Cleanup,
    key: Callable[[str], str],
    live: bool,
) -> None:
    prefix = key("page")
    items = work_items(prefix, 450)
    cleanup.add(*(r.id for r in client.upsert_many("Work_Item__c", "Code__c", items)))
    where = f"FROM Work_Item__c WHERE Code__c LIKE '{prefix}-%'"
    before = client.api_calls
    rows = list(client.query_iter(f"SELECT Id, Code__c {where} ORDER BY Code__c", batch_size=200))
    assert [r["Code__c"] for r in rows] == [i["Code__c"] for i in items]
    pages = client.api_calls - before
    assert pages >= 3 if live else pages == 3  # 200 + 200 + 50 (an org may page smaller)
    assert client.count(f"SELECT COUNT() {where}") == 450


def test_deleted_rows_only_with_include_deleted(
    client: SalesforceClient, key: Callable[[str], str]
) -> None:
    code = key("gone")
    record_id = client.create("Work_Item__c", {"Name": "Gone", "Code__c": code})
    client.delete("Work_Item__c", record_id)
    soql = f"SELECT Id, IsDeleted FROM Work_Item__c WHERE Code__c = '{code}'"
    assert client.query(soql) == []
    rows = client.query(soql, include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in rows] == [(record_id, True)]


def test_record_url_opens_the_record_in_lightning(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    account_id = client.create("Account", {"Name": key("acct")})
    cleanup.add(account_id)
    url = client.record_url("Account", account_id)
    assert client.instance_url.startswith("https://")
    assert url == f"{client.instance_url}/lightning/r/Account/{account_id}/view"


# -- sObject Collections -----------------------------------------------------------------------


def test_upsert_many_450_records_in_three_calls_with_aligned_failures(
    client: SalesforceClient,
    cleanup: Cleanup,
    key: Callable[[str], str],
    live: bool,
) -> None:
    prefix = key("bulk")
    items = work_items(prefix, 450)
    for bad in (7, 260, 449):
        items[bad]["Name"] = "N" * 81  # Name is 80 characters at most
    before = client.api_calls
    results = client.upsert_many("Work_Item__c", "Code__c", items)
    assert client.api_calls - before == 3
    cleanup.add(*(r.id for r in results))
    assert [r.index for r in results] == list(range(450))
    failed = {r.index: r.error for r in results if not r.success}
    assert sorted(failed) == [7, 260, 449]
    for index, error in failed.items():
        assert isinstance(error, PermanentDataError) and error.code == "STRING_TOO_LONG"
        assert error.external_id == items[index]["Code__c"]
    created = [r for r in results if r.success]
    assert all(r.created and r.id and r.id.startswith(created[0].id[:3]) for r in created)
    assert len({r.id for r in created}) == 447
    assert client.count(f"SELECT COUNT() FROM Work_Item__c WHERE Code__c LIKE '{prefix}-%'") == 447


def test_upsert_many_all_or_none_commits_nothing_on_one_failure(
    client: SalesforceClient, key: Callable[[str], str]
) -> None:
    prefix = key("aon")
    items = work_items(prefix, 5)
    items[3]["Name"] = "N" * 81
    results = client.upsert_many("Work_Item__c", "Code__c", items, all_or_none=True)
    assert [r.success for r in results] == [False] * 5
    codes = [r.error.code if r.error else None for r in results]
    assert codes[3] == "STRING_TOO_LONG"
    assert set(codes[:3] + codes[4:]) == {"ALL_OR_NONE_OPERATION_ROLLED_BACK"}
    assert client.count(f"SELECT COUNT() FROM Work_Item__c WHERE Code__c LIKE '{prefix}-%'") == 0


def test_skip_unchanged_sends_nothing_the_second_time(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    prefix = key("skip")
    items = work_items(prefix, 450)
    first = client.upsert_many("Work_Item__c", "Code__c", items)
    cleanup.add(*(r.id for r in first))
    calls = client.api_calls
    again = client.upsert_many("Work_Item__c", "Code__c", items, skip_unchanged=True)
    assert client.api_calls - calls == 3  # one read per chunk, no write
    assert all(r.success and r.skipped and not r.created for r in again)
    assert [r.id for r in again] == [r.id for r in first]
    items[300]["Name"] = "Renamed"
    calls = client.api_calls
    third = client.upsert_many("Work_Item__c", "Code__c", items, skip_unchanged=True)
    assert client.api_calls - calls == 4  # three reads, one write for the chunk that changed
    assert [i for i, r in enumerate(third) if not r.skipped] == [300]
    assert third[300].success and third[300].id == first[300].id and third[300].created is False
    assert (client.get("Work_Item__c", first[300].id or "", ["Name"]) or {})["Name"] == "Renamed"


def test_skip_unchanged_understands_the_orgs_formats(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    """Decimals, dates, datetimes, booleans and empty strings come back from the org in its
    own formats (``+0000`` datetimes, ``10.0`` numbers, null for empty): still unchanged."""
    records = [
        {
            "Event_Id__c": key("ev"),
            "Category__c": "transient",
            "Occurred_At__c": datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC),
            "Attempts__c": Decimal(3),
            "Resolved__c": False,
            "Message__c": "",
            "Source__c": "hubspot",
        }
        for _ in range(3)
    ]
    first = client.upsert_many("Integration_Error__c", "Event_Id__c", records)
    cleanup.add(*(r.id for r in first))
    assert all(r.success for r in first), [r.error for r in first]
    again = client.upsert_many("Integration_Error__c", "Event_Id__c", records, skip_unchanged=True)
    assert [r.skipped for r in again] == [True, True, True]
    records[1]["Resolved__c"] = True
    third = client.upsert_many("Integration_Error__c", "Event_Id__c", records, skip_unchanged=True)
    assert [r.skipped for r in third] == [True, False, True]


# -- Composite and Graph -----------------------------------------------------------------------


def test_composite_references_earlier_results_in_one_call(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    name = key("acct")
    account = sub.create("Account", {"Name": name}, "account")
    deal = sub.create("Opportunity", opportunity(name, AccountId=account.ref()), "deal")
    rows = sub.query(
        f"SELECT Id, AccountId FROM Opportunity WHERE AccountId = '{account.ref()}'", "rows"
    )
    before = client.api_calls
    result = client.composite([account, deal, rows])
    assert client.api_calls - before == 1
    cleanup.add(result["account"].id, result["deal"].id)
    assert result.ok and result.root_error() is None
    assert result["account"].created and (result["account"].id or "").startswith("001")
    assert [(r["Id"], r["AccountId"]) for r in result["rows"].records] == [
        (result["deal"].id, result["account"].id)
    ]


def test_composite_all_or_none_rolls_back_and_names_the_root_error(
    client: SalesforceClient, key: Callable[[str], str]
) -> None:
    name = key("rollback")
    account = sub.create("Account", {"Name": name}, "account")
    deal = sub.create("Opportunity", {"Name": name, "AccountId": account.ref()}, "deal")  # no stage
    task = sub.create("Task", {"Subject": "Call", "WhatId": deal.ref()}, "task")
    result = client.composite([account, deal, task], all_or_none=True)
    assert not result.ok
    error = result.root_error()
    assert isinstance(error, PermanentDataError) and error.code == "REQUIRED_FIELD_MISSING"
    assert result["account"].error() is not None  # rolled back: PROCESSING_HALTED
    with pytest.raises(PermanentDataError, match="REQUIRED_FIELD_MISSING"):
        result.raise_for_errors()
    assert client.count(f"SELECT COUNT() FROM Account WHERE Name = '{name}'") == 0


def test_composite_without_all_or_none_keeps_the_independent_writes(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    name = key("partial")
    account = sub.create("Account", {"Name": name}, "account")
    deal = sub.create("Opportunity", {"Name": name, "AccountId": account.ref()}, "deal")
    task = sub.create("Task", {"Subject": "Call", "WhatId": deal.ref()}, "task")
    result = client.composite([account, deal, task], all_or_none=False)
    cleanup.add(result["account"].id)
    assert result["account"].ok and not result["deal"].ok and not result["task"].ok
    assert (result["task"].error() or PermanentDataError("")).code == "PROCESSING_HALTED"
    assert (result.root_error() or PermanentDataError("")).code == "REQUIRED_FIELD_MISSING"
    assert client.count(f"SELECT COUNT() FROM Account WHERE Name = '{name}'") == 1


def test_graph_commits_each_graph_entirely_or_not_at_all(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    good, bad = key("good"), key("bad")

    def nodes(name: str, deal: dict[str, Any]) -> list[sub.SubRequest]:
        account = sub.create("Account", {"Name": name}, "account")
        return [account, sub.create("Opportunity", deal | {"AccountId": account.ref()}, "deal")]

    result = client.graph(
        {"good": nodes(good, opportunity(good)), "bad": nodes(bad, {"Name": bad})}
    )
    cleanup.add(result["good"]["account"].id, result["good"]["deal"].id)
    assert result.successful("good") and not result.successful("bad")
    assert result["good"]["deal"].created
    with pytest.raises(PermanentDataError, match="REQUIRED_FIELD_MISSING"):
        result.raise_for_errors()
    assert client.count(f"SELECT COUNT() FROM Account WHERE Name = '{good}'") == 1
    assert client.count(f"SELECT COUNT() FROM Account WHERE Name = '{bad}'") == 0


# -- files, approvals, tasks -------------------------------------------------------------------


def test_attach_file_is_idempotent_per_key(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    account_id = client.create("Account", {"Name": key("acct")})
    cleanup.add(account_id)
    file_key, content = key("file"), b"%PDF-1.4 invoice 2026-001"
    first = client.attach_file(account_id, "invoice-2026-001.pdf", content, key=file_key)
    cleanup.add(first.content_document_id)
    calls = client.api_calls
    second = client.attach_file(account_id, "invoice-2026-001.pdf", content, key=file_key)
    assert client.api_calls - calls == 1  # one query finds it; nothing is uploaded
    assert first.created and not second.created
    assert (second.content_version_id, second.content_document_id) == (
        first.content_version_id,
        first.content_document_id,
    )
    assert (
        client.count(f"SELECT COUNT() FROM ContentVersion WHERE Naturhome_Key__c = '{file_key}'")
        == 1
    )
    assert client.download_file(first.content_version_id) == content
    links = client.query(
        "SELECT LinkedEntityId FROM ContentDocumentLink "
        f"WHERE ContentDocumentId = '{first.content_document_id}'"
    )
    assert account_id in {link["LinkedEntityId"] for link in links}
    found = client.find_file(file_key)
    assert found is not None and found.content_version_id == first.content_version_id


@pytest.mark.parametrize(("approve", "status"), [(True, "Approved"), (False, "Rejected")])
def test_approval_submit_then_decide(
    client: SalesforceClient,
    cleanup: Cleanup,
    key: Callable[[str], str],
    approve: bool,
    status: str,
) -> None:
    invoice = client.upsert("Invoice__c", "Request_Key__c", key("inv"), {"Type__c": "Invoice"})
    cleanup.add(invoice.id)
    submitted = client.submit_for_approval(invoice.id, comments="Tranche 2")
    assert submitted.success and submitted.instance_status == "Pending"
    assert (submitted.instance_id or "").startswith("04g") and len(submitted.workitem_ids) == 1
    pending = client.get("Invoice__c", invoice.id, ["Status__c"]) or {}
    assert pending["Status__c"] == "Pending Approval"
    decided = client.decide_approval(submitted.workitem_ids[0], approve=approve, comments="ok")
    assert decided.instance_status == status and decided.workitem_ids == []
    assert (client.get("Invoice__c", invoice.id, ["Status__c"]) or {})["Status__c"] == status


def test_approval_refusals_are_errors(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    invoice = client.upsert("Invoice__c", "Request_Key__c", key("inv"), {"Type__c": "Invoice"})
    account_id = client.create("Account", {"Name": key("acct")})
    cleanup.add(invoice.id, account_id)
    client.submit_for_approval(invoice.id)
    with pytest.raises(PermanentDataError) as again:
        client.submit_for_approval(invoice.id)
    assert again.value.code == "ALREADY_IN_PROCESS"
    with pytest.raises(PermanentConfigError) as no_process:
        client.submit_for_approval(account_id)
    assert no_process.value.code == "NO_APPLICABLE_PROCESS"


@emulator_only
def test_approval_refusals_answered_per_request_are_the_same_errors(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., SalesforceClient]
) -> None:
    emulator = make_emulator(behaviour=Behaviour(approval_errors="per_request"))
    client = make_client(emulator.settings())
    invoice = client.upsert("Invoice__c", "Request_Key__c", "INV-1", {"Type__c": "Invoice"})
    client.submit_for_approval(invoice.id)
    with pytest.raises(PermanentDataError) as again:
        client.submit_for_approval(invoice.id)
    assert again.value.code == "ALREADY_IN_PROCESS"


def test_log_task_is_idempotent_per_key(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    account_id = client.create("Account", {"Name": key("acct")})
    cleanup.add(account_id)
    task_key = key("task")
    first = client.log_task(account_id, "Invoice sent", key=task_key, description="by e-mail")
    second = client.log_task(account_id, "Invoice sent", key=task_key, description="by e-mail")
    assert (first.created, second.created) == (True, False) and first.id == second.id
    rows = client.query(
        "SELECT Id, WhatId, Subject, Status, Description FROM Task "
        f"WHERE Naturhome_Key__c = '{task_key}'"
    )
    assert [(r["Id"], r["WhatId"], r["Subject"], r["Status"], r["Description"]) for r in rows] == [
        (first.id, account_id, "Invoice sent", "Completed", "by e-mail")
    ]


@emulator_only
def test_upsert_answering_204_on_update_still_gives_the_id(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., SalesforceClient]
) -> None:
    emulator = make_emulator(behaviour=Behaviour(upsert_update_status=204))
    client = make_client(emulator.settings())
    created = client.upsert("Work_Item__c", "Code__c", "WI-1", {"Name": "Frame"})
    updated = client.upsert("Work_Item__c", "Code__c", "WI-1", {"Name": "Roof"})
    assert (created.created, updated.created) == (True, False) and updated.id == created.id
    account_id = client.create("Account", {"Name": "Acme"})
    tasks = [client.log_task(account_id, "Call", key="T-1") for _ in range(2)]
    assert tasks[0].id == tasks[1].id and [t.created for t in tasks] == [True, False]


def test_skip_unchanged_with_parents_given_by_external_id(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    """How the payment-plan flow writes tranches: parents named by their external ids."""
    deal_key, plan_key = key("opp"), key("plan")
    deal = client.upsert("Opportunity", "HubSpot_Submission_Id__c", deal_key, opportunity(deal_key))
    parent = {"HubSpot_Submission_Id__c": deal_key}
    plan = client.upsert(
        "Payment_Plan__c", "Plan_Key__c", plan_key, {"Opportunity__r": parent, "Version__c": 1}
    )
    cleanup.add(deal.id, plan.id)
    tranches = [
        {
            "Tranche_Key__c": f"{plan_key}-{n}",
            "Payment_Plan__r": {"Plan_Key__c": plan_key},
            "Opportunity__r": parent,
            "Sequence__c": n,
            "Amount_Excl_VAT__c": Decimal("10000.10") * n,
            "Percent__c": Decimal("33.33"),
            "Planned_Date__c": date(2026, n, 1),
            "Select_For_Invoice__c": False,
        }
        for n in (1, 2, 3)
    ]
    first = client.upsert_many("Payment_Tranche__c", "Tranche_Key__c", tranches)
    assert all(r.success and r.created for r in first), [r.error for r in first]
    again = client.upsert_many(
        "Payment_Tranche__c", "Tranche_Key__c", tranches, skip_unchanged=True
    )
    assert [r.skipped for r in again] == [True, True, True]
    tranches[2]["Amount_Excl_VAT__c"] = Decimal("1.00")
    third = client.upsert_many(
        "Payment_Tranche__c", "Tranche_Key__c", tranches, skip_unchanged=True
    )
    assert [r.skipped for r in third] == [True, True, False] and third[2].success
