"""``/process/approvals/`` through ``sf.restful``, with the default invoice process
(submit -> Pending Approval, approve -> Approved, reject -> Rejected)."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandbox.salesforce import ApprovalProcess, Behaviour, invoice_approval_process


def submit(sf: Any, record_id: str, **extra: Any) -> Any:
    request = {"actionType": "Submit", "contextId": record_id, "comments": "please", **extra}
    return sf.restful("process/approvals/", method="POST", json={"requests": [request]})


def decide(sf: Any, action: str, workitem_id: str) -> Any:
    request = {"actionType": action, "contextId": workitem_id, "comments": "ok"}
    return sf.restful("process/approvals/", method="POST", json={"requests": [request]})


def test_definitions_are_listed_by_object(sf: Any) -> None:
    definitions = sf.restful("process/approvals/")["approvals"]
    [invoice] = definitions["Invoice__c"]
    assert invoice["name"] == "Invoice_Approval"
    assert invoice["object"] == "Invoice__c"
    assert invoice["id"].startswith("04a")


def test_submit_then_approve(sf: Any) -> None:
    invoice_id = sf.Invoice__c.create({"Total__c": 1000})["id"]
    [submitted] = submit(sf, invoice_id)
    user_id = sf.query("SELECT Id FROM User")["records"][0]["Id"]
    assert submitted["success"] is True
    assert submitted["errors"] is None
    assert submitted["entityId"] == invoice_id
    assert submitted["instanceStatus"] == "Pending"
    assert submitted["instanceId"].startswith("04g")
    assert submitted["actorIds"] == [user_id]
    [workitem_id] = submitted["newWorkitemIds"]
    assert workitem_id.startswith("04i")
    assert sf.Invoice__c.get(invoice_id)["Status__c"] == "Pending Approval"
    pending = sf.query(
        f"SELECT Id, ActorId FROM ProcessInstanceWorkitem WHERE ProcessInstance.TargetObjectId = "
        f"'{invoice_id}'"
    )["records"]
    assert [(w["Id"], w["ActorId"]) for w in pending] == [(workitem_id, user_id)]
    [approved] = decide(sf, "Approve", workitem_id)
    assert approved["instanceStatus"] == "Approved"
    assert approved["entityId"] == invoice_id
    assert approved["newWorkitemIds"] == []
    assert sf.Invoice__c.get(invoice_id)["Status__c"] == "Approved"
    [instance] = sf.query(
        f"SELECT Status FROM ProcessInstance WHERE TargetObjectId = '{invoice_id}'"
    )["records"]
    assert instance["Status"] == "Approved"
    assert sf.query("SELECT COUNT() FROM ProcessInstanceWorkitem")["totalSize"] == 0


def test_reject(sf: Any) -> None:
    invoice_id = sf.Invoice__c.create({})["id"]
    [submitted] = submit(sf, invoice_id)
    [rejected] = decide(sf, "Reject", submitted["newWorkitemIds"][0])
    assert rejected["instanceStatus"] == "Rejected"
    assert sf.Invoice__c.get(invoice_id)["Status__c"] == "Rejected"


def test_refusals_are_400_by_default(sf: Any) -> None:
    invoice_id = sf.Invoice__c.create({})["id"]
    submit(sf, invoice_id)
    with pytest.raises(SalesforceMalformedRequest) as again:
        submit(sf, invoice_id)
    assert again.value.content == [
        {
            "message": "Cannot submit object already in process.",
            "errorCode": "ALREADY_IN_PROCESS",
            "fields": [],
        }
    ]
    account_id = sf.Account.create({"Name": "a"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as none:
        submit(sf, account_id)
    assert none.value.content[0]["errorCode"] == "NO_APPLICABLE_PROCESS"
    assert none.value.content[0]["message"] == "No applicable approval process was found."
    with pytest.raises(SalesforceMalformedRequest) as wrong_name:
        submit(sf, sf.Invoice__c.create({})["id"], processDefinitionNameOrId="Other_Process")
    assert wrong_name.value.content[0]["errorCode"] == "NO_APPLICABLE_PROCESS"


def test_refusals_per_request_commit_the_valid_requests(make_harness: Any) -> None:
    sf = make_harness(behaviour=Behaviour(approval_errors="per_request")).client()
    invoice_id = sf.Invoice__c.create({})["id"]
    account_id = sf.Account.create({"Name": "a"})["id"]
    requests = [
        {"actionType": "Submit", "contextId": invoice_id},
        {"actionType": "Submit", "contextId": account_id},
    ]
    ok, refused = sf.restful("process/approvals/", method="POST", json={"requests": requests})
    assert ok["success"] is True
    assert refused["success"] is False
    assert refused["instanceId"] is None
    assert refused["errors"] == [
        {
            "statusCode": "NO_APPLICABLE_PROCESS",
            "message": "No applicable approval process was found.",
            "fields": [],
        }
    ]
    assert sf.Invoice__c.get(invoice_id)["Status__c"] == "Pending Approval"


def test_configured_processes_and_named_approvers(make_harness: Any) -> None:
    custom = ApprovalProcess(
        name="Big_Deal", object="Opportunity", on_submit={"Priority__c": "P1"},
        on_approve={"StageName": "Closed Won"}, approver_username="boss@naturhome.example",
    )  # fmt: skip
    boss = {
        "Username": "boss@naturhome.example",
        "LastName": "Boss",
        "Email": "boss@naturhome.example",
    }
    harness = make_harness(
        approval_processes=(invoice_approval_process(), custom), extra_users=(boss,)
    )
    sf = harness.client()
    boss_id = sf.query("SELECT Id FROM User WHERE Username = 'boss@naturhome.example'")["records"][
        0
    ]["Id"]
    opp_id = sf.Opportunity.create(
        {"Name": "o", "StageName": "Prospecting", "CloseDate": "2026-06-30"}
    )["id"]
    [submitted] = submit(sf, opp_id, processDefinitionNameOrId="Big_Deal")
    assert submitted["actorIds"] == [boss_id]
    assert sf.Opportunity.get(opp_id)["Priority__c"] == "P1"
    decide(sf, "Approve", submitted["newWorkitemIds"][0])
    assert sf.Opportunity.get(opp_id)["IsWon"] is True
