"""The emulator on the shipped ``salesforce/`` project (its default schema): every object
is served, and the invoice flow's writes and approval work against the real contract."""

from __future__ import annotations

from typing import Any

from simple_salesforce.format import format_external_id

from naturhome_sync.sfschema import load_schema


def test_every_schema_object_is_described_with_a_key_prefix(shipped_harness: Any) -> None:
    sf = shipped_harness.client()
    served = {o["name"]: o["keyPrefix"] for o in sf.describe()["sobjects"]}
    schema = load_schema()
    assert set(schema.objects) <= set(served)
    assert all(served[name] for name in schema.objects)
    assert len(set(served.values())) == len(served)
    invoice_fields = {f["name"] for f in sf.Invoice__c.describe()["fields"]}
    assert set(schema.objects["Invoice__c"].fields) == invoice_fields


def test_invoice_upsert_and_approval_on_the_shipped_contract(shipped_harness: Any) -> None:
    sf = shipped_harness.client()
    opportunity = sf.Opportunity.upsert(
        format_external_id("HubSpot_Submission_Id__c", "sub-1"),
        {"Name": "Maison Gouvy", "StageName": "Closed Won", "CloseDate": "2026-05-31"},
        raw_response=True,
    ).json()
    assert opportunity["created"] is True
    invoice = sf.Invoice__c.upsert(
        format_external_id("Request_Key__c", "req-1"),
        {"Opportunity__r": {"HubSpot_Submission_Id__c": "sub-1"}, "Status__c": "Draft"},
        raw_response=True,
    ).json()
    [submitted] = sf.restful(
        "process/approvals/",
        method="POST",
        json={"requests": [{"actionType": "Submit", "contextId": invoice["id"]}]},
    )
    assert submitted["success"] is True
    record = sf.Invoice__c.get(invoice["id"])
    assert record["Status__c"] == "Pending Approval"
    assert record["Opportunity__c"] == opportunity["id"]
    assert record["Name"].startswith("INV-")
