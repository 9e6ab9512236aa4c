"""The mapping and scoring files that ship with the service load against the shipped schema,
and agree with each other and with the HubSpot form contract."""

from __future__ import annotations

import pytest

from jobs.scoring import check_scoring, load_scoring, shipped_scoring_file
from jobs.scoring_rules import (
    BandsRule,
    CompletenessRule,
    MonthsUntilRule,
    PostalCodesRule,
    ValuesRule,
)
from naturhome_sync.mapping import (
    TRANSFORMS,
    MappingSpec,
    apply_mapping,
    check_mappings,
    load_mappings,
)
from naturhome_sync.paths import shipped_dir
from naturhome_sync.sfschema import Schema, load_schema

#: The quote form's fields (contract with the HubSpot emulator) and the keys the intake adds.
FORM_FIELDS = {
    "firstname",
    "lastname",
    "email",
    "phone",
    "mobilephone",
    "address",
    "zip",
    "city",
    "country",
    "preferred_language",
    "site_street",
    "site_postal_code",
    "site_city",
    "site_country",
    "project_type",
    "budget",
    "living_area_m2",
    "desired_start",
    "message",
    "plans",
}
INTAKE_KEYS = {"conversion_id", "contact_id", "form_guid", "submitted_at", "page_url"}


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


@pytest.fixture(scope="module")
def quote(schema: Schema) -> MappingSpec:
    return load_mappings(shipped_dir("mappings"), schema)["hubspot_quote_request"]


def test_shipped_files_have_no_problems(schema: Schema) -> None:
    assert check_mappings(shipped_dir("mappings"), schema) == []
    assert check_scoring(shipped_scoring_file(), schema) == []


def test_mapping_knows_the_form_contract(quote: MappingSpec) -> None:
    assert quote.source_fields == FORM_FIELDS | INTAKE_KEYS


def test_mapping_writes_the_fields_the_intake_needs(quote: MappingSpec) -> None:
    written = {name: {rule.name for rule in obj.rules} for name, obj in quote.objects.items()}
    assert {
        "Name",
        "Type",
        "BillingStreet",
        "BillingPostalCode",
        "BillingCity",
        "BillingCountry",
        "Preferred_Language__c",
    } <= written["Account"]
    assert {
        "FirstName",
        "LastName",
        "Email",
        "Phone",
        "MobilePhone",
        "HubSpot_Contact_Id__c",
    } <= written["Contact"]
    assert {
        "Name",
        "StageName",
        "LeadSource",
        "CloseDate",
        "HubSpot_Submission_Id__c",
        "HubSpot_Contact_Id__c",
        "Project_Type__c",
        "Budget__c",
        "Living_Area_m2__c",
        "Desired_Start__c",
        "Site_Street__c",
        "Site_Postal_Code__c",
        "Site_City__c",
        "Site_Country__c",
        "Description",
    } <= written["Opportunity"]


def test_scoring_reads_only_fields_the_mapping_fills(quote: MappingSpec, schema: Schema) -> None:
    mapped = {rule.name for rule in quote.objects["Opportunity"].rules}
    read: set[str] = set()
    for rule in load_scoring(shipped_scoring_file(), schema).rules:
        if isinstance(rule, BandsRule | ValuesRule | MonthsUntilRule):
            read.add(rule.field)
        elif isinstance(rule, PostalCodesRule):
            read |= {rule.country_field, rule.postal_code_field}
        elif isinstance(rule, CompletenessRule):
            read |= set(rule.fields)
    assert read <= mapped


BASE = {
    "lastname": "Dupont",
    "email": "jean@dupont.be",
    "conversion_id": "c1",
    "submitted_at": 1768209300000,
}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Nouvelle construction", "New build"),
        ("Construction neuve", "New build"),
        ("new build", "New build"),
        ("Nieuwbouw", "New build"),
        ("NEUBAU", "New build"),
        ("Agrandissement", "Extension"),
        ("extension", "Extension"),
        ("Uitbreiding", "Extension"),
        ("Anbau", "Extension"),
        ("Rénovation", "Renovation"),
        ("renovation", "Renovation"),
        ("Verbouwing", "Renovation"),
        ("Sanierung", "Renovation"),
    ],
)
def test_project_type_in_four_languages(quote: MappingSpec, typed: str, expected: str) -> None:
    mapped = apply_mapping(quote, {**BASE, "project_type": typed})
    assert mapped.records["Opportunity"]["Project_Type__c"] == expected
    assert mapped.warnings == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("fr", "fr"),
        ("DE", "de"),
        ("Nederlands", "nl"),
        ("english", "en"),
        ("Deutsch", "de"),
        ("néerlandais", "nl"),
        ("fr-BE", "fr"),
        ("", "fr"),
    ],
)
def test_preferred_language(quote: MappingSpec, typed: str, expected: str) -> None:
    mapped = apply_mapping(quote, {**BASE, "preferred_language": typed})
    assert mapped.records["Account"]["Preferred_Language__c"] == expected


def test_the_mapping_reference_documents_every_transform() -> None:
    readme = (shipped_dir("mappings") / "README.md").read_text(encoding="utf-8")
    for name in TRANSFORMS:
        assert f"`{name}`" in readme, name
