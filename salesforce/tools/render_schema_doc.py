"""Render docs/salesforce-schema.md from the SFDX project.

The reference table is generated so it cannot drift from the files that are deployed:

    python salesforce/tools/render_schema_doc.py          # rewrite docs/salesforce-schema.md
    python salesforce/tools/render_schema_doc.py --check  # exit 1 when the file is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from naturhome_sync.sfschema import load_sfdx_project
from naturhome_sync.sfschema.model import FieldDef, ObjectDef, PicklistValue, Schema

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = PROJECT_DIR.parent / "docs" / "salesforce-schema.md"

INTRO = """\
# Salesforce schema reference

Generated from `salesforce/` by `salesforce/tools/render_schema_doc.py`; do not edit by hand.
The API names are a contract (see `DATA_MODEL.md`): flows, mappings and users rely on them.
Labels are French, as users see them; notes give the English description of each field.

Conventions: money is `Currency(16,2)`, percents `Percent(5,2)`; external ids are unique,
case-insensitive Text (upsert keys, so replays change nothing); lookups clear themselves when
their parent is deleted (`SetNull`); master-detail children share their parent's access
(`ControlledByParent`) and are reparentable so that idempotent upserts may resend the parent.
The integration user gets everything through the `Naturhome_Integration` permission set
(master-detail fields are left out: access to them follows the parent).
"""


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(field: FieldDef) -> str:
    if field.type in ("Number", "Currency", "Percent"):
        return f"{field.type}({field.precision},{field.scale})"
    if field.type in ("Text", "LongTextArea", "Html"):
        return f"{field.type}({field.length})"
    if field.is_reference:
        return f"{field.type} → {', '.join(field.reference_to)}"
    return field.type


def _values(values: tuple[PicklistValue, ...]) -> str:
    return ", ".join(f"`{v.value}` ({v.label})" for v in values)


def _notes(field: FieldDef) -> str:
    notes: list[str] = []
    if field.external_id:
        notes.append("**external id**" + (", unique" if field.unique else ", not unique"))
    if field.picklist_values:
        restricted = "restricted" if field.restricted else "open"
        notes.append(f"{restricted}: {_values(field.picklist_values)}")
    if field.default_value is not None and field.type != "Checkbox":
        notes.append(f"default `{field.default_value}`")
    if field.is_reference:
        detail = f"children: `{field.child_relationship_name}`"
        if field.is_master_detail:
            detail += ", required, cascade delete"
        elif field.delete_constraint:
            detail += f", on delete: {field.delete_constraint}"
        notes.append(detail)
    if field.description:
        notes.append(field.description)
    return _escape("; ".join(notes))


def _field_rows(obj: ObjectDef) -> list[str]:
    rows = ["| API name | Libellé | Type | Notes |", "|---|---|---|---|"]
    for field in sorted((f for f in obj.fields.values() if f.custom), key=lambda f: f.name):
        rows.append(
            f"| `{field.name}` | {_escape(field.label)} | {_type(field)} | {_notes(field)} |"
        )
    return rows


def _object_section(obj: ObjectDef) -> list[str]:
    if not obj.custom:
        return [f"### {obj.name} (standard)", "", *_field_rows(obj), ""]
    name = obj.fields["Name"]
    naming = (
        f"auto-number `{obj.name_display_format}`"
        if obj.name_field_type == "AutoNumber"
        else "text, required on create"
    )
    facts = [
        f"Name field « {name.label} »: {naming}",
        f"sharing: {obj.sharing_model}",
        "tasks can relate to it" if obj.enable_activities else "no activities",
    ]
    return [
        f"### {obj.name} — {obj.label} ({obj.plural_label})",
        "",
        _escape(obj.description or ""),
        "",
        "; ".join(facts) + ".",
        "",
        *_field_rows(obj),
        "",
    ]


def render(project: Schema) -> str:
    lines = [INTRO, "## Standard objects (custom fields added)", ""]
    standard = sorted((o for o in project.objects.values() if not o.custom), key=lambda o: o.name)
    for obj in standard:
        lines += _object_section(obj)
    lines += ["## Standard value sets", ""]
    for set_name, values in sorted(project.standard_value_sets.items()):
        flags = [
            f"`{v.value}` ({v.label}{', closed' if v.closed else ''}{', won' if v.won else ''})"
            for v in values
        ]
        lines += [f"- **{set_name}**: {', '.join(flags)}"]
    lines += ["", "## Custom objects", ""]
    custom = sorted((o for o in project.objects.values() if o.custom), key=lambda o: o.name)
    for obj in custom:
        lines += _object_section(obj)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if not a.startswith("--")]
    output = Path(paths[0]) if paths else DEFAULT_OUTPUT
    text = render(load_sfdx_project(PROJECT_DIR))
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            print(f"{output} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
