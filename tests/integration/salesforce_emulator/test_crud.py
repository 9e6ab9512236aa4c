"""Single-record CRUD, upsert and reads by external id, through simple-salesforce."""

from __future__ import annotations

import re
from typing import Any

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_external_id

from sandbox.salesforce import Behaviour

ID18 = re.compile(r"^[a-zA-Z0-9]{18}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


def test_create_answers_lowercase_id_with_the_key_prefix(sf: Any) -> None:
    result = sf.Account.create({"Name": "Acme"})
    assert result["success"] is True
    assert result["errors"] == []
    assert ID18.match(result["id"])
    assert result["id"].startswith("001")


def test_create_status_is_201(harness: Any) -> None:
    sf = harness.client()
    raw = sf.Account._call_salesforce("POST", sf.Account.base_url, data='{"Name": "Raw"}')
    assert raw.status_code == 201
    assert raw.headers["Location"].endswith(raw.json()["id"])


def test_get_returns_every_field_with_attributes_canonical_names_and_explicit_nulls(
    sf: Any,
) -> None:
    account_id = sf.Account.create({"name": "Acme", "rating__c": 4, "tier__c": "Gold"})["id"]
    record = sf.Account.get(account_id)
    assert record["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{account_id}",
    }
    assert record["Id"] == account_id
    assert record["Name"] == "Acme"
    assert record["Tier__c"] == "Gold"
    assert record["Rating__c"] == 4.0
    assert isinstance(record["Rating__c"], float)
    assert record["Phone"] is None
    assert "Phone" in record
    assert DATETIME.match(record["CreatedDate"])
    assert record["IsDeleted"] is False
    assert record["Active__c"] is True  # checkbox default
    assert record["OwnerId"].startswith("005")


def test_get_with_fields_projects_and_rejects_unknown_fields(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    record = sf.Account.get(account_id, params={"fields": "Id,name"})
    assert list(record) == ["attributes", "Id", "Name"]
    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.Account.get(account_id, params={"fields": "Id,Nope__c"})
    assert error.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nope__c' on entity 'Account'" in error.value.content[0]["message"]


def test_update_answers_204_and_changes_the_record(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    assert sf.Account.update(account_id, {"Phone": "+32 80 00 00 00"}) == 204
    assert sf.Account.get(account_id)["Phone"] == "+32 80 00 00 00"


def test_fifteen_character_ids_are_accepted(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    assert sf.Account.get(account_id[:15])["Id"] == account_id
    assert sf.Account.update(account_id[:15], {"Name": "Acme 2"}) == 204


def test_delete_answers_204_then_the_record_is_deleted(sf: Any) -> None:
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    assert sf.Account.delete(account_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as error:
        sf.Account.get(account_id)
    assert error.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"
    with pytest.raises(SalesforceResourceNotFound) as again:
        sf.Account.delete(account_id)
    assert again.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_get_unknown_id_and_unknown_object_are_404(sf: Any) -> None:
    with pytest.raises(SalesforceResourceNotFound) as error:
        sf.Account.get("001Nh0000009999")
    assert error.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
    with pytest.raises(SalesforceResourceNotFound):
        sf.Nope__c.get("001Nh0000009999")
    with pytest.raises(SalesforceResourceNotFound) as not_an_id:
        sf.Account.get("not-an-id")
    assert (
        "Provided external ID field does not exist or is not accessible: not-an-id"
        in (not_an_id.value.content[0]["message"])
    )


def test_patch_with_an_id_of_another_object_is_malformed(sf: Any) -> None:
    contact_id = sf.Contact.create({"LastName": "Doe"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.Account.update(contact_id, {"Name": "x"})
    assert error.value.content[0]["errorCode"] == "MALFORMED_ID"
    assert error.value.content[0]["fields"] == ["Id"]


@pytest.mark.parametrize("code", ["NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY"])
def test_missing_record_answer_is_switchable(make_harness: Any, code: str) -> None:
    sf = make_harness(behaviour=Behaviour(missing_record_error=code)).client()
    missing = "001Nh00000ZZZZZ"
    for call in (
        lambda: sf.Account.update(missing, {"Name": "x"}),
        lambda: sf.Account.delete(missing),
    ):
        with pytest.raises(SalesforceResourceNotFound) as error:
            call()
        assert error.value.status == 404
        assert error.value.content[0]["errorCode"] == code


# -- upsert ------------------------------------------------------------------------------------


def test_upsert_creates_with_201_then_updates_with_200_and_created_flag(sf: Any) -> None:
    path = format_external_id("Naturhome_Id__c", "A-1")
    created = sf.Account.upsert(path, {"Name": "Acme"}, raw_response=True)
    assert created.status_code == 201
    body = created.json()
    assert body["created"] is True
    assert body["success"] is True
    updated = sf.Account.upsert(path, {"Name": "Acme SA"}, raw_response=True)
    assert updated.status_code == 200
    assert updated.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    assert sf.Account.get(body["id"])["Naturhome_Id__c"] == "A-1"


def test_upsert_update_status_can_be_204(make_harness: Any) -> None:
    sf = make_harness(behaviour=Behaviour(upsert_update_status=204)).client()
    path = format_external_id("Naturhome_Id__c", "A-1")
    assert sf.Account.upsert(path, {"Name": "Acme"}) == 201
    response = sf.Account.upsert(path, {"Name": "Acme SA"}, raw_response=True)
    assert response.status_code == 204
    assert response.content == b""


def test_upsert_with_several_matches_answers_300_with_record_urls(sf: Any) -> None:
    first = sf.Contact.create({"LastName": "One", "HubSpot_Contact_Id__c": "H-1"})["id"]
    second = sf.Contact.create({"LastName": "Two", "HubSpot_Contact_Id__c": "H-1"})["id"]
    with pytest.raises(SalesforceMoreThanOneRecord) as error:
        sf.Contact.upsert(format_external_id("HubSpot_Contact_Id__c", "H-1"), {"LastName": "X"})
    assert error.value.status == 300
    assert error.value.content == [
        f"/services/data/v59.0/sobjects/Contact/{first}",
        f"/services/data/v59.0/sobjects/Contact/{second}",
    ]
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Contact.get_by_custom_id("HubSpot_Contact_Id__c", "H-1")


def test_upsert_on_a_field_that_is_not_an_external_id_is_404(sf: Any) -> None:
    with pytest.raises(SalesforceResourceNotFound) as error:
        sf.Account.upsert("Phone/123", {"Name": "x"})
    assert error.value.content[0] == {
        "message": "Provided external ID field does not exist or is not accessible: Phone",
        "errorCode": "NOT_FOUND",
    }


def test_upsert_update_only_refuses_to_create(sf: Any) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.upsert(
            format_external_id("Naturhome_Id__c", "new") + "?updateOnly=true", {"Name": "x"}
        )


@pytest.mark.parametrize("value", ["A/1", "A 1", "é-ü", "50%#?&=", "tab\tkey", "A+B"])
def test_external_ids_with_special_characters_round_trip(sf: Any, value: str) -> None:
    path = format_external_id("Naturhome_Id__c", value)
    record_id = sf.Account.upsert(path, {"Name": "Special"}, raw_response=True).json()["id"]
    again = sf.Account.upsert(path, {"Name": "Special 2"}, raw_response=True).json()
    assert again == {"id": record_id, "success": True, "errors": [], "created": False}
    assert sf.Account.get(record_id)["Naturhome_Id__c"] == value


def test_get_by_custom_id_reads_the_record(sf: Any) -> None:
    record_id = sf.Account.create({"Name": "Acme", "Naturhome_Id__c": "A-7/x"})["id"]
    assert sf.Account.get_by_custom_id("Naturhome_Id__c", "A-7/x")["Id"] == record_id
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get_by_custom_id("Naturhome_Id__c", "A-8")


@pytest.mark.parametrize("plus_is_space", [False, True])
def test_plus_in_an_external_id_path_is_switchable(make_harness: Any, plus_is_space: bool) -> None:
    sf = make_harness(behaviour=Behaviour(plus_in_path_is_space=plus_is_space)).client()
    record_id = sf.Account.create({"Name": "Spaced", "Naturhome_Id__c": "A 1"})["id"]
    if plus_is_space:  # get_by_custom_id encodes the space as '+'
        assert sf.Account.get_by_custom_id("Naturhome_Id__c", "A 1")["Id"] == record_id
    else:
        with pytest.raises(SalesforceResourceNotFound):
            sf.Account.get_by_custom_id("Naturhome_Id__c", "A 1")


@pytest.mark.parametrize("insensitive", [True, False])
def test_external_id_case_matching_is_switchable(make_harness: Any, insensitive: bool) -> None:
    sf = make_harness(behaviour=Behaviour(external_id_case_insensitive=insensitive)).client()
    record_id = sf.Account.create({"Name": "Acme", "Naturhome_Id__c": "abc-1"})["id"]
    path = format_external_id("Naturhome_Id__c", "ABC-1")
    if insensitive:
        response = sf.Account.upsert(path, {"Name": "x"}, raw_response=True)
        assert response.status_code == 200
        assert response.json()["id"] == record_id
        assert sf.Account.get_by_custom_id("Naturhome_Id__c", "ABC-1")["Id"] == record_id
    else:
        # No match, so the upsert creates -- and the unique index, which follows the
        # field's caseSensitive=false, refuses the second value.
        with pytest.raises(SalesforceMalformedRequest) as error:
            sf.Account.upsert(path, {"Name": "x"})
        assert error.value.content[0]["errorCode"] == "DUPLICATE_VALUE"
        assert record_id in error.value.content[0]["message"]
        with pytest.raises(SalesforceResourceNotFound):
            sf.Account.get_by_custom_id("Naturhome_Id__c", "ABC-1")


def test_case_sensitive_external_ids_match_exactly(sf: Any) -> None:
    first = sf.Account.create({"Name": "One", "Case_Key__c": "Key"})["id"]
    second = sf.Account.create({"Name": "Two", "Case_Key__c": "KEY"})["id"]
    assert first != second
    assert sf.Account.get_by_custom_id("Case_Key__c", "KEY")["Id"] == second


def test_numeric_external_ids_match_by_value(sf: Any) -> None:
    response = sf.Work_Item__c.upsert("Code__c/42", {"Name": "Roof"}, raw_response=True)
    assert response.status_code == 201
    assert sf.Work_Item__c.get(response.json()["id"])["Code__c"] == 42.0
    again = sf.Work_Item__c.upsert("Code__c/42.0", {"Name": "Roof 2"}, raw_response=True)
    assert again.status_code == 200


def test_upsert_refuses_a_different_external_id_in_the_body(sf: Any) -> None:
    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.Account.upsert(
            format_external_id("Naturhome_Id__c", "A-1"), {"Name": "x", "Naturhome_Id__c": "A-2"}
        )
    assert error.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert (
        sf.Account.upsert(
            format_external_id("Naturhome_Id__c", "A-1"), {"Name": "x", "Naturhome_Id__c": "a-1"}
        )
        == 201
    )
