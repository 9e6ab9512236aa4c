"""The SFDX reader and the merged schema, on small projects written into tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naturhome_sync.errors import ConfigurationError
from naturhome_sync.paths import shipped_dir
from naturhome_sync.sfschema import (
    FieldDef,
    ObjectDef,
    Schema,
    clear_schema_cache,
    load_schema,
    load_sfdx_project,
    merge_project,
    standard_objects,
)

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'


def write_project(root: Path, files: dict[str, str], api: str = "59.0") -> Path:
    """An SFDX project at ``root`` with ``files`` under force-app/main/default/."""
    (root / "sfdx-project.json").write_text(
        json.dumps({"packageDirectories": [{"path": "force-app"}], "sourceApiVersion": api})
    )
    for rel, content in files.items():
        path = root / "force-app/main/default" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def obj(label: str, *, sharing: str = "ReadWrite", name: str = "", activities: bool = False) -> str:
    name = name or "<label>Name</label><type>Text</type>"
    return (
        f"{HEAD}<CustomObject {NS}><deploymentStatus>Deployed</deploymentStatus>"
        f"<enableActivities>{str(activities).lower()}</enableActivities><label>{label}</label>"
        f"<nameField>{name}</nameField><pluralLabel>{label}s</pluralLabel>"
        f"<sharingModel>{sharing}</sharingModel></CustomObject>"
    )


def field(name: str, body: str) -> str:
    inner = f"<fullName>{name}</fullName><label>{name[:-3]}</label>{body}"
    return f"{HEAD}<CustomField {NS}>{inner}</CustomField>"


def picklist(*values: str, default: str = "", restricted: bool = True) -> str:
    entries = "".join(
        f"<value><fullName>{v}</fullName><default>{str(v == default).lower()}</default>"
        f"<label>L {v}</label></value>"
        for v in values
    )
    return (
        f"<valueSet><restricted>{str(restricted).lower()}</restricted><valueSetDefinition>"
        f"<sorted>false</sorted>{entries}</valueSetDefinition></valueSet>"
    )


AUTO = "<displayFormat>SH-{0000}</displayFormat><label>No</label><type>AutoNumber</type>"
SITE = "objects/Site__c/fields/"
SHED = "objects/Shed__c/fields/"


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A project using every field type the reader knows."""
    return write_project(
        tmp_path,
        {
            "objects/Site__c/Site__c.object-meta.xml": obj("Chantier", activities=True),
            "objects/Shed__c/Shed__c.object-meta.xml": obj(
                "Abri", sharing="ControlledByParent", name=AUTO
            ),
            SITE + "Code__c.field-meta.xml": field(
                "Code__c",
                "<caseSensitive>false</caseSensitive><externalId>true</externalId>"
                "<length>64</length><type>Text</type><unique>true</unique>",
            ),
            SITE + "Notes__c.field-meta.xml": field(
                "Notes__c",
                "<length>32768</length><type>LongTextArea</type><visibleLines>5</visibleLines>",
            ),
            SITE + "Short__c.field-meta.xml": field("Short__c", "<type>TextArea</type>"),
            SITE + "Mail__c.field-meta.xml": field("Mail__c", "<type>Email</type>"),
            SITE + "Tel__c.field-meta.xml": field("Tel__c", "<type>Phone</type>"),
            SITE + "Link__c.field-meta.xml": field("Link__c", "<type>Url</type>"),
            SITE + "Area__c.field-meta.xml": field(
                "Area__c", "<precision>8</precision><scale>2</scale><type>Number</type>"
            ),
            SITE + "Budget__c.field-meta.xml": field(
                "Budget__c", "<precision>16</precision><scale>2</scale><type>Currency</type>"
            ),
            SITE + "Progress__c.field-meta.xml": field(
                "Progress__c", "<precision>5</precision><scale>2</scale><type>Percent</type>"
            ),
            SITE + "Open__c.field-meta.xml": field(
                "Open__c", "<defaultValue>true</defaultValue><type>Checkbox</type>"
            ),
            SITE + "Start__c.field-meta.xml": field(
                "Start__c", "<defaultValue>TODAY()</defaultValue><type>Date</type>"
            ),
            SITE + "Seen__c.field-meta.xml": field("Seen__c", "<type>DateTime</type>"),
            SITE + "At__c.field-meta.xml": field("At__c", "<type>Time</type>"),
            SITE + "Phase__c.field-meta.xml": field(
                "Phase__c",
                f"<type>Picklist</type>{picklist('Plan', 'Build', 'Done', default='Plan')}",
            ),
            SITE + "Days__c.field-meta.xml": field(
                "Days__c",
                "<type>MultiselectPicklist</type>"
                f"{picklist('Mon', 'Tue')}<visibleLines>3</visibleLines>",
            ),
            SITE + "Rep__c.field-meta.xml": field(
                "Rep__c",
                "<deleteConstraint>SetNull</deleteConstraint><referenceTo>User</referenceTo>"
                "<relationshipName>Sites</relationshipName><type>Lookup</type>",
            ),
            SITE + "Double__c.field-meta.xml": field(
                "Double__c",
                "<formula>Area__c * 2</formula><precision>18</precision><scale>2</scale>"
                "<type>Number</type>",
            ),
            SITE + "Label__c.field-meta.xml": field(
                "Label__c", "<formula>Name &amp; ' ' &amp; Code__c</formula><type>Text</type>"
            ),
            SITE + "Sheds__c.field-meta.xml": field(
                "Sheds__c",
                "<summaryForeignKey>Shed__c.Site__c</summaryForeignKey>"
                "<summaryOperation>count</summaryOperation><type>Summary</type>",
            ),
            SITE + "Shed_Value__c.field-meta.xml": field(
                "Shed_Value__c",
                "<summarizedField>Shed__c.Value__c</summarizedField>"
                "<summaryForeignKey>Shed__c.Site__c</summaryForeignKey>"
                "<summaryOperation>sum</summaryOperation><type>Summary</type>",
            ),
            SHED + "Site__c.field-meta.xml": field(
                "Site__c",
                "<referenceTo>Site__c</referenceTo><relationshipName>Sheds</relationshipName>"
                "<relationshipOrder>0</relationshipOrder><type>MasterDetail</type>",
            ),
            SHED + "Value__c.field-meta.xml": field(
                "Value__c", "<precision>16</precision><scale>2</scale><type>Currency</type>"
            ),
            SHED + "Tag__c.field-meta.xml": field(
                "Tag__c", "<displayFormat>T-{000}</displayFormat><type>AutoNumber</type>"
            ),
            "objects/Account/fields/Tier__c.field-meta.xml": field(
                "Tier__c", f"<type>Picklist</type>{picklist('Gold', 'Silver', restricted=False)}"
            ),
            "standardValueSets/OpportunityStage.standardValueSet-meta.xml": (
                f"{HEAD}<StandardValueSet {NS}><sorted>false</sorted>"
                "<standardValue><fullName>Open</fullName><default>true</default><label>Ouvert</label>"
                "<closed>false</closed><probability>10</probability><won>false</won></standardValue>"
                "<standardValue><fullName>Won</fullName><default>false</default><label>Gagné</label>"
                "<closed>true</closed><probability>100</probability><won>true</won></standardValue>"
                "</StandardValueSet>"
            ),
            "standardValueSets/LeadSource.standardValueSet-meta.xml": (
                f"{HEAD}<StandardValueSet {NS}><sorted>false</sorted><standardValue>"
                "<fullName>HubSpot</fullName><default>false</default><label>HubSpot</label>"
                "</standardValue></StandardValueSet>"
            ),
            "permissionsets/Ops.permissionset-meta.xml": (
                f"{HEAD}<PermissionSet {NS}><fieldPermissions><editable>false</editable>"
                "<field>Site__c.Code__c</field><readable>true</readable></fieldPermissions>"
                "<label>Ops</label><objectPermissions><allowCreate>true</allowCreate>"
                "<allowDelete>false</allowDelete><allowEdit>true</allowEdit><allowRead>true</allowRead>"
                "<modifyAllRecords>false</modifyAllRecords><object>Site__c</object>"
                "<viewAllRecords>true</viewAllRecords></objectPermissions></PermissionSet>"
            ),
        },
    )


@pytest.fixture
def schema(project_dir: Path) -> Schema:
    return load_schema(project_dir)


def _f(schema: Schema, obj_name: str, field_name: str) -> FieldDef:
    found = schema.field(obj_name, field_name)
    assert found is not None, f"{obj_name}.{field_name}"
    return found


def test_text_types_keep_their_limits(schema: Schema) -> None:
    code = _f(schema, "Site__c", "Code__c")
    assert (code.type, code.length, code.external_id, code.unique, code.id_lookup) == (
        "Text", 64, True, True, True,
    )  # fmt: skip
    notes = _f(schema, "Site__c", "Notes__c")
    assert (notes.max_length, notes.visible_lines, notes.describe_type) == (32768, 5, "textarea")
    assert _f(schema, "Site__c", "Short__c").max_length == 255
    assert [_f(schema, "Site__c", n).max_length for n in ("Mail__c", "Tel__c", "Link__c")] == [
        80, 40, 255,
    ]  # fmt: skip


def test_numbers_keep_precision_and_scale(schema: Schema) -> None:
    got = {
        n: (
            _f(schema, "Site__c", n).type,
            _f(schema, "Site__c", n).precision,
            _f(schema, "Site__c", n).scale,
        )
        for n in ("Area__c", "Budget__c", "Progress__c")
    }
    assert got == {
        "Area__c": ("Number", 8, 2),
        "Budget__c": ("Currency", 16, 2),
        "Progress__c": ("Percent", 5, 2),
    }


def test_checkbox_and_date_defaults(schema: Schema) -> None:
    flag = _f(schema, "Site__c", "Open__c")
    assert (flag.default_value, flag.defaulted_on_create, flag.nillable) == ("true", True, False)
    start = _f(schema, "Site__c", "Start__c")
    assert (start.type, start.default_value, start.defaulted_on_create) == ("Date", "TODAY()", True)
    assert _f(schema, "Site__c", "Seen__c").describe_type == "datetime"
    assert _f(schema, "Site__c", "At__c").describe_type == "time"


def test_picklists_keep_order_default_and_restriction(schema: Schema) -> None:
    phase = _f(schema, "Site__c", "Phase__c")
    assert [v.value for v in phase.picklist_values] == ["Plan", "Build", "Done"]
    assert next(v.label for v in phase.picklist_values) == "L Plan"
    assert (phase.default_value, phase.restricted) == ("Plan", True)
    days = _f(schema, "Site__c", "Days__c")
    assert (days.describe_type, days.visible_lines, days.default_value) == (
        "multipicklist",
        3,
        None,
    )
    assert _f(schema, "Account", "Tier__c").restricted is False


def test_lookups_name_both_sides_of_the_relationship(schema: Schema) -> None:
    rep = _f(schema, "Site__c", "Rep__c")
    assert (rep.relationship_name, rep.child_relationship_name, rep.reference_to) == (
        "Rep__r", "Sites__r", ("User",),
    )  # fmt: skip
    assert (rep.required, rep.delete_constraint, rep.updateable) == (False, "SetNull", True)
    master = _f(schema, "Shed__c", "Site__c")
    assert (master.required, master.relationship_order, master.nillable) == (True, 0, False)
    assert (master.createable, master.updateable) == (True, False)  # not reparentable


def test_calculated_fields_are_read_only(schema: Schema) -> None:
    double = _f(schema, "Site__c", "Double__c")
    assert (double.calculated, double.formula, double.createable, double.updateable) == (
        True, "Area__c * 2", False, False,
    )  # fmt: skip
    label = _f(schema, "Site__c", "Label__c")
    assert (label.type, label.length, label.calculated) == ("Text", 1300, True)
    count = _f(schema, "Site__c", "Sheds__c")
    assert (count.type, count.precision, count.scale, count.updateable) == ("Number", 18, 0, False)
    total = _f(schema, "Site__c", "Shed_Value__c")
    assert (total.type, total.precision, total.scale, total.calculated) == ("Currency", 16, 2, True)
    tag = _f(schema, "Shed__c", "Tag__c")
    assert (tag.type, tag.display_format, tag.createable) == ("AutoNumber", "T-{000}", False)


def test_custom_objects_get_system_and_name_fields(schema: Schema) -> None:
    site = schema.object("Site__c")
    shed = schema.object("Shed__c")
    assert site is not None
    assert shed is not None
    assert list(site.fields)[:4] == ["Id", "OwnerId", "IsDeleted", "Name"]
    assert "LastActivityDate" in site.fields
    assert site.enable_activities
    assert "OwnerId" not in shed.fields  # a detail record belongs to its master's owner
    assert (site.fields["Name"].required, site.fields["Name"].createable) == (True, True)
    name = shed.fields["Name"]
    assert (name.type, name.display_format, name.createable, name.nillable) == (
        "AutoNumber", "SH-{0000}", False, False,
    )  # fmt: skip
    assert (shed.name_field_type, shed.sharing_model, shed.key_prefix) == (
        "AutoNumber", "ControlledByParent", None,
    )  # fmt: skip
    created = shed.fields["CreatedById"]
    assert (created.relationship_name, created.createable) == ("CreatedBy", False)


def test_lookups_are_case_insensitive(schema: Schema) -> None:
    assert schema.object("site__C") is schema.object("Site__c")
    stage = schema.field("OPPORTUNITY", "stagename")
    assert stage is not None
    assert stage.name == "StageName"
    assert schema.field("Site__c", "no_such__c") is None
    assert schema.object("Nope") is None


def test_child_relationships_from_both_sides(schema: Schema) -> None:
    children = {(r.child_object, r.field): r for r in schema.child_relationships("site__c")}
    assert children[("Shed__c", "Site__c")].relationship_name == "Sheds__r"
    assert children[("Shed__c", "Site__c")].cascade_delete is True
    assert children[("Task", "WhatId")].relationship_name == "Tasks"  # activities enabled
    assert children[("ContentDocumentLink", "LinkedEntityId")].relationship_name == (
        "ContentDocumentLinks"
    )
    user_children = {r.relationship_name for r in schema.child_relationships("User")}
    assert "Sites__r" in user_children
    shed_targets = _f(schema, "Task", "WhatId").reference_to
    assert "Site__c" in shed_targets
    assert "Shed__c" not in shed_targets


def test_standard_value_sets_apply_to_their_fields(schema: Schema) -> None:
    stage = _f(schema, "Opportunity", "StageName")
    assert [(v.value, v.label, v.closed, v.won, v.probability) for v in stage.picklist_values] == [
        ("Open", "Ouvert", False, False, 10),
        ("Won", "Gagné", True, True, 100),
    ]
    assert stage.default_value == "Open"
    assert _f(schema, "Opportunity", "LeadSource").picklist_value_set == {"HubSpot"}
    assert _f(schema, "Contact", "LeadSource").picklist_value_set == {"HubSpot"}
    # No AccountType file here: the base's values stay.
    assert "Prospect" in _f(schema, "Account", "Type").picklist_value_set


def test_custom_fields_on_standard_objects_merge_onto_the_base(project_dir: Path) -> None:
    project = load_sfdx_project(project_dir)
    account = project.objects["Account"]
    assert (account.custom, list(account.fields)) == (False, ["Tier__c"])
    merged = load_schema(project_dir).objects["Account"]
    assert merged.key_prefix == "001"
    assert "Name" in merged.fields
    assert "Tier__c" in merged.fields


def test_project_wins_over_the_base_on_conflicts() -> None:
    base = standard_objects()
    longer = FieldDef(name="Name", label="Raison sociale", type="Text", length=200, custom=False)
    project = Schema(
        objects={"account": ObjectDef("account", "Account", "Accounts", False, {"Name": longer})}
    )
    merged = merge_project(base, project)
    assert merged.objects["Account"].fields["Name"].label == "Raison sociale"
    assert merged.objects["Account"].fields["Id"].type == "Id"


def test_permission_sets_are_read(project_dir: Path) -> None:
    ops = load_sfdx_project(project_dir).permission_sets["Ops"]
    assert ops.label == "Ops"
    assert ops.object_permissions["Site__c"] == {"create", "read", "edit", "viewAll"}
    assert ops.field_permissions == {"Site__c.Code__c": (True, False)}


def test_project_api_version_is_kept(project_dir: Path) -> None:
    assert load_schema(project_dir).api_version == "59.0"


def test_schema_is_cached_per_folder(project_dir: Path) -> None:
    first = load_schema(project_dir)
    assert load_schema(project_dir / ".." / project_dir.name) is first
    clear_schema_cache()
    assert load_schema(project_dir) is not first


def test_default_folder_is_the_shipped_project() -> None:
    assert load_schema() is load_schema(shipped_dir("salesforce"))
    assert load_schema().object("Payment_Tranche__c") is not None


# -- malformed input ---------------------------------------------------------------------


def _error(tmp_path: Path, files: dict[str, str]) -> ConfigurationError:
    write_project(tmp_path, files)
    with pytest.raises(ConfigurationError) as caught:
        load_schema(tmp_path)
    return caught.value


@pytest.mark.parametrize(
    ("content", "key", "message"),
    [
        ("<CustomField", None, "not well-formed XML"),
        (field("Bad__c", "<length>20</length>"), "type", "missing"),
        (field("Bad__c", "<type>Geolocation</type>"), "type", "unsupported field type"),
        (
            field("Bad__c", "<length>lots</length><type>Text</type>"),
            "length",
            "expected an integer",
        ),
        (field("Bad__c", "<type>Text</type>"), "length", "missing"),
        (field("Other__c", "<length>5</length><type>Text</type>"), "fullName", "does not match"),
        (field("Bad__c", "<type>Picklist</type>"), "valueSet", "needs a valueSet"),
        (
            field(
                "Bad__c", "<type>Picklist</type><valueSet><valueSetName>G</valueSetName></valueSet>"
            ),
            "valueSetName",
            "global value sets",
        ),
        (field("Bad__c", "<type>Lookup</type>"), "referenceTo", "missing"),
        (
            field("Bad__c", "<defaultValue>yes</defaultValue><type>Checkbox</type>"),
            "defaultValue",
            "expected true or false",
        ),
        (
            '<CustomField xmlns="urn:other"><fullName>Bad__c</fullName></CustomField>',
            "CustomField",
            "root",
        ),
    ],
)
def test_malformed_field_files_name_the_file_and_element(
    tmp_path: Path, content: str, key: str | None, message: str
) -> None:
    error = _error(
        tmp_path,
        {
            "objects/Site__c/Site__c.object-meta.xml": obj("Chantier"),
            "objects/Site__c/fields/Bad__c.field-meta.xml": content,
        },
    )
    assert error.source is not None
    assert error.source.endswith("Site__c/fields/Bad__c.field-meta.xml")
    assert error.key == key
    assert message in str(error)
    assert "Bad__c.field-meta.xml" in str(error)


def test_malformed_object_file_is_named(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        {
            "objects/Site__c/Site__c.object-meta.xml": (
                f"{HEAD}<CustomObject {NS}><label>X</label></CustomObject>"
            )
        },
    )
    assert error.source
    assert error.source.endswith("Site__c.object-meta.xml")
    assert error.key == "nameField"


def test_custom_fields_without_their_object_file(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        {"objects/Site__c/fields/A__c.field-meta.xml": field("A__c", "<type>Date</type>")},
    )
    assert "Site__c has fields but no Site__c.object-meta.xml" in str(error)


def test_fields_on_a_standard_object_the_base_lacks(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        {"objects/Lead/fields/A__c.field-meta.xml": field("A__c", "<type>Date</type>")},
    )
    assert error.key == "Lead"
    assert "standard.py" in str(error)


def test_missing_or_broken_project_json(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"sfdx-project\.json: not an SFDX project"):
        load_sfdx_project(tmp_path)
    (tmp_path / "sfdx-project.json").write_text('{"packageDirectories": []}')
    with pytest.raises(ConfigurationError, match="packageDirectories"):
        load_sfdx_project(tmp_path)
    (tmp_path / "sfdx-project.json").write_text("{")
    with pytest.raises(ConfigurationError, match="unreadable"):
        load_sfdx_project(tmp_path)
