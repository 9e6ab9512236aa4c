"""REST describe JSON generated from the shipped schema (notes §2.12)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from naturhome_sync.sfschema import Schema, load_schema
from naturhome_sync.sfschema.describe import (
    MASTER_RECORD_TYPE_ID,
    describe_field,
    describe_global,
    describe_object,
)

#: Field keys the middleware and doctor rely on (notes §2.12).
FIELD_KEYS = {
    "name", "label", "type", "soapType", "length", "precision", "scale", "digits",
    "byteLength", "nillable", "createable", "updateable", "defaultedOnCreate", "externalId",
    "idLookup", "unique", "caseSensitive", "calculated", "autoNumber", "custom", "nameField",
    "filterable", "sortable", "groupable", "referenceTo", "relationshipName",
    "relationshipOrder", "cascadeDelete", "restrictedPicklist", "picklistValues", "defaultValue",
}  # fmt: skip


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def describe(schema: Schema, object_name: str, field_name: str) -> dict[str, Any]:
    field = schema.field(object_name, field_name)
    assert field is not None
    return describe_field(field)


def pick(entry: dict[str, Any], *keys: str) -> tuple[Any, ...]:
    return tuple(entry[k] for k in keys)


def test_every_field_entry_has_the_documented_keys(schema: Schema) -> None:
    for obj in schema.objects.values():
        for field in obj.fields.values():
            assert set(describe_field(field)) >= FIELD_KEYS, f"{obj.name}.{field.name}"


def test_external_id_text(schema: Schema) -> None:
    entry = describe(schema, "Opportunity", "HubSpot_Submission_Id__c")
    assert pick(entry, "type", "soapType", "length", "byteLength") == (
        "string",
        "xsd:string",
        80,
        240,
    )
    assert pick(entry, "externalId", "idLookup", "unique", "caseSensitive", "custom") == (
        True, True, True, False, True,
    )  # fmt: skip
    assert pick(entry, "nillable", "filterable", "sortable", "groupable") == (
        True,
        True,
        True,
        True,
    )


def test_money_percent_and_number(schema: Schema) -> None:
    money = describe(schema, "Payment_Tranche__c", "Amount_Excl_VAT__c")
    assert pick(money, "type", "soapType", "precision", "scale", "length", "digits") == (
        "currency", "xsd:double", 16, 2, 0, 0,
    )  # fmt: skip
    assert money["groupable"] is False
    rate = describe(schema, "Payment_Tranche__c", "VAT_Rate__c")
    assert pick(rate, "type", "precision", "scale") == ("percent", 5, 2)
    sequence = describe(schema, "Payment_Tranche__c", "Sequence__c")
    assert pick(sequence, "type", "precision", "scale") == ("double", 3, 0)


def test_standard_integer_reports_digits(schema: Schema) -> None:
    size = describe(schema, "ContentVersion", "ContentSize")
    assert pick(size, "type", "soapType", "digits", "precision", "createable") == (
        "int", "xsd:int", 9, 0, False,
    )  # fmt: skip


def test_checkbox(schema: Schema) -> None:
    entry = describe(schema, "Payment_Tranche__c", "Select_For_Invoice__c")
    assert pick(entry, "type", "soapType", "nillable", "defaultValue", "defaultedOnCreate") == (
        "boolean", "xsd:boolean", False, False, True,
    )  # fmt: skip


def test_dates_and_datetimes(schema: Schema) -> None:
    assert pick(describe(schema, "Invoice__c", "Issue_Date__c"), "type", "soapType") == (
        "date", "xsd:date",
    )  # fmt: skip
    assert pick(describe(schema, "Invoice__c", "Sent_At__c"), "type", "soapType") == (
        "datetime", "xsd:dateTime",
    )  # fmt: skip


def test_picklist_values_in_order_with_default(schema: Schema) -> None:
    entry = describe(schema, "Invoice__c", "Status__c")
    assert pick(entry, "type", "restrictedPicklist", "defaultValue", "length") == (
        "picklist", True, None, 255,
    )  # fmt: skip
    values = entry["picklistValues"]
    assert [v["value"] for v in values][:3] == ["Draft", "Pending Approval", "Approved"]
    assert values[0] == {
        "active": True, "defaultValue": True, "label": "Brouillon", "validFor": None,
        "value": "Draft",
    }  # fmt: skip
    assert entry["defaultedOnCreate"] is True


def test_multiselect_picklist(schema: Schema) -> None:
    entry = describe(schema, "User", "Estimator_Countries__c")
    assert pick(entry, "type", "length", "sortable") == ("multipicklist", 4099, False)
    assert [v["value"] for v in entry["picklistValues"]] == ["BE", "LU", "FR", "DE"]


def test_long_text_is_not_filterable(schema: Schema) -> None:
    entry = describe(schema, "Opportunity", "Intake_Warnings__c")
    assert pick(entry, "type", "length", "filterable", "sortable", "extraTypeInfo") == (
        "textarea", 32768, False, False, "plaintextarea",
    )  # fmt: skip


def test_lookup_and_master_detail(schema: Schema) -> None:
    lookup = describe(schema, "Payment_Tranche__c", "Invoice__c")
    assert pick(lookup, "type", "soapType", "referenceTo", "relationshipName") == (
        "reference", "tns:ID", ["Invoice__c"], "Invoice__r",
    )  # fmt: skip
    assert pick(lookup, "cascadeDelete", "relationshipOrder", "nillable", "length") == (
        False, None, True, 18,
    )  # fmt: skip
    master = describe(schema, "Payment_Tranche__c", "Payment_Plan__c")
    assert pick(master, "cascadeDelete", "relationshipOrder", "nillable", "permissionable") == (
        True, 0, False, False,
    )  # fmt: skip


def test_polymorphic_reference(schema: Schema) -> None:
    entry = describe(schema, "Task", "WhatId")
    assert entry["polymorphicForeignKey"] is True
    assert {"Opportunity", "Account", "Invoice__c"} <= set(entry["referenceTo"])
    assert entry["relationshipName"] == "What"


def test_system_and_auto_number_fields(schema: Schema) -> None:
    record_id = describe(schema, "Invoice__c", "Id")
    assert pick(record_id, "type", "soapType", "nillable", "createable", "idLookup") == (
        "id", "tns:ID", False, False, True,
    )  # fmt: skip
    name = describe(schema, "Invoice__c", "Name")
    assert pick(name, "autoNumber", "nameField", "createable", "updateable", "custom") == (
        True, True, False, False, False,
    )  # fmt: skip
    version_data = describe(schema, "ContentVersion", "VersionData")
    assert pick(version_data, "type", "soapType") == ("base64", "xsd:base64Binary")


def test_object_describe_shape(schema: Schema) -> None:
    obj = schema.object("Opportunity")
    assert obj is not None
    result = describe_object(obj, schema, "v61.0")
    json.dumps(result)  # must be plain JSON
    assert pick(result, "name", "keyPrefix", "custom", "createable", "queryable") == (
        "Opportunity", "006", False, True, True,
    )  # fmt: skip
    assert result["urls"]["describe"] == "/services/data/v61.0/sobjects/Opportunity/describe"
    assert result["urls"]["rowTemplate"] == "/services/data/v61.0/sobjects/Opportunity/{ID}"
    assert result["recordTypeInfos"][0]["recordTypeId"] == MASTER_RECORD_TYPE_ID
    names = [f["name"] for f in result["fields"]]
    assert names[0] == "Id"
    assert {"StageName", "Amount", "Site_Country__c"} <= set(names)
    children = {c["relationshipName"]: c for c in result["childRelationships"]}
    assert children["Payment_Plans__r"]["cascadeDelete"] is True
    assert children["Payment_Plans__r"]["childSObject"] == "Payment_Plan__c"
    assert children["Tasks"]["field"] == "WhatId"
    assert children["Invoices__r"]["cascadeDelete"] is False


def test_custom_object_gets_the_prefix_it_is_given(schema: Schema) -> None:
    obj = schema.object("Invoice__c")
    assert obj is not None
    assert describe_object(obj, schema, "59.0")["keyPrefix"] is None
    result = describe_object(obj, schema, "59.0", key_prefix="a07")
    assert pick(result, "keyPrefix", "custom", "label", "labelPlural") == (
        "a07", True, "Facture", "Factures",
    )  # fmt: skip


def test_describe_global(schema: Schema) -> None:
    result = describe_global(schema, key_prefixes={"Invoice__c": "a07"})
    assert pick(result, "encoding", "maxBatchSize") == ("UTF-8", 200)
    names = [s["name"] for s in result["sobjects"]]
    assert names == sorted(names, key=str.lower)
    entries = {s["name"]: s for s in result["sobjects"]}
    assert entries["Invoice__c"]["keyPrefix"] == "a07"
    assert entries["Account"]["keyPrefix"] == "001"
    assert entries["ContentDocument"]["createable"] is False
    assert entries["User"]["deletable"] is False
    assert entries["Account"]["urls"]["sobject"] == "/services/data/v59.0/sobjects/Account"
    assert "fields" not in entries["Account"]
