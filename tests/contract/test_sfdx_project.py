"""The shipped SFDX project honours the schema contract (DATA_MODEL.md) and deploys.

The table below is the contract written out by hand from DATA_MODEL.md, on purpose: the
project files must match it, and changing either side without the other fails here.
Notation: "Text+ext" = External ID + unique, case-insensitive; ("Picklist", values) lists
the values in order; ("Lookup", target) / ("MD", target) name the parent object.
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from naturhome_sync.paths import shipped_dir
from naturhome_sync.sfschema import load_schema, load_sfdx_project
from naturhome_sync.sfschema.lint import lint_sfdx_project
from naturhome_sync.sfschema.model import FieldDef, Schema

SALESFORCE = shipped_dir("salesforce")
NS = "{http://soap.sforce.com/2006/04/metadata}"

LANGS = ["fr", "de", "en", "nl"]
COUNTRIES = ["BE", "LU", "FR", "DE"]
KINDS = ["Deposit", "Progress", "Balance", "Retention"]
TRIGGERS = ["Signature", "Milestone", "Date offset", "Handover", "Manual"]

Spec = Any
CONTRACT: dict[str, dict[str, Spec]] = {
    "Account": {
        "VAT_Number__c": "Text",
        "Preferred_Language__c": ("Picklist", LANGS),
    },
    "Contact": {"HubSpot_Contact_Id__c": "Text+ext"},
    "Opportunity": {
        "HubSpot_Submission_Id__c": "Text+ext",
        "HubSpot_Contact_Id__c": "Text",
        "Project_Type__c": ("Picklist", ["New build", "Extension", "Renovation"]),
        "Budget__c": "Currency",
        "Living_Area_m2__c": "Number",
        "Desired_Start__c": "Date",
        "Site_Street__c": "Text",
        "Site_Postal_Code__c": "Text",
        "Site_City__c": "Text",
        "Site_Country__c": ("Picklist", COUNTRIES),
        "Score__c": "Number",
        "Score_Breakdown__c": "LongTextArea",
        "Priority__c": ("Picklist", ["P1", "P2", "P3"]),
        "Estimator__c": ("Lookup", "User"),
        "Assigned_At__c": "DateTime",
        "Contract_Signed_Date__c": "Date",
        "VAT_Regime__c": "Picklist",
        "Wrike_Folder_Id__c": "Text+ext",
        "LuxDoc_Folder_Id__c": "Text",
        "Site_Progress__c": "Percent",
        "Next_Milestone__c": "Text",
        "Next_Milestone_Date__c": "Date",
        "Intake_Warnings__c": "LongTextArea",
    },
    "User": {
        "Is_Estimator__c": "Checkbox",
        "Estimator_Capacity__c": "Number",
        "Estimator_Countries__c": ("MultiselectPicklist", COUNTRIES),
    },
    "Case": {"Opportunity__c": ("Lookup", "Opportunity"), "Wrike_Task_Id__c": "Text+ext"},
    "ContentVersion": {"Naturhome_Key__c": "Text"},
    "Work_Item__c": {"Code__c": "Text+ext", "Active__c": "Checkbox"},
    "Billing_Tranche_Template__c": {
        "Work_Item__c": ("MD", "Work_Item__c"),
        "Sequence__c": "Number",
        "Label__c": "Text",
        "Kind__c": ("Picklist", KINDS),
        "Percent__c": "Percent",
        "Trigger__c": ("Picklist", TRIGGERS),
        "Milestone_Key__c": "Text",
        "Offset_Days__c": "Number",
        "Payment_Terms_Days__c": "Number",
    },
    "Work_Package__c": {
        "Opportunity__c": ("MD", "Opportunity"),
        "Work_Item__c": ("Lookup", "Work_Item__c"),
        "Description__c": "LongTextArea",
        "Amount_Excl_VAT__c": "Currency",
        "VAT_Rate__c": "Percent",
    },
    "Contract_Amendment__c": {
        "Opportunity__c": ("MD", "Opportunity"),
        "Work_Item__c": ("Lookup", "Work_Item__c"),
        "Description__c": "LongTextArea",
        "Amount_Excl_VAT__c": "Currency",
        "VAT_Rate__c": "Percent",
        "Status__c": ("Picklist", ["Draft", "Signed", "Cancelled"]),
        "Signed_Date__c": "Date",
        "Applied__c": "Checkbox",
    },
    "Payment_Plan__c": {
        "Opportunity__c": ("MD", "Opportunity"),
        "Plan_Key__c": "Text+ext",
        "Version__c": "Number",
        "Status__c": ("Picklist", ["Active", "Superseded"]),
        "Total_Excl_VAT__c": "Currency",
        "Generated_At__c": "DateTime",
    },
    "Payment_Tranche__c": {
        "Payment_Plan__c": ("MD", "Payment_Plan__c"),
        "Opportunity__c": ("Lookup", "Opportunity"),
        "Work_Package__c": ("Lookup", "Work_Package__c"),
        "Contract_Amendment__c": ("Lookup", "Contract_Amendment__c"),
        "Tranche_Key__c": "Text+ext",
        "Sequence__c": "Number",
        "Label__c": "Text",
        "Kind__c": ("Picklist", KINDS),
        "Percent__c": "Percent",
        "Amount_Excl_VAT__c": "Currency",
        "VAT_Rate__c": "Percent",
        "VAT_Amount__c": "Currency",
        "Amount_Incl_VAT__c": "Currency",
        "Trigger__c": ("Picklist", TRIGGERS),
        "Milestone_Key__c": "Text",
        "Planned_Date__c": "Date",
        "Payment_Terms_Days__c": "Number",
        "Status__c": (
            "Picklist",
            ["Planned", "Ready", "Selected", "Invoiced", "Paid", "Cancelled"],
        ),
        "Select_For_Invoice__c": "Checkbox",
        "Invoice__c": ("Lookup", "Invoice__c"),
    },
    "Invoice__c": {
        "Opportunity__c": ("Lookup", "Opportunity"),
        "Account__c": ("Lookup", "Account"),
        "Request_Key__c": "Text+ext",
        "Invoice_Number__c": "Text+ext",
        "Type__c": ("Picklist", ["Invoice", "Credit Note"]),
        "Credited_Invoice__c": ("Lookup", "Invoice__c"),
        "Status__c": (
            "Picklist",
            ["Draft", "Pending Approval", "Approved", "Sent", "Paid", "Rejected", "Cancelled"],
        ),
        "Issue_Date__c": "Date",
        "Due_Date__c": "Date",
        "Language__c": ("Picklist", LANGS),
        "Total_Excl_VAT__c": "Currency",
        "Total_VAT__c": "Currency",
        "Total_Incl_VAT__c": "Currency",
        "Structured_Reference__c": "Text",
        "Billing_Meeting__c": ("Lookup", "Billing_Meeting__c"),
        "Sent_At__c": "DateTime",
        "Sent_To__c": "Text",
    },
    "Invoice_Line__c": {
        "Invoice__c": ("MD", "Invoice__c"),
        "Payment_Tranche__c": ("Lookup", "Payment_Tranche__c"),
        "Sequence__c": "Number",
        "Description__c": "LongTextArea",
        "Amount_Excl_VAT__c": "Currency",
        "VAT_Rate__c": "Percent",
        "VAT_Amount__c": "Currency",
    },
    "Billing_Meeting__c": {
        "Meeting_Key__c": "Text+ext",
        "Meeting_Date__c": "Date",
        "Status__c": ("Picklist", ["Planned", "In Progress", "Closed", "Processed"]),
        "Site_Manager__c": ("Lookup", "User"),
        "Billing_Manager__c": ("Lookup", "User"),
        "Processed_At__c": "DateTime",
    },
    "Billing_Meeting_Item__c": {
        "Billing_Meeting__c": ("MD", "Billing_Meeting__c"),
        "Opportunity__c": ("Lookup", "Opportunity"),
        "Item_Key__c": "Text+ext",
        "Decision__c": ("Picklist", ["Pending", "Invoice", "Postpone", "Nothing to invoice"]),
        "Notes__c": "LongTextArea",
        "Contract_Total__c": "Currency",
        "Invoiced_To_Date__c": "Currency",
        "Remaining__c": "Currency",
        "Site_Progress__c": "Percent",
        "Next_Milestone__c": "Text",
        "Last_Invoice_Date__c": "Date",
        "Signed_Amendments__c": "Currency",
        "History__c": "LongTextArea",
        "Invoice__c": ("Lookup", "Invoice__c"),
    },
    "Planning_Task__c": {
        "Opportunity__c": ("Lookup", "Opportunity"),
        "Wrike_Task_Id__c": "Text+ext",
        "Title__c": "Text",
        "Status__c": ("Picklist", ["Active", "Completed", "Deferred", "Cancelled"]),
        "Importance__c": ("Picklist", ["High", "Normal", "Low"]),
        "Start_Date__c": "Date",
        "Due_Date__c": "Date",
        "Completed_Date__c": "Date",
        "Is_Milestone__c": "Checkbox",
        "Parent_Wrike_Id__c": "Text",
        "Wrike_Url__c": "Url",
        "Client_Visible__c": "Checkbox",
    },
    "External_Document__c": {
        "Opportunity__c": ("Lookup", "Opportunity"),
        "LuxDoc_Document_Id__c": "Text+ext",
        "Title__c": "Text",
        "Category__c": "Text",
        "Version__c": "Text",
        "Mime_Type__c": "Text",
        "Size_Bytes__c": "Number",
        "Modified_At__c": "DateTime",
        "Url__c": "Url",
        "Client_Visible__c": "Checkbox",
        "Deleted__c": "Checkbox",
    },
    "Integration_Error__c": {
        "Event_Id__c": "Text+ext",
        "Source__c": "Text",
        "Flow__c": "Text",
        "Category__c": "Picklist",
        "Message__c": "LongTextArea",
        "Record_Id__c": "Text",
        "External_Id__c": "Text",
        "Occurred_At__c": "DateTime",
        "Attempts__c": "Number",
        "Resolved__c": "Checkbox",
    },
}
STANDARD_OBJECTS = {"Account", "Contact", "Opportunity", "User", "Case", "ContentVersion"}
#: Name field of each custom object: AutoNumber where the record has no natural name.
NAME_FIELDS = {
    "Work_Item__c": "Text",
    "Billing_Meeting__c": "Text",
    "Billing_Tranche_Template__c": "AutoNumber",
    "Work_Package__c": "AutoNumber",
    "Contract_Amendment__c": "AutoNumber",
    "Payment_Plan__c": "AutoNumber",
    "Payment_Tranche__c": "AutoNumber",
    "Invoice__c": "AutoNumber",
    "Invoice_Line__c": "AutoNumber",
    "Billing_Meeting_Item__c": "AutoNumber",
    "Planning_Task__c": "AutoNumber",
    "External_Document__c": "AutoNumber",
    "Integration_Error__c": "AutoNumber",
}
#: Objects Tasks are logged on (invoice sent, sync problems, meeting follow-ups).
WITH_ACTIVITIES = {"Invoice__c", "Billing_Meeting__c", "Integration_Error__c"}


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema(SALESFORCE)


@pytest.fixture(scope="module")
def project() -> Schema:
    return load_sfdx_project(SALESFORCE)


def _contract_fields() -> list[tuple[str, str, Spec]]:
    return [(o, f, spec) for o, fields in CONTRACT.items() for f, spec in fields.items()]


def test_every_metadata_file_is_well_formed_and_starts_with_its_root() -> None:
    files = sorted(SALESFORCE.rglob("*-meta.xml"))
    assert len(files) > 150
    for path in files:
        raw = path.read_bytes()
        assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<'), path
        assert b"<!--" not in raw, path
        root = ET.fromstring(raw)
        assert root.tag.startswith(NS), path


def test_the_project_breaks_no_deploy_rule() -> None:
    assert [str(p) for p in lint_sfdx_project(SALESFORCE)] == []


def test_project_declares_api_59(project: Schema) -> None:
    assert project.api_version == "59.0"


def test_custom_objects_are_exactly_the_contract(project: Schema) -> None:
    customs = {name for name, obj in project.objects.items() if obj.custom}
    assert customs == set(CONTRACT) - STANDARD_OBJECTS
    assert {name for name, obj in project.objects.items() if not obj.custom} == STANDARD_OBJECTS


@pytest.mark.parametrize("object_name", sorted(CONTRACT))
def test_custom_fields_are_exactly_the_contract(project: Schema, object_name: str) -> None:
    fields = {f.name for f in project.objects[object_name].fields.values() if f.custom}
    assert fields == set(CONTRACT[object_name])


@pytest.mark.parametrize(("object_name", "field_name", "spec"), _contract_fields())
def test_field_matches_contract(
    schema: Schema, object_name: str, field_name: str, spec: Spec
) -> None:
    field = schema.objects[object_name].fields[field_name]  # exact casing
    assert field.custom
    assert field.label
    assert field.label != field_name
    assert field.description, "every field says what it is for"
    if spec == "Text+ext":
        assert (field.type, field.external_id, field.unique) == ("Text", True, True)
        assert field.case_sensitive is False
        assert 80 <= (field.length or 0) <= 255
        return
    assert field.external_id is False or field_name == "Naturhome_Key__c"
    if isinstance(spec, str):
        assert field.type == spec
    elif spec[0] in ("Lookup", "MD"):
        _assert_relationship(field, spec[0], spec[1])
    else:
        kind, values = spec
        assert field.type == kind
        assert [v.value for v in field.picklist_values] == values
    _assert_type_details(field)


def _assert_relationship(field: FieldDef, kind: str, target: str) -> None:
    assert field.reference_to == (target,)
    assert field.relationship_name == field.name.removesuffix("__c") + "__r"
    child = field.child_relationship_name or ""
    assert re.fullmatch(r"[A-Z][A-Za-z]*(_[A-Z][A-Za-z]*)*s(_As_[A-Za-z_]+)?__r", child), child
    if kind == "MD":
        assert field.type == "MasterDetail"
        assert field.required
        assert field.relationship_order == 0
        assert field.delete_constraint is None
    else:
        assert field.type == "Lookup"
        assert field.delete_constraint == "SetNull"
        assert not field.required


def _assert_type_details(field: FieldDef) -> None:
    if field.type == "Currency":
        assert (field.precision, field.scale) == (16, 2)
    elif field.type == "Percent":
        assert (field.precision, field.scale) == (5, 2)
    elif field.type == "Number":
        assert field.precision
        assert field.scale is not None
        assert field.scale <= 2
    elif field.type == "Checkbox":
        assert field.default_value == "false"
    elif field.type == "LongTextArea":
        assert field.length
        assert field.length >= 32768
        assert field.visible_lines
    elif field.type == "Text":
        assert field.length
        assert 1 <= field.length <= 255
    elif field.type in ("Picklist", "MultiselectPicklist"):
        assert field.restricted
        assert field.picklist_values
        assert all(v.label for v in field.picklist_values)


@pytest.mark.parametrize(
    ("object_name", "field_name", "default"),
    [
        ("Contract_Amendment__c", "Status__c", "Draft"),
        ("Payment_Tranche__c", "Status__c", "Planned"),
        ("Invoice__c", "Status__c", "Draft"),
        ("Billing_Meeting__c", "Status__c", "Planned"),
        ("Billing_Meeting_Item__c", "Decision__c", "Pending"),
        ("Opportunity", "Site_Country__c", None),
        ("Payment_Tranche__c", "Kind__c", None),
    ],
)
def test_picklist_defaults_only_where_obvious(
    schema: Schema, object_name: str, field_name: str, default: str | None
) -> None:
    field = schema.objects[object_name].fields[field_name]
    assert field.default_value == default
    assert [v.value for v in field.picklist_values if v.default] == ([default] if default else [])


def test_fields_the_flows_add_beyond_the_data_model(schema: Schema) -> None:
    warnings = schema.objects["Opportunity"].fields["Intake_Warnings__c"]
    assert (warnings.type, warnings.length) == ("LongTextArea", 32768)
    key = schema.objects["ContentVersion"].fields["Naturhome_Key__c"]
    assert (key.type, key.length, key.external_id, key.unique) == ("Text", 255, True, False)
    capacity = schema.objects["User"].fields["Estimator_Capacity__c"]
    assert (capacity.precision, capacity.scale) == (3, 0)


def test_estimator_countries_is_a_multiselect_of_four_countries(schema: Schema) -> None:
    field = schema.objects["User"].fields["Estimator_Countries__c"]
    assert field.describe_type == "multipicklist"
    assert field.picklist_value_set == frozenset(COUNTRIES)


def test_standard_value_sets_give_the_stages_types_and_sources(schema: Schema) -> None:
    stages = schema.objects["Opportunity"].fields["StageName"].picklist_values
    assert [(s.value, s.closed, s.won) for s in stages] == [
        ("Quote Requested", False, False),
        ("Quote In Progress", False, False),
        ("Quote Sent", False, False),
        ("Negotiation", False, False),
        ("Closed Won", True, True),
        ("Closed Lost", True, False),
    ]
    assert [p.probability for p in stages][-2:] == [100, 0]
    account_types = schema.objects["Account"].fields["Type"].picklist_values
    assert [v.value for v in account_types] == ["Client", "Subcontractor", "Supplier"]
    sources = schema.objects["Opportunity"].fields["LeadSource"].picklist_value_set
    assert "HubSpot" in sources


@pytest.mark.parametrize("object_name", sorted(NAME_FIELDS))
def test_custom_object_shape(schema: Schema, object_name: str) -> None:
    obj = schema.objects[object_name]
    assert obj.label
    assert obj.plural_label
    assert obj.description
    assert obj.fields["Name"].type == NAME_FIELDS[object_name]
    assert obj.enable_activities == (object_name in WITH_ACTIVITIES)
    has_master = bool(obj.master_detail_fields)
    assert obj.sharing_model == ("ControlledByParent" if has_master else "ReadWrite")
    assert ("OwnerId" in obj.fields) == (not has_master)
    if NAME_FIELDS[object_name] == "AutoNumber":
        assert obj.name_display_format
        assert "{000000}" in obj.name_display_format


def test_date_and_datetime_fields_are_chosen_as_the_brief_says(schema: Schema) -> None:
    datetimes = {
        f.name for o in CONTRACT for f in schema.objects[o].fields.values()
        if f.custom and f.type == "DateTime"
    }  # fmt: skip
    assert datetimes == {
        "Assigned_At__c", "Generated_At__c", "Sent_At__c", "Processed_At__c",
        "Occurred_At__c", "Modified_At__c",
    }  # fmt: skip


def test_child_relationship_names_are_unique_per_parent(schema: Schema) -> None:
    for parent in schema.objects:
        names = [
            r.relationship_name.lower()
            for r in schema.child_relationships(parent)
            if r.relationship_name
        ]
        assert len(names) == len(set(names)), parent


def test_activity_objects_are_reachable_from_task_what_id(schema: Schema) -> None:
    targets = set(schema.objects["Task"].fields["WhatId"].reference_to)
    assert targets >= WITH_ACTIVITIES
    assert "Payment_Tranche__c" not in targets


def test_permission_set_covers_every_custom_object_and_field_it_may(project: Schema) -> None:
    permission_set = project.permission_sets["Naturhome_Integration"]
    for name, obj in project.objects.items():
        if obj.custom:
            assert permission_set.object_permissions[name] >= {"create", "read", "edit", "delete"}
        for field in obj.fields.values():
            if not field.custom:
                continue
            key = f"{name}.{field.name}"
            if field.is_master_detail or field.required:
                assert key not in permission_set.field_permissions
            else:
                assert permission_set.field_permissions[key] == (True, field.updateable), key
    for key in permission_set.field_permissions:
        object_name, field_name = key.split(".")
        assert field_name in project.objects[object_name].fields


def test_schema_reference_doc_is_up_to_date(project: Schema) -> None:
    """docs/salesforce-schema.md is generated; a stale copy misleads admins."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "salesforce-schema.md"
    if not doc.parent.is_dir():
        pytest.skip("no docs/ folder beside the tests (not a checkout)")
    script = SALESFORCE / "tools" / "render_schema_doc.py"
    spec = importlib.util.spec_from_file_location("render_schema_doc", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert doc.read_text(encoding="utf-8") == module.render(project), (
        "run: python salesforce/tools/render_schema_doc.py"
    )
