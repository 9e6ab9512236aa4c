"""The built-in standard objects match what a real org reports (notes §2.2, §4.5)."""

from __future__ import annotations

import pytest

from naturhome_sync.sfschema import Schema, standard_objects

PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "User": "005",
    "Task": "00T",
    "Case": "500",
    "ContentVersion": "068",
    "ContentDocument": "069",
    "ContentDocumentLink": "06A",
}


@pytest.fixture(scope="module")
def base() -> Schema:
    return Schema(objects=standard_objects())


def test_key_prefixes_are_the_real_ones(base: Schema) -> None:
    assert {name: base.objects[name].key_prefix for name in PREFIXES} == PREFIXES


@pytest.mark.parametrize(
    ("object_name", "required"),
    [
        ("Account", {"Name"}),
        ("Contact", {"LastName"}),
        ("Opportunity", {"Name", "StageName", "CloseDate"}),
        ("ContentVersion", {"Title", "PathOnClient"}),
        ("ContentDocumentLink", {"LinkedEntityId", "ContentDocumentId"}),
        ("Task", set()),
        ("Case", set()),
    ],
)
def test_required_on_create(base: Schema, object_name: str, required: set[str]) -> None:
    fields = base.objects[object_name].fields.values()
    assert {f.name for f in fields if f.required} == required


@pytest.mark.parametrize("object_name", sorted(PREFIXES))
def test_system_fields_are_read_only_and_never_null(base: Schema, object_name: str) -> None:
    obj = base.objects[object_name]
    for name in ("Id", "IsDeleted", "SystemModstamp"):
        field = obj.fields[name]
        assert (field.createable, field.updateable, field.nillable) == (False, False, False)
    if object_name != "ContentDocumentLink":  # a link has no audit fields
        assert obj.fields["CreatedById"].relationship_name == "CreatedBy"
        assert obj.fields["LastModifiedDate"].type == "DateTime"


def test_owner_only_where_records_have_one(base: Schema) -> None:
    owned = {name for name, obj in base.objects.items() if "OwnerId" in obj.fields}
    assert owned >= {"Account", "Contact", "Opportunity", "Task", "Case", "ContentVersion"}
    assert "OwnerId" not in base.objects["User"].fields
    assert "OwnerId" not in base.objects["ContentDocumentLink"].fields
    owner = base.objects["Opportunity"].fields["OwnerId"]
    assert (owner.required, owner.defaulted_on_create, owner.nillable) == (False, True, False)


def test_calculated_standard_fields_are_read_only(base: Schema) -> None:
    opportunity = base.objects["Opportunity"].fields
    for name in ("IsClosed", "IsWon"):
        assert (opportunity[name].createable, opportunity[name].updateable) == (False, False)
    assert base.objects["Contact"].fields["Name"].createable is False
    version = base.objects["ContentVersion"].fields
    assert {
        n for n in ("FileType", "ContentSize", "VersionNumber", "IsLatest") if version[n].createable
    } == set()
    assert (version["VersionData"].type, version["VersionData"].updateable) == ("Base64", False)


@pytest.mark.parametrize(
    ("parent", "expected"),
    [
        ("Account", {"Contacts", "Opportunities", "Cases", "Tasks", "ContentDocumentLinks"}),
        ("Opportunity", {"Tasks", "ContentDocumentLinks"}),
        ("Contact", {"Cases", "Tasks", "ContentDocumentLinks"}),
        ("ContentDocument", {"ContentVersions", "ContentDocumentLinks"}),
    ],
)
def test_standard_child_relationships(base: Schema, parent: str, expected: set[str]) -> None:
    names = {r.relationship_name for r in base.child_relationships(parent) if r.relationship_name}
    assert names == expected


def test_task_links_and_text_lengths(base: Schema) -> None:
    what = base.objects["Task"].fields["WhatId"]
    assert set(what.reference_to) == {"Account", "Opportunity", "Case"}
    assert (what.relationship_name, what.child_relationship_name) == ("What", "Tasks")
    status = base.objects["Task"].fields["Status"]
    assert (status.default_value, status.nillable) == ("Not Started", False)
    lengths = {
        ("Account", "Name"): 255,
        ("Contact", "FirstName"): 40,
        ("Contact", "LastName"): 80,
        ("Opportunity", "Name"): 120,
        ("Account", "BillingCity"): 40,
        ("Account", "BillingPostalCode"): 20,
    }
    assert {key: base.objects[key[0]].fields[key[1]].max_length for key in lengths} == lengths
    assert base.objects["Account"].fields["BillingStreet"].max_length == 255  # TextArea


def test_object_level_permissions(base: Schema) -> None:
    flags = {
        name: (obj.createable, obj.updateable, obj.deletable) for name, obj in base.objects.items()
    }
    assert flags["ContentDocument"] == (False, True, True)
    assert flags["ContentVersion"] == (True, True, False)
    assert flags["User"] == (True, True, False)
    assert flags["Opportunity"] == (True, True, True)


def test_each_call_returns_a_fresh_copy() -> None:
    first = standard_objects()
    first.pop("Account")
    assert "Account" in standard_objects()
