"""Every deploy rule of the linter, each with a fixture that breaks it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naturhome_sync.sfschema.lint import Problem, lint_sfdx_project

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
PARENT = "objects/Parent__c/Parent__c.object-meta.xml"
CHILD = "objects/Child__c/Child__c.object-meta.xml"
CHILD_FIELDS = "objects/Child__c/fields/"
PERMSET = "permissionsets/Ops.permissionset-meta.xml"


def obj(sharing: str = "ReadWrite", extra: str = "", label: str = "Objet") -> str:
    return (
        f"{HEAD}<CustomObject {NS}>{extra}<deploymentStatus>Deployed</deploymentStatus>"
        f"<label>{label}</label><nameField><label>Nom</label><type>Text</type></nameField>"
        f"<pluralLabel>Objets</pluralLabel><sharingModel>{sharing}</sharingModel></CustomObject>"
    )


def field(name: str, body: str, label: str = "Libellé") -> str:
    inner = f"<fullName>{name}</fullName><label>{label}</label>{body}"
    return f"{HEAD}<CustomField {NS}>{inner}</CustomField>"


def master(
    name: str = "Parent__c", target: str = "Parent__c", rel: str = "Children", extra: str = ""
) -> str:
    return field(
        name,
        f"{extra}<referenceTo>{target}</referenceTo><relationshipName>{rel}</relationshipName>"
        "<relationshipOrder>0</relationshipOrder><type>MasterDetail</type>",
    )


def lookup(name: str, target: str, rel: str) -> str:
    return field(
        name,
        "<deleteConstraint>SetNull</deleteConstraint>"
        f"<referenceTo>{target}</referenceTo><relationshipName>{rel}</relationshipName><type>Lookup</type>",
    )


def grant(*fields: str, editable: str = "true") -> str:
    entries = "".join(
        f"<fieldPermissions><editable>{editable}</editable><field>{f}</field>"
        "<readable>true</readable></fieldPermissions>"
        for f in fields
    )
    return f"{HEAD}<PermissionSet {NS}>{entries}<label>Ops</label></PermissionSet>"


PICKLIST = (
    "<type>Picklist</type><valueSet><restricted>true</restricted><valueSetDefinition>"
    "<sorted>false</sorted><value><fullName>A</fullName><default>false</default><label>A</label>"
    "</value></valueSetDefinition></valueSet>"
)

BASELINE: dict[str, str] = {
    PARENT: obj(),
    CHILD: obj("ControlledByParent"),
    CHILD_FIELDS + "Parent__c.field-meta.xml": master(),
    CHILD_FIELDS + "Note__c.field-meta.xml": field(
        "Note__c", "<length>80</length><type>Text</type>"
    ),
    CHILD_FIELDS + "Done__c.field-meta.xml": field(
        "Done__c", "<defaultValue>false</defaultValue><type>Checkbox</type>"
    ),
    CHILD_FIELDS + "Kind__c.field-meta.xml": field("Kind__c", PICKLIST),
    "objects/Account/fields/Code__c.field-meta.xml": field(
        "Code__c",
        "<caseSensitive>false</caseSensitive><externalId>true</externalId><length>80</length>"
        "<type>Text</type><unique>true</unique>",
    ),
    PERMSET: grant("Child__c.Note__c", "Child__c.Done__c", "Account.Code__c"),
}


def write(root: Path, files: dict[str, str | None], project_json: str | None = None) -> Path:
    (root / "sfdx-project.json").write_text(
        project_json
        if project_json is not None
        else json.dumps({"packageDirectories": [{"path": "force-app"}], "sourceApiVersion": "59.0"})
    )
    for rel, content in {**BASELINE, **files}.items():
        path = root / "force-app/main/default" / rel
        if content is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def problems(tmp_path: Path, files: dict[str, str | None]) -> list[Problem]:
    return lint_sfdx_project(write(tmp_path, files))


def test_baseline_is_clean(tmp_path: Path) -> None:
    assert problems(tmp_path, {}) == []


def F(name: str) -> str:
    return CHILD_FIELDS + f"{name}.field-meta.xml"


RULES = [
    pytest.param(
        {
            F("Note__c"): HEAD
            + "<!-- generated -->\n"
            + field("Note__c", "<length>80</length><type>Text</type>")[len(HEAD) :]
        },
        F("Note__c"),
        "",
        "XML comment before the root element",
        id="comment-before-root",
    ),
    pytest.param(
        {PARENT: obj(extra="<fullName>Parent__c</fullName>")},
        PARENT,
        "fullName",
        "no root fullName",
        id="object-root-fullName",
    ),
    pytest.param(
        {F("Note__c"): field("Notes__c", "<length>80</length><type>Text</type>")},
        F("Note__c"),
        "fullName",
        "does not match the file name",
        id="field-fullName-mismatch",
    ),
    pytest.param(
        {
            F("Note__c"): field("Note__c", "<length>80</length><type>Text</type>").replace(
                "<fullName>Note__c</fullName>", ""
            )
        },
        F("Note__c"),
        "fullName",
        "must carry their fullName",
        id="field-fullName-missing",
    ),
    pytest.param(
        {CHILD: obj("ReadWrite")},
        CHILD,
        "sharingModel",
        "must use ControlledByParent",
        id="master-detail-sharing",
    ),
    pytest.param(
        {F("Done__c"): field("Done__c", "<type>Checkbox</type>")},
        F("Done__c"),
        "defaultValue",
        "a Checkbox needs defaultValue",
        id="checkbox-default",
    ),
    pytest.param(
        {
            F("Done__c"): field(
                "Done__c",
                "<defaultValue>false</defaultValue><required>true</required><type>Checkbox</type>",
            )
        },
        F("Done__c"),
        "required",
        "a Checkbox cannot be required",
        id="checkbox-required",
    ),
    pytest.param(
        {F("Note__c"): field("Note__c", "<length>256</length><type>Text</type>")},
        F("Note__c"),
        "length",
        "between 1 and 255",
        id="text-too-long",
    ),
    pytest.param(
        {F("Note__c"): field("Note__c", "<type>Text</type>")},
        F("Note__c"),
        "length",
        "between 1 and 255",
        id="text-without-length",
    ),
    pytest.param(
        {F("Note__c"): field("Note__c", "<length>32768</length><type>LongTextArea</type>")},
        F("Note__c"),
        "visibleLines",
        "needs visibleLines",
        id="long-text-lines",
    ),
    pytest.param(
        {F("Note__c"): field("Note__c", "<type>LongTextArea</type><visibleLines>3</visibleLines>")},
        F("Note__c"),
        "length",
        "between 256 and 131072",
        id="long-text-length",
    ),
    pytest.param(
        {F("Note__c"): field("Note__c", "<length>255</length><type>TextArea</type>")},
        F("Note__c"),
        "length",
        "TextArea takes no length",
        id="textarea-length",
    ),
    pytest.param(
        {
            F("Note__c"): field(
                "Note__c", "<precision>19</precision><scale>2</scale><type>Currency</type>"
            )
        },
        F("Note__c"),
        "precision",
        "between 1 and 18",
        id="precision-too-big",
    ),
    pytest.param(
        {
            F("Note__c"): field(
                "Note__c", "<precision>4</precision><scale>5</scale><type>Number</type>"
            )
        },
        F("Note__c"),
        "scale",
        "between 0 and the precision",
        id="scale-over-precision",
    ),
    pytest.param(
        {F("Note__c"): field("Note__c", "<precision>5</precision><type>Percent</type>")},
        F("Note__c"),
        "scale",
        "between 0 and the precision",
        id="scale-missing",
    ),
    pytest.param(
        {F("Kind__c"): field("Kind__c", "<type>Picklist</type>")},
        F("Kind__c"),
        "valueSet",
        "needs a valueSet",
        id="picklist-without-values",
    ),
    pytest.param(
        {F("Kind__c"): field("Kind__c", PICKLIST.replace("Picklist", "MultiselectPicklist"))},
        F("Kind__c"),
        "visibleLines",
        "needs visibleLines",
        id="multiselect-lines",
    ),
    pytest.param(
        {F("Parent__c"): master(extra="<required>true</required>")},
        F("Parent__c"),
        "required",
        "must not carry required",
        id="master-detail-required",
    ),
    pytest.param(
        {F("Parent__c"): master(extra="<deleteConstraint>SetNull</deleteConstraint>")},
        F("Parent__c"),
        "deleteConstraint",
        "must not carry deleteConstraint",
        id="md-delete-constraint",
    ),
    pytest.param(
        {F("Parent__c"): master(extra="<lookupFilter><active>true</active></lookupFilter>")},
        F("Parent__c"),
        "lookupFilter",
        "must not carry lookupFilter",
        id="md-lookup-filter",
    ),
    pytest.param(
        {
            "objects/Other__c/Other__c.object-meta.xml": obj(),
            "objects/Third__c/Third__c.object-meta.xml": obj(),
            F("Other__c"): master("Other__c", "Other__c", "Children"),
            F("Third__c"): master("Third__c", "Third__c", "Children"),
        },
        F("Third__c"),
        "type",
        "more than 2 master-detail",
        id="three-master-details",
    ),
    pytest.param(
        {
            F("Kind__c"): field(
                "Kind__c", PICKLIST.replace("<type>", "<externalId>true</externalId><type>")
            )
        },
        F("Kind__c"),
        "externalId",
        "only allowed on Text, Number, Email",
        id="external-id-type",
    ),
    pytest.param(
        {
            F("Buddy__c"): lookup("Buddy__c", "Parent__c", "Children"),
        },
        F("Parent__c"),
        "relationshipName",
        "already a child relationship of Parent__c",
        id="duplicate-relationship",
    ),
    pytest.param(
        {F("Buddy__c"): lookup("Buddy__c", "Nowhere__c", "Buddies")},
        F("Buddy__c"),
        "referenceTo",
        "neither in the project nor a known standard object",
        id="unknown-target",
    ),
    pytest.param(
        {F("Buddy__c"): lookup("Buddy__c", "Account", "Bad__Name")},
        F("Buddy__c"),
        "relationshipName",
        "not a valid relationship name",
        id="bad-relationship-name",
    ),
    pytest.param(
        {
            "objects/Account/fields/Boss__c.field-meta.xml": master(
                "Boss__c", "Parent__c", "Accounts"
            )
        },
        "objects/Account/fields/Boss__c.field-meta.xml",
        "type",
        "standard objects cannot be the detail",
        id="standard-detail",
    ),
    pytest.param(
        {PERMSET: grant("Child__c.Parent__c")},
        PERMSET,
        "fieldPermissions[Child__c.Parent__c]",
        "master-detail fields must be left out",
        id="permset-master-detail",
    ),
    pytest.param(
        {
            F("Note__c"): field(
                "Note__c", "<length>80</length><required>true</required><type>Text</type>"
            ),
            PERMSET: grant("Child__c.Note__c"),
        },
        PERMSET,
        "fieldPermissions[Child__c.Note__c]",
        "required fields must be left out",
        id="permset-required",
    ),
    pytest.param(
        {PERMSET: grant("Account.Name")},
        PERMSET,
        "fieldPermissions[Account.Name]",
        "required fields must be left out",
        id="permset-standard-required",
    ),
    pytest.param(
        {PERMSET: grant("Child__c.Ghost__c")},
        PERMSET,
        "fieldPermissions[Child__c.Ghost__c]",
        "does not exist",
        id="permset-unknown-field",
    ),
    pytest.param(
        {
            F("Twice__c"): field(
                "Twice__c",
                "<formula>1</formula><precision>3</precision><scale>0</scale><type>Number</type>",
            ),
            PERMSET: grant("Child__c.Twice__c"),
        },
        PERMSET,
        "fieldPermissions[Child__c.Twice__c]",
        "cannot be editable",
        id="permset-editable-formula",
    ),
    pytest.param(
        {F("Note__c"): field("Note__c", "<length>80</length><type>Text</type>", label="x" * 41)},
        F("Note__c"),
        "label",
        "longer than 40",
        id="label-too-long",
    ),
    pytest.param(
        {F("Bad__Name__c"): field("Bad__Name__c", "<type>Date</type>")},
        F("Bad__Name__c"),
        "fullName",
        "not a valid custom field name",
        id="bad-field-name",
    ),
    pytest.param(
        {F("Note__c"): field("Note__c", "<length>80</length><type>Txt</type>")},
        F("Note__c"),
        "type",
        "unknown field type Txt",
        id="unknown-type",
    ),
    pytest.param(
        {F("Note__c"): field("Note__c", "<length>80</length><type>Text</type")},
        F("Note__c"),
        "",
        "not well-formed XML",
        id="malformed-xml",
    ),
    pytest.param(
        {"objects/Lone__c/fields/A__c.field-meta.xml": field("A__c", "<type>Date</type>")},
        "objects/Lone__c/fields/A__c.field-meta.xml",
        "",
        "has no object file",
        id="field-without-object",
    ),
    pytest.param(
        {
            CHILD: obj("ControlledByParent").replace(
                "<nameField><label>Nom</label><type>Text</type></nameField>",
                "<nameField><label>N</label><type>AutoNumber</type></nameField>",
            )
        },
        CHILD,
        "nameField/displayFormat",
        "needs a displayFormat",
        id="autonumber-name-format",
    ),
]


@pytest.mark.parametrize(("files", "file", "element", "message"), RULES)
def test_rule_is_caught(
    tmp_path: Path, files: dict[str, str | None], file: str, element: str, message: str
) -> None:
    found = problems(tmp_path, files)
    expected_file = f"force-app/main/default/{file}"
    matching = [p for p in found if p.file == expected_file and p.element == element]
    assert matching, f"no problem on {expected_file} [{element}] in {found}"
    assert any(message in p.message for p in matching), matching


def test_problem_reads_as_one_line() -> None:
    problem = Problem("a/b.field-meta.xml", "length", "Text needs a length between 1 and 255")
    assert str(problem) == "a/b.field-meta.xml: length: Text needs a length between 1 and 255"


def test_missing_project_json_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    found = lint_sfdx_project(tmp_path)
    assert len(found) == 1
    assert found[0].file == "sfdx-project.json"
    assert "not an SFDX project" in found[0].message


def test_missing_api_version_is_reported(tmp_path: Path) -> None:
    found = lint_sfdx_project(
        write(tmp_path, {}, json.dumps({"packageDirectories": [{"path": "force-app"}]}))
    )
    assert [(p.file, p.element) for p in found] == [("sfdx-project.json", "sourceApiVersion")]


def test_linter_keeps_going_after_the_first_problem(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            F("Note__c"): field("Note__c", "<type>Text</type>"),
            F("Done__c"): field("Done__c", "<type>Checkbox</type>"),
            CHILD: obj("ReadWrite"),
        },
    )
    assert {p.element for p in found} >= {"length", "defaultValue", "sharingModel"}
