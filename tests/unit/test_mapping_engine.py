"""The mapping engine: load-time checks against the schema, apply, merge, Salesforce JSON."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.salesforce_values import encode_record as salesforce_record
from connectors.salesforce_values import encode_value as to_salesforce_json
from naturhome_sync.errors import ConfigurationError, PermanentDataError
from naturhome_sync.mapping import (
    MappingSpec,
    apply_mapping,
    changed_fields,
    check_mappings,
    load_mapping,
    load_mappings,
    merge_existing,
    values_equal,
)
from naturhome_sync.sfschema import Schema, load_schema

SUBMITTED_AT = 1767223800000  # 2026-01-01 00:30 in Brussels

# A small but complete mapping: every engine feature, on the shipped schema.
BASE = """
version: 1
source_fields: [firstname, lastname, email, phone, country, site_city, city, project_type,
                budget, area, start, language, message, conversion_id, submitted_at]
source_fallbacks:
  - when_blank: [site_city]
    use: {site_city: city}
    note: ville du chantier reprise du domicile
objects:
  Contact:
    fields:
      FirstName: {from: firstname, transforms: [collapse_spaces, title]}
      LastName: {from: lastname, transforms: [collapse_spaces, title], required: true}
      Email: {from: email, transforms: [email], required: true}
      Phone:
        from: phone
        transforms: [{phone_e164: {default_region_from: country, default_region: BE}}]
        on_existing: source_wins
      LeadSource: {value: HubSpot, on_existing: salesforce_wins}
  Account:
    fields:
      Name: {template: "{Contact.LastName} {Contact.FirstName}", required: true}
      Preferred_Language__c: {from: language, if_blank: fr}
  Opportunity:
    fields:
      Name:
        template: "{Contact.LastName} / {Opportunity.Site_City__c} / {project_type|upper}"
      StageName: {value: Quote Requested}
      CloseDate:
        transforms: [{default_date_offset: {from: submitted_at, days: 90}}]
      HubSpot_Submission_Id__c: {from: conversion_id, required: true}
      Site_City__c: {from: site_city, transforms: [title]}
      Project_Type__c:
        from: project_type
        values: {Nouvelle construction: New build, Nieuwbouw: New build, Anbau: Extension}
        default: New build
      Budget__c: {from: budget, transforms: [money]}
      Living_Area_m2__c: {from: area, transforms: [number]}
      Desired_Start__c: {from: [start, submitted_at], transforms: [date]}
      Description: {from: message, transforms: [trim, truncate_to_field]}
"""


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def write(folder: Path, content: str, name: str = "mapping.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


@pytest.fixture
def spec(tmp_path: Path, schema: Schema) -> MappingSpec:
    return load_mapping(write(tmp_path, BASE), schema)


def submission(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "firstname": "jean",
        "lastname": "DUPONT",
        "email": "Jean.Dupont@Gmail.com",
        "phone": "0475 12 34 56",
        "country": "Belgique",
        "site_city": "gouvy",
        "city": "Bastogne",
        "project_type": "Nouvelle construction",
        "budget": "450.000,00 €",
        "area": "180,5 m²",
        "start": "03/2027",
        "language": "",
        "message": "  Bonjour,\r\nune maison en bois.  ",
        "conversion_id": "conv-1",
        "submitted_at": SUBMITTED_AT,
    }
    values.update(overrides)
    return values


# --- loading: one failing fixture per rule ---------------------------------------------------


def patched(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


BROKEN: list[tuple[str, str, str | None, str]] = [
    # (id, file content, expected key, expected message part)
    ("yaml syntax", "version: 1\nobjects: [Account,\n", None, "invalid YAML at line 3"),
    (
        "duplicate key",
        patched(
            "      StageName: {value: Quote Requested}\n",
            "      StageName: {value: Quote Requested}\n      StageName: {value: Quote Sent}\n",
        ),
        None,
        "the key 'StageName' appears twice",
    ),
    ("not a mapping", "- a\n- b\n", "", "expected a YAML mapping"),
    ("version", patched("version: 1", "version: 2"), "version", "expected version: 1"),
    (
        "missing source fields",
        "version: 1\nobjects: {Account: {fields: {Name: {value: x}}}}\n",
        "source_fields",
        "expected the list of field names",
    ),
    (
        "missing objects",
        "version: 1\nsource_fields: [a]\n",
        "objects",
        "expected at least one Salesforce object",
    ),
    ("unknown top key", patched("version: 1", "version: 1\nobject: {}"), "object", "unknown key"),
    (
        "unknown object",
        patched("  Account:\n", "  Acount:\n"),
        "objects.Acount",
        "unknown Salesforce object 'Acount'",
    ),
    (
        "unknown field",
        patched("Budget__c: {from", "Budget: {from"),
        "objects.Opportunity.fields.Budget",
        "Opportunity has no field 'Budget'",
    ),
    (
        "field not writable",
        patched("      StageName:", "      IsWon: {value: x}\n      StageName:"),
        "objects.Opportunity.fields.IsWon",
        "Opportunity.IsWon is not writable",
    ),
    (
        "unknown transform",
        patched("transforms: [money]", "transforms: [euros]"),
        "objects.Opportunity.fields.Budget__c.transforms[0]",
        "unknown transform 'euros'",
    ),
    (
        "money into text",
        patched("[collapse_spaces, title], required", "[money], required"),
        "objects.Contact.fields.LastName.transforms[0]",
        "money cannot write into LastName, a Text field",
    ),
    (
        "phone into currency",
        patched("transforms: [money]", "transforms: [phone_e164]"),
        "objects.Opportunity.fields.Budget__c.transforms[0]",
        "phone_e164 cannot write into Budget__c, a Currency field",
    ),
    (
        "currency without a number transform",
        patched("{from: budget, transforms: [money]}", "{from: budget}"),
        "objects.Opportunity.fields.Budget__c",
        "Budget__c is a Currency field but the rule produces a text: add a money, number or "
        "integer transform",
    ),
    (
        "date transform reads a number",
        patched("transforms: [date]", "transforms: [money, date]"),
        "objects.Opportunity.fields.Desired_Start__c.transforms[0]",
        "money cannot write into",
    ),
    (
        "transform reads the wrong kind of value",
        patched("transforms: [date]", "transforms: [default_date_offset: {from: start, days: 1}]"),
        "objects.Opportunity.fields.Desired_Start__c.transforms[0]",
        "default_date_offset reads a date, not a text",
    ),
    (
        "constant not in restricted picklist",
        patched("{value: Quote Requested}", "{value: Devis demandé}"),
        "objects.Opportunity.fields.StageName.value",
        "'Devis demandé' is not allowed by the restricted picklist StageName",
    ),
    (
        "value-table result not in picklist",
        patched("Nouvelle construction: New build", "Nouvelle construction: Maison neuve"),
        "objects.Opportunity.fields.Project_Type__c.values.Nouvelle construction",
        "'Maison neuve' is not allowed by the restricted picklist Project_Type__c",
    ),
    (
        "default not in picklist",
        patched("default: New build", "default: Autre"),
        "objects.Opportunity.fields.Project_Type__c.default",
        "'Autre' is not allowed",
    ),
    (
        "value-table entries that fold together",
        patched("Anbau: Extension}", "Anbau: Extension, NIEUWBOUW: Renovation}"),
        "objects.Opportunity.fields.Project_Type__c.values.NIEUWBOUW",
        "reads the same as another entry",
    ),
    (
        "value table on a currency",
        patched("transforms: [money]}", "transforms: [money], values: {a: b}}"),
        "objects.Opportunity.fields.Budget__c.values",
        "a value table needs a Picklist or Text field",
    ),
    (
        "unknown source field",
        patched("{from: budget,", "{from: budjet,"),
        "objects.Opportunity.fields.Budget__c.from",
        "unknown source field 'budjet'",
    ),
    (
        "unknown source field in a list",
        patched("[start, submitted_at]", "[start, sent_at]"),
        "objects.Opportunity.fields.Desired_Start__c.from[1]",
        "unknown source field 'sent_at'",
    ),
    (
        "unknown source in template",
        patched("{project_type|upper}", "{projet|upper}"),
        "objects.Opportunity.fields.Name.template",
        "unknown source field 'projet'",
    ),
    (
        "unknown template filter",
        patched("{project_type|upper}", "{project_type|money}"),
        "objects.Opportunity.fields.Name.template",
        "unknown template filter 'money'",
    ),
    (
        "broken template",
        patched("{project_type|upper}", "{project_type"),
        "objects.Opportunity.fields.Name.template",
        "invalid template: unmatched '{'",
    ),
    (
        "template refers to an unmapped field",
        patched("{Opportunity.Site_City__c}", "{Opportunity.City__c}"),
        "objects.Opportunity.fields.Name.template",
        "Opportunity.City__c has no rule in this mapping",
    ),
    (
        "templates in a loop",
        patched(
            '{template: "{Contact.LastName} {Contact.FirstName}"', '{template: "{Opportunity.Name}"'
        ).replace("{Contact.LastName} / {Opportunity", "{Account.Name} / {Opportunity"),
        "objects.Account.fields.Name.template",
        "templates refer to each other in a loop",
    ),
    (
        "unknown transform parameter",
        patched("default_region: BE", "region: BE"),
        "objects.Contact.fields.Phone.transforms[0].phone_e164.region",
        "phone_e164 has no parameter 'region'",
    ),
    (
        "bad transform parameter",
        patched("default_region: BE", "default_region: Belgique"),
        "objects.Contact.fields.Phone.transforms[0].phone_e164.default_region",
        "expected a two-letter upper-case ISO country code",
    ),
    (
        "parameter names an unknown source",
        patched("default_region_from: country", "default_region_from: pays"),
        "objects.Contact.fields.Phone.transforms[0].phone_e164.default_region_from",
        "unknown source field 'pays'",
    ),
    (
        "missing transform parameter",
        patched("{from: submitted_at, days: 90}", "{from: submitted_at}"),
        "objects.Opportunity.fields.CloseDate.transforms[0].default_date_offset",
        "needs the parameter 'days'",
    ),
    (
        "field required by Salesforce not mapped",
        patched(
            "      CloseDate:\n"
            "        transforms: [{default_date_offset: {from: submitted_at, days: 90}}]\n",
            "",
        ),
        "objects.Opportunity.fields",
        "CloseDate is required by Salesforce to create a Opportunity",
    ),
    (
        "rule without a source",
        patched("Budget__c: {from: budget, transforms: [money]}", "Budget__c: {required: true}"),
        "objects.Opportunity.fields.Budget__c",
        "needs from:, value: or template:",
    ),
    (
        "two sources",
        patched("{value: Quote Requested}", "{value: Quote Requested, from: budget}"),
        "objects.Opportunity.fields.StageName",
        "give only one of from:, value:, template:",
    ),
    (
        "constant with transforms",
        patched("{value: Quote Requested}", "{value: Quote Requested, transforms: [trim]}"),
        "objects.Opportunity.fields.StageName",
        "a constant value: is written as it is",
    ),
    (
        "misspelt rule key",
        patched("transforms: [money]", "tranforms: [money]"),
        "objects.Opportunity.fields.Budget__c.tranforms",
        "unknown key",
    ),
    (
        "bad on_existing",
        patched("on_existing: source_wins", "on_existing: hubspot_wins"),
        "objects.Contact.fields.Phone.on_existing",
        "expected one of salesforce_wins_unless_blank",
    ),
    (
        "required not a boolean",
        patched("required: true}\n      Email", "required: yes}\n      Email"),
        "objects.Contact.fields.LastName.required",
        "expected true or false",
    ),
    (
        "field mapped twice",
        patched("      LeadSource:", "      leadsource: {value: Web}\n      LeadSource:"),
        "objects.Contact.fields.LeadSource",
        "LeadSource has a rule already",
    ),
    (
        "number into a date",
        patched(
            "Desired_Start__c: {from: [start, submitted_at], transforms: [date]}",
            "Desired_Start__c: {value: 12}",
        ),
        "objects.Opportunity.fields.Desired_Start__c.value",
        "12 is not a YYYY-MM-DD date",
    ),
    (
        "fallback names an unknown field",
        patched("use: {site_city: city}", "use: {site_city: ville}"),
        "source_fallbacks[0].use.site_city",
        "unknown source field 'ville'",
    ),
]


@pytest.mark.parametrize(
    ("content", "key", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_load_refuses_with_file_key_and_reason(
    tmp_path: Path, schema: Schema, content: str, key: str | None, message: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigurationError) as caught:
        load_mapping(path, schema)
    error = caught.value
    assert error.source == str(path)
    assert error.key == (key or None)
    assert message in str(error)
    assert str(error).startswith(f"{path}: ")
    assert "\n" not in str(error)


def test_check_mappings_lists_every_problem_of_every_file(tmp_path: Path, schema: Schema) -> None:
    broken = patched("transforms: [money]", "transforms: [euros]").replace(
        "{value: Quote Requested}", "{value: Devis}"
    )
    write(tmp_path, broken, "a.yaml")
    write(tmp_path, patched("  Account:\n", "  Acount:\n"), "b.yaml")
    write(tmp_path, BASE, "c.yaml")
    (tmp_path / "README.md").write_text("not a mapping")
    problems = check_mappings(tmp_path, schema)
    assert [(Path(p.file).name, p.key) for p in problems] == [
        ("a.yaml", "objects.Opportunity.fields.StageName.value"),
        ("a.yaml", "objects.Opportunity.fields.Budget__c.transforms[0]"),
        ("b.yaml", "objects.Acount"),
    ]
    assert (
        str(problems[2])
        == f"{tmp_path / 'b.yaml'}: objects.Acount: unknown Salesforce object 'Acount'"
    )


def test_a_broken_rule_is_not_reported_again_by_templates_using_it(
    tmp_path: Path, schema: Schema
) -> None:
    broken = patched("[collapse_spaces, title], required", "[money], required")
    problems = check_mappings(write(tmp_path, broken).parent, schema)
    assert [p.key for p in problems] == ["objects.Contact.fields.LastName.transforms[0]"]


def test_load_mappings_by_file_stem(tmp_path: Path, schema: Schema) -> None:
    write(tmp_path, BASE, "quote.yaml")
    (tmp_path / "README.md").write_text("# docs")
    specs = load_mappings(tmp_path, schema)
    assert list(specs) == ["quote"]
    assert specs["quote"].object("opportunity") is specs["quote"].objects["Opportunity"]
    assert check_mappings(tmp_path, schema) == []
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_mappings(tmp_path / "missing", schema)
    assert check_mappings(tmp_path / "missing", schema)[0].message.endswith("does not exist")


def test_rules_referenced_by_templates_are_evaluated_first(spec: MappingSpec) -> None:
    order = [rule.qualified_name for rule in spec.evaluation_order]
    assert order.index("Contact.LastName") < order.index("Account.Name")
    assert order.index("Opportunity.Site_City__c") < order.index("Opportunity.Name")
    name = spec.objects["Opportunity"].rule("Name")
    assert name is not None
    assert name.origins == ("lastname", "site_city", "project_type")


# --- apply -----------------------------------------------------------------------------------


def test_apply_maps_types_and_omits_blanks(spec: MappingSpec) -> None:
    mapped = apply_mapping(spec, submission(firstname="  ", phone=""))
    assert mapped.records["Contact"] == {
        "LastName": "Dupont",
        "Email": "jean.dupont@gmail.com",
        "LeadSource": "HubSpot",
    }
    opportunity = mapped.records["Opportunity"]
    assert opportunity["Budget__c"] == Decimal("450000.00")
    assert opportunity["Living_Area_m2__c"] == Decimal("180.50")  # Number(8, 2)
    assert opportunity["Desired_Start__c"] == date(2027, 3, 1)
    assert opportunity["CloseDate"] == date(2026, 4, 1)
    assert opportunity["Description"] == "Bonjour,\nune maison en bois."
    assert opportunity["Name"] == "Dupont / Gouvy / NOUVELLE CONSTRUCTION"
    assert mapped.records["Account"] == {"Name": "Dupont", "Preferred_Language__c": "fr"}
    assert mapped.warnings == []
    assert apply_mapping(spec, submission(firstname="  ", phone="")) == mapped


def test_first_non_blank_source_wins(spec: MappingSpec) -> None:
    mapped = apply_mapping(spec, submission(start=" "))
    # the submission date itself (epoch ms, read in UTC) stands in for a missing start
    assert mapped.records["Opportunity"]["Desired_Start__c"] == date(2025, 12, 31)


def test_template_drops_blank_parts_with_their_separator(spec: MappingSpec) -> None:
    mapped = apply_mapping(spec, submission(site_city="", city="", project_type=""))
    assert mapped.records["Opportunity"]["Name"] == "Dupont"
    mapped = apply_mapping(spec, submission(site_city="", city=""))
    assert mapped.records["Opportunity"]["Name"] == "Dupont / NOUVELLE CONSTRUCTION"


def test_value_table_is_case_and_accent_insensitive(spec: MappingSpec) -> None:
    for typed, expected in [
        ("NOUVELLE   CONSTRUCTION", "New build"),
        ("nieuwbouw", "New build"),
        ("anbau", "Extension"),
        ("Rénovation", "Renovation"),  # French label of the picklist value
        ("renovation", "Renovation"),  # the API value itself
        ("Construction neuve", "New build"),
    ]:
        mapped = apply_mapping(spec, submission(project_type=typed))
        assert mapped.records["Opportunity"]["Project_Type__c"] == expected, typed
        assert mapped.warnings == []


def test_unknown_value_takes_the_default_with_a_warning(spec: MappingSpec) -> None:
    mapped = apply_mapping(spec, submission(project_type="Chalet"))
    assert mapped.records["Opportunity"]["Project_Type__c"] == "New build"
    [warning] = mapped.warnings
    assert (warning.object, warning.field, warning.source_field) == (
        "Opportunity",
        "Project_Type__c",
        "project_type",
    )
    assert warning.message == "valeur inconnue « Chalet » remplacée par « Construction neuve »"
    assert warning.line() == (
        "Type de projet (project_type) : valeur inconnue « Chalet » remplacée par "
        "« Construction neuve »"
    )


def test_restricted_picklist_without_table_matches_or_warns(spec: MappingSpec) -> None:
    assert (
        apply_mapping(spec, submission(language="DE")).records["Account"]["Preferred_Language__c"]
        == "de"
    )
    mapped = apply_mapping(spec, submission(language="lb"))
    # unknown and no default: the warning, then if_blank fills the field
    assert mapped.records["Account"]["Preferred_Language__c"] == "fr"
    assert [w.message for w in mapped.warnings] == ["valeur inconnue « lb » ignorée"]


def test_rejected_values_become_warnings_and_blanks(spec: MappingSpec) -> None:
    mapped = apply_mapping(
        spec, submission(budget="250-300k", phone="12", start="printemps", area="grande")
    )
    opportunity = mapped.records["Opportunity"]
    assert "Budget__c" not in opportunity
    assert "Living_Area_m2__c" not in opportunity
    assert "Phone" not in mapped.records["Contact"]
    assert {(w.field, w.source_field, w.message) for w in mapped.warnings} == {
        ("Budget__c", "budget", "montant illisible « 250-300k » : fourchette"),
        ("Phone", "phone", "numéro de téléphone invalide « 12 »"),
        ("Desired_Start__c", "start", "date illisible « printemps »"),
        ("Living_Area_m2__c", "area", "nombre illisible « grande » : texte inattendu"),
    }


def test_numbers_too_large_for_the_field_are_dropped(spec: MappingSpec) -> None:
    mapped = apply_mapping(spec, submission(area="1.500.000 m²"))  # Number(8, 2): 6 digits
    assert "Living_Area_m2__c" not in mapped.records["Opportunity"]
    assert [w.message for w in mapped.warnings] == ["nombre trop grand « 1500000 » ignoré"]
    mapped = apply_mapping(spec, submission(area="999.999,996"))  # rounds to 1 000 000.00
    assert "Living_Area_m2__c" not in mapped.records["Opportunity"]
    assert [w.message for w in mapped.warnings] == ["nombre trop grand « 999999.996 » ignoré"]
    mapped = apply_mapping(spec, submission(area="999.999,994"))
    assert mapped.records["Opportunity"]["Living_Area_m2__c"] == Decimal("999999.99")


def test_amounts_too_precise_to_reach_salesforce_exactly_are_dropped(spec: MappingSpec) -> None:
    """Budget__c is Currency(16, 2): 99 999 999 999 999,99 fits the field, but its 16
    significant digits do not survive the JSON double Salesforce reads."""
    mapped = apply_mapping(spec, submission(budget="99 999 999 999 999,99"))
    assert "Budget__c" not in mapped.records["Opportunity"]
    assert [(w.field, w.message) for w in mapped.warnings] == [
        ("Budget__c", "nombre trop précis « 99999999999999.99 » ignoré (15 chiffres au plus)")
    ]
    salesforce_record(mapped.records["Opportunity"])  # the rest travels
    mapped = apply_mapping(spec, submission(budget="9 999 999 999 999,99"))  # 15 digits
    assert mapped.records["Opportunity"]["Budget__c"] == Decimal("9999999999999.99")
    assert mapped.warnings == []
    mapped = apply_mapping(spec, submission(budget="99 999 999 999 999"))  # whole: 14 digits
    assert mapped.records["Opportunity"]["Budget__c"] == Decimal("99999999999999.00")


def test_text_too_long_without_truncate_is_dropped(spec: MappingSpec) -> None:
    mapped = apply_mapping(spec, submission(site_city="x" * 81))  # Site_City__c holds 80
    assert "Site_City__c" not in mapped.records["Opportunity"]
    assert mapped.warnings[0].message == "texte trop long (81 caractères pour 80 au plus) ignoré"
    long_message = "Bonjour " * 5000
    mapped = apply_mapping(spec, submission(message=long_message))
    assert len(mapped.records["Opportunity"]["Description"]) == 32000


def test_source_fallback_applies_only_when_the_group_is_blank(spec: MappingSpec) -> None:
    mapped = apply_mapping(spec, submission(site_city=""))
    assert mapped.records["Opportunity"]["Site_City__c"] == "Bastogne"
    [note] = mapped.warnings
    assert (note.object, note.field, note.source_field) == (None, None, "site_city")
    assert note.line() == "ville du chantier reprise du domicile"
    # nothing to take: no note
    assert apply_mapping(spec, submission(site_city="", city="")).warnings == []


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"lastname": " "}, ["« lastname » pour Contact.LastName"]),
        (
            {"lastname": " ", "firstname": ""},
            ["« lastname » pour Contact.LastName", "« lastname », « firstname » pour Account.Name"],
        ),
        ({"email": "jean@gmail"}, ["« email » pour Contact.Email : adresse e-mail invalide"]),
        ({"conversion_id": None}, ["« conversion_id » pour Opportunity.HubSpot_Submission_Id__c"]),
        ({"submitted_at": ""}, ["« submitted_at » pour Opportunity.CloseDate"]),
    ],
)
def test_required_missing_is_a_permanent_data_error(
    spec: MappingSpec, overrides: dict[str, Any], names: list[str]
) -> None:
    with pytest.raises(PermanentDataError) as caught:
        apply_mapping(spec, submission(**overrides), external_id_field="conversion_id")
    error = caught.value
    assert error.category == "permanent_data"
    assert error.code == "MAPPING_REQUIRED_FIELD"
    assert error.message.startswith("Demande incomplète, champ obligatoire vide ou invalide : ")
    for name in names:
        assert name in error.message
    expected_id = None if overrides.get("conversion_id", "x") is None else "conv-1"
    assert error.external_id == expected_id
    with pytest.raises(PermanentDataError) as without_id:
        apply_mapping(spec, submission(**overrides))
    assert without_id.value.external_id is None


# --- merge with what Salesforce holds ----------------------------------------------------------


def test_merge_for_a_new_record_writes_everything(spec: MappingSpec) -> None:
    mapped = apply_mapping(spec, submission()).records["Contact"]
    assert merge_existing(spec, "Contact", mapped, None) == mapped


def test_merge_follows_each_fields_on_existing_rule(spec: MappingSpec) -> None:
    mapped = {
        "FirstName": "Jean",  # salesforce_wins_unless_blank (default)
        "LastName": "Dupont",  # default
        "Email": "jean.dupont@gmail.com",  # default
        "Phone": "+32475123456",  # source_wins
        "LeadSource": "HubSpot",  # salesforce_wins
    }
    existing = {
        "Id": "003000000000001AAA",
        "FirstName": "Jean-Marie",  # corrected by a rep: kept
        "LastName": "",  # blank: filled
        "Email": None,  # blank: filled
        "Phone": "+32 475 00 00 00",  # source wins
        "LeadSource": "Trade Show",  # Salesforce wins
    }
    assert merge_existing(spec, "Contact", mapped, existing) == {
        "LastName": "Dupont",
        "Email": "jean.dupont@gmail.com",
        "Phone": "+32475123456",
    }
    # salesforce_wins does not even fill a blank field of an existing record
    assert merge_existing(spec, "Contact", {"LeadSource": "HubSpot"}, {"LeadSource": None}) == {}
    # source_wins skips a value that is already there
    assert (
        merge_existing(spec, "contact", {"Phone": "+32475123456"}, {"phone": "+32475123456"}) == {}
    )


def test_merge_fields_without_a_rule_follow_the_default(spec: MappingSpec) -> None:
    assert merge_existing(spec, "Opportunity", {"Score__c": 40}, {"Score__c": 10}) == {}
    assert merge_existing(spec, "Opportunity", {"Score__c": 40}, {"Score__c": None}) == {
        "Score__c": 40
    }
    with pytest.raises(KeyError):
        merge_existing(spec, "Case", {}, None)


@pytest.mark.parametrize(
    ("ours", "theirs", "equal"),
    [
        (Decimal("250000.00"), 250000.0, True),
        (Decimal("250000.10"), 250000.1, True),
        (Decimal("250000.10"), "250000.1", True),
        (Decimal("250000.10"), 250000.2, False),
        (Decimal("180"), 180, True),
        (Decimal("1"), True, False),
        (date(2027, 3, 1), "2027-03-01", True),
        (date(2027, 3, 1), "2027-03-02", False),
        (datetime(2026, 1, 5, 10, tzinfo=UTC), "2026-01-05T10:00:00.000+0000", True),
        (
            datetime(2026, 1, 5, 11, tzinfo=timezone(timedelta(hours=1))),
            "2026-01-05T10:00:00.000Z",
            True,
        ),
        (datetime(2026, 1, 5, 10, tzinfo=UTC), "2026-01-05T10:00:00", False),
        ("Bonjour\r\nMerci", "Bonjour\nMerci", True),
        ("Dupont", "dupont", False),
        (None, "", True),
        ("", None, True),
        ("x", None, False),
        (True, True, True),
        (False, True, False),
    ],
)
def test_values_equal_normalises_what_salesforce_returns(
    ours: Any, theirs: Any, equal: bool
) -> None:
    assert values_equal(ours, theirs) is equal


def test_changed_fields() -> None:
    values = {"Budget__c": Decimal("450000.00"), "Desired_Start__c": date(2027, 3, 1)}
    same = {"Id": "006", "Budget__c": 450000.0, "Desired_Start__c": "2027-03-01"}
    assert changed_fields(values, same) == {}
    assert changed_fields(values, None) == values
    assert changed_fields(values, {**same, "Budget__c": 400000.0}) == {
        "Budget__c": Decimal("450000.00")
    }


# --- Salesforce JSON -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("250000.00"), 250000),
        (Decimal("250000.10"), 250000.1),
        (Decimal("0.07"), 0.07),
        (date(2027, 3, 1), "2027-03-01"),
        (datetime(2026, 1, 5, 10, 30, tzinfo=UTC), "2026-01-05T10:30:00.000+00:00"),
        (
            datetime(2026, 1, 5, 11, 30, tzinfo=timezone(timedelta(hours=1))),
            "2026-01-05T11:30:00.000+01:00",
        ),
        ("Dupont", "Dupont"),
        (None, None),
        (True, True),
        (3, 3),
        ({"a": [Decimal("1.5"), date(2026, 1, 1)]}, {"a": [1.5, "2026-01-01"]}),
    ],
)
def test_to_salesforce_json(value: Any, expected: Any) -> None:
    assert to_salesforce_json(value) == expected


def test_salesforce_json_keeps_money_exact_in_the_body() -> None:
    body = json.dumps(salesforce_record({"Budget__c": Decimal("1234567890123.45"), "X": None}))
    assert body == '{"Budget__c": 1234567890123.45, "X": null}'


@pytest.mark.parametrize("value", [datetime(2026, 1, 5), float("inf"), object()])
def test_to_salesforce_json_refuses_what_it_cannot_send(value: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        to_salesforce_json(value)


@pytest.mark.parametrize(
    "value",
    [
        Decimal("12345678901234567.89"),
        Decimal("99999999999999.99"),  # 16 significant digits: the double is ...99.98
        Decimal("NaN"),
        Decimal("-Infinity"),
    ],
)
def test_a_decimal_that_cannot_travel_exactly_is_permanent_data_naming_it(value: Decimal) -> None:
    """Not a bare ValueError: that would be an "internal" error, retried until dead."""
    with pytest.raises(PermanentDataError) as raised:
        to_salesforce_json({"Budget__c": value})
    assert raised.value.code == "NUMBER_NOT_EXACT"
    assert str(value) in str(raised.value)
    assert raised.value.details == {"value": str(value)}
