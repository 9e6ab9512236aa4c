"""Writes an org refuses, with the errorCode, message and fields an org answers (notes §2.14),
and what the platform maintains on its own (defaults, audit fields, cascades)."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound
from simple_salesforce.format import format_external_id

from sandbox.salesforce import Behaviour


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(SalesforceMalformedRequest) as error:
        call()
    assert error.value.status == 400
    assert isinstance(error.value.content, list)
    assert len(error.value.content) == 1
    entry: dict[str, Any] = error.value.content[0]
    return entry


CASES = [
    pytest.param(
        "Account",
        {"Phone": "1"},
        "REQUIRED_FIELD_MISSING",
        "Required fields are missing: [Name]",
        ["Name"],
        id="required",
    ),
    pytest.param(
        "Opportunity",
        {"Amount": 5},
        "REQUIRED_FIELD_MISSING",
        "Required fields are missing: [Name, StageName, CloseDate]",
        ["Name", "StageName", "CloseDate"],
        id="required-several",
    ),
    pytest.param(
        "Account",
        {"Name": "x" * 256},
        "STRING_TOO_LONG",
        f"Account Name: data value too large: {'x' * 256} (max length=255)",
        ["Name"],
        id="too-long",
    ),
    pytest.param(
        "Account",
        {"Name": "a", "Tier__c": "Platinum"},
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "Tier: bad value for restricted picklist field: Platinum",
        ["Tier__c"],
        id="picklist",
    ),
    pytest.param(
        "Account",
        {"Name": "a", "Tags__c": "A;Z"},
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "Tags: bad value for restricted picklist field: Z",
        ["Tags__c"],
        id="multi-picklist",
    ),
    pytest.param(
        "Account",
        {"Name": "a", "Rating__c": 123.4},
        "NUMBER_OUTSIDE_VALID_RANGE",
        "Rating: value outside of valid range on numeric field: 123.4",
        ["Rating__c"],
        id="precision",
    ),
    pytest.param(
        "Account",
        {"Name": "a", "Contact_Email__c": "not-an-email"},
        "INVALID_EMAIL_ADDRESS",
        "Contact Email: invalid email address: not-an-email",
        ["Contact_Email__c"],
        id="email",
    ),
    pytest.param(
        "Account",
        {"Name": "a", "Nope__c": 1},
        "INVALID_FIELD",
        "No such column 'Nope__c' on sobject of type Account",
        [],
        id="unknown-field",
    ),
    pytest.param(
        "Account",
        {"Name": "a", "CreatedDate": "2024-01-01T00:00:00Z", "IsDeleted": True},
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        "Unable to create/update fields: CreatedDate, IsDeleted. Please check the security "
        "settings "
        "of this field and verify that it is read/write for your profile or permission set.",
        ["CreatedDate", "IsDeleted"],
        id="read-only",
    ),
    pytest.param(
        "Account",
        {"Name": "a", "Rating__c": "4"},
        "JSON_PARSER_ERROR",
        "Cannot deserialize instance of double from VALUE_STRING value 4 or request may be missing "
        "a required field",
        [],
        id="json-type-number",
    ),
    pytest.param(
        "Account",
        {"Name": "a", "Active__c": "yes"},
        "JSON_PARSER_ERROR",
        "Cannot deserialize instance of boolean from VALUE_STRING value yes or request may be "
        "missing a required field",
        [],
        id="json-type-boolean",
    ),
    pytest.param(
        "Opportunity",
        {"Name": "o", "StageName": "Prospecting", "CloseDate": "31/12/2024"},
        "JSON_PARSER_ERROR",
        "Cannot deserialize instance of date from VALUE_STRING value 31/12/2024 or request may be "
        "missing a required field",
        [],
        id="json-date-format",
    ),
    pytest.param(
        "Contact",
        {"LastName": "d", "AccountId": "garbage"},
        "MALFORMED_ID",
        "Account ID: id value of incorrect type: garbage",
        ["AccountId"],
        id="malformed-id",
    ),
    pytest.param(
        "Contact",
        {"LastName": "d", "AccountId": "001Nh00000ZZZZZ"},
        "INVALID_CROSS_REFERENCE_KEY",
        "invalid cross reference id",
        [],
        id="dangling-lookup",
    ),
    pytest.param(
        "Invoice__c",
        {"Name": "INV-1"},
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        "Unable to create/update fields: Name. Please check the security settings of this field "
        "and "
        "verify that it is read/write for your profile or permission set.",
        ["Name"],
        id="auto-number",
    ),
]


@pytest.mark.parametrize(("sobject", "body", "code", "message", "fields"), CASES)
def test_create_refusals(
    sf: Any, sobject: str, body: dict[str, Any], code: str, message: str, fields: list[str]
) -> None:
    entry = refusal(lambda: getattr(sf, sobject).create(body))
    assert entry == {"message": message, "errorCode": code, "fields": fields}


def test_refused_creates_leave_nothing_behind(sf: Any) -> None:
    refusal(lambda: sf.Account.create({"Name": "a", "Tier__c": "Platinum"}))
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_bad_json_is_a_parser_error(harness: Any, sf: Any) -> None:
    response = sf.session.post(
        harness.data_url("sobjects/Account/"), data="{not json", headers=sf.headers
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_lookup_to_the_wrong_object_is_malformed_id_by_default(sf: Any) -> None:
    contact_id = sf.Contact.create({"LastName": "Doe"})["id"]
    entry = refusal(lambda: sf.Contact.create({"LastName": "x", "AccountId": contact_id}))
    assert entry == {
        "message": f"Account ID: id value of incorrect type: {contact_id}",
        "errorCode": "MALFORMED_ID",
        "fields": ["AccountId"],
    }


def test_lookup_to_the_wrong_object_code_is_switchable(make_harness: Any) -> None:
    behaviour = Behaviour(wrong_object_reference_code="FIELD_INTEGRITY_EXCEPTION")
    sf = make_harness(behaviour=behaviour).client()
    contact_id = sf.Contact.create({"LastName": "Doe"})["id"]
    entry = refusal(lambda: sf.Contact.create({"LastName": "x", "AccountId": contact_id}))
    assert entry["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_lookup_to_a_deleted_record_is_refused(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "Gone"})["id"]
    sf.Account.delete(account_id)
    entry = refusal(lambda: sf.Contact.create({"LastName": "x", "AccountId": account_id}))
    assert entry["errorCode"] == "ENTITY_IS_DELETED"


def test_unique_values_are_enforced_case_insensitively(sf: Any) -> None:
    first = sf.Account.create({"Name": "a", "Naturhome_Id__c": "N-1"})["id"]
    entry = refusal(lambda: sf.Account.create({"Name": "b", "Naturhome_Id__c": "n-1"}))
    assert entry == {
        "message": (
            f"duplicate value found: Naturhome_Id__c duplicates value on record with id: {first}"
        ),
        "errorCode": "DUPLICATE_VALUE",
        "fields": [],
    }
    other = sf.Account.create({"Name": "c", "Naturhome_Id__c": "N-2"})["id"]
    assert (
        refusal(lambda: sf.Account.update(other, {"Naturhome_Id__c": "N-1"}))["errorCode"]
        == "DUPLICATE_VALUE"
    )


def test_update_cannot_empty_a_required_field(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "a"})["id"]
    entry = refusal(lambda: sf.Account.update(account_id, {"Name": None}))
    assert entry["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert entry["fields"] == ["Name"]


def test_numbers_are_rounded_to_the_field_scale_and_empty_text_is_null(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "a", "Rating__c": 4.25, "Phone": ""})["id"]
    record = sf.Account.get(account_id)
    assert record["Rating__c"] == 4.3
    assert record["Phone"] is None


def test_multi_select_values_are_kept_in_picklist_order(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "a", "Tags__c": "C;A;C"})["id"]
    assert sf.Account.get(account_id)["Tags__c"] == "A;C"


def test_defaults_on_create(sf: Any) -> None:
    opp_id = sf.Opportunity.create(
        {"Name": "o", "StageName": "Closed Won", "CloseDate": "2026-01-31"}
    )["id"]
    opp = sf.Opportunity.get(opp_id)
    assert opp["Priority__c"] == "P3"  # picklist default
    assert opp["IsClosed"] is True
    assert opp["IsWon"] is True
    assert opp["Probability"] == 100.0
    invoice = sf.Invoice__c.get(sf.Invoice__c.create({})["id"])
    assert invoice["Status__c"] == "Draft"
    assert invoice["Name"] == "INV-00001"
    assert sf.Invoice__c.get(sf.Invoice__c.create({})["id"])["Name"] == "INV-00002"


def test_contact_name_is_computed(sf: Any) -> None:
    contact_id = sf.Contact.create({"FirstName": "Jeanne", "LastName": "Dupont"})["id"]
    assert sf.Contact.get(contact_id)["Name"] == "Jeanne Dupont"
    sf.Contact.update(contact_id, {"FirstName": None})
    assert sf.Contact.get(contact_id)["Name"] == "Dupont"


def test_audit_fields_follow_the_clock(harness: Any, sf: Any) -> None:
    account_id = sf.Account.create({"Name": "a"})["id"]
    before = sf.Account.get(account_id)
    harness.advance(3600)
    sf.Account.update(account_id, {"Phone": "1"})
    after = sf.Account.get(account_id)
    assert after["CreatedDate"] == before["CreatedDate"]
    assert after["LastModifiedDate"] > before["LastModifiedDate"]
    assert after["SystemModstamp"] == after["LastModifiedDate"]
    assert after["LastModifiedById"] == after["CreatedById"] == before["OwnerId"]


# -- relationships by external id --------------------------------------------------------------


def test_nested_reference_by_external_id_resolves_to_the_parent_id(sf: Any) -> None:
    opp_id = sf.Opportunity.create(
        {
            "Name": "o",
            "StageName": "Prospecting",
            "CloseDate": "2026-01-31",
            "HubSpot_Submission_Id__c": "S-1",
        }
    )["id"]
    sf.Account.create({"Name": "Acme", "Naturhome_Id__c": "A-1"})
    invoice_id = sf.Invoice__c.create(
        {
            "Opportunity__r": {"HubSpot_Submission_Id__c": "S-1"},
            "Account__r": {"Naturhome_Id__c": "a-1"},
        }
    )["id"]
    assert sf.Invoice__c.get(invoice_id)["Opportunity__c"] == opp_id
    contact_id = sf.Contact.create({"LastName": "d", "Account": {"Naturhome_Id__c": "A-1"}})["id"]
    assert sf.Contact.get(contact_id)["AccountId"] is not None


def test_nested_reference_errors(sf: Any) -> None:
    missing = refusal(
        lambda: sf.Invoice__c.create({"Opportunity__r": {"HubSpot_Submission_Id__c": "nope"}})
    )
    assert missing == {
        "message": (
            "Foreign key external ID: nope not found for field HubSpot_Submission_Id__c in "
            "entity Opportunity"
        ),
        "errorCode": "INVALID_FIELD",
        "fields": [],
    }
    not_external = refusal(lambda: sf.Invoice__c.create({"Opportunity__r": {"Amount": 1}}))
    assert (
        not_external["message"]
        == "Field name provided, Amount is not an External ID or indexed field for Opportunity"
    )
    first = sf.Contact.create({"LastName": "a", "HubSpot_Contact_Id__c": "H"})["id"]
    second = sf.Contact.create({"LastName": "b", "HubSpot_Contact_Id__c": "H"})["id"]
    several = refusal(
        lambda: sf.Task.create({"Subject": "call", "Who": {"HubSpot_Contact_Id__c": "H"}})
    )
    assert several == {
        "message": (
            "HubSpot Contact Id: more than one record found for external id field: "
            f"[{first}, {second}]"
        ),
        "errorCode": "DUPLICATE_EXTERNAL_ID",
        "fields": [],
    }


# -- deletes -----------------------------------------------------------------------------------


def test_master_detail_children_go_to_the_recycle_bin_with_their_parent(sf: Any) -> None:
    invoice_id = sf.Invoice__c.create({})["id"]
    line_id = sf.Invoice_Line__c.create({"Name": "L1", "Invoice__c": invoice_id})["id"]
    note_id = sf.Line_Note__c.create({"Name": "N1", "Invoice_Line__c": line_id})["id"]
    sf.Invoice__c.delete(invoice_id)
    for sobject, record_id in (("Invoice_Line__c", line_id), ("Line_Note__c", note_id)):
        with pytest.raises(SalesforceResourceNotFound):
            getattr(sf, sobject).get(record_id)
        assert sf.query(f"SELECT COUNT() FROM {sobject}")["totalSize"] == 0
        rows = sf.query_all(f"SELECT Id, IsDeleted FROM {sobject}", include_deleted=True)["records"]
        assert [(r["Id"], r["IsDeleted"]) for r in rows] == [(record_id, True)]


def test_lookups_are_cleared_or_protect_their_parent(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    opp_id = sf.Opportunity.create(
        {"Name": "o", "StageName": "Prospecting", "CloseDate": "2026-01-31"}
    )["id"]
    invoice_id = sf.Invoice__c.create({"Opportunity__c": opp_id, "Account__c": account_id})["id"]
    sf.Opportunity.delete(opp_id)  # SetNull
    assert sf.Invoice__c.get(invoice_id)["Opportunity__c"] is None
    entry = refusal(lambda: sf.Account.delete(account_id))  # Restrict
    assert entry["errorCode"] == "DELETE_FAILED"
    assert sf.Account.get(account_id)["Id"] == account_id


def test_upsert_by_external_id_and_delete_by_external_id(sf: Any) -> None:
    path = format_external_id("Naturhome_Id__c", "D-1")
    sf.Account.upsert(path, {"Name": "x"})
    response = sf.Account._call_salesforce("DELETE", sf.Account.base_url + path)
    assert response.status_code == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get_by_custom_id("Naturhome_Id__c", "D-1")


def test_deleting_an_account_takes_its_contacts_and_opportunities(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    contact_id = sf.Contact.create({"LastName": "Doe", "AccountId": account_id})["id"]
    opp_id = sf.Opportunity.create(
        {
            "Name": "o",
            "StageName": "Prospecting",
            "CloseDate": "2026-01-31",
            "AccountId": account_id,
        }
    )["id"]
    sf.Task.create({"Subject": "call", "WhatId": opp_id})
    sf.Account.delete(account_id)
    deleted = (
        sf.query_all("SELECT Id FROM Contact WHERE IsDeleted = true", include_deleted=True)[
            "records"
        ]
        + sf.query_all("SELECT Id FROM Opportunity WHERE IsDeleted = true", include_deleted=True)[
            "records"
        ]
    )
    assert {r["Id"] for r in deleted} == {contact_id, opp_id}
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 0


def test_an_account_with_cases_cannot_be_deleted(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    sf.Case.create({"Subject": "leak", "AccountId": account_id})
    assert refusal(lambda: sf.Account.delete(account_id))["errorCode"] == "DELETE_FAILED"
