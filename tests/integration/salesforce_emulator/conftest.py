"""Fixtures for the Salesforce emulator tests.

Every test talks to a real emulator over loopback HTTP through simple-salesforce 1.12.10
(``Salesforce(..., session=emulator_session(url))``), exactly as the connector will. The
schema is the real standard base (``standard_objects()``) with a small, stable set of custom
objects and fields built here, so these tests do not move when the shipped project does;
``test_shipped_schema.py`` covers the shipped project itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from connectors.salesforce_transport import emulator_session
from naturhome_sync.sfschema import FieldDef, ObjectDef, PicklistValue, Schema, merge_project
from naturhome_sync.sfschema.standard import standard_objects, system_fields
from sandbox.salesforce import Behaviour, EmulatorConfig, SalesforceEmulator

API_VERSION = "59.0"


# -- test schema ---------------------------------------------------------------------------


def _values(*names: str, default: str | None = None) -> tuple[PicklistValue, ...]:
    return tuple(PicklistValue(value=n, label=n, default=n == default) for n in names)


def text(name: str, length: int, **kw: Any) -> FieldDef:
    return FieldDef(
        name=name,
        label=name.removesuffix("__c").replace("_", " "),
        type="Text",
        length=length,
        custom=True,
        **kw,
    )


def field(name: str, type_: str, **kw: Any) -> FieldDef:
    return FieldDef(
        name=name, label=name.removesuffix("__c").replace("_", " "), type=type_, custom=True, **kw
    )


def lookup(name: str, target: str, child: str, *, master: bool = False, **kw: Any) -> FieldDef:
    return FieldDef(
        name=name,
        label=name.removesuffix("__c").replace("_", " "),
        type="MasterDetail" if master else "Lookup",
        length=18,
        reference_to=(target,),
        relationship_name=name[:-3] + "__r",
        child_relationship_name=child,
        required=master,
        updateable=True,
        custom=True,
        **kw,
    )


def custom_object(
    name: str, fields: list[FieldDef], *, owner: bool = True, auto_name: str | None = None
) -> ObjectDef:
    all_fields = dict(system_fields(owner=owner))
    if auto_name:
        all_fields["Name"] = FieldDef(
            name="Name", label="Number", type="AutoNumber", length=30, name_field=True,
            id_lookup=True, createable=False, updateable=False, defaulted_on_create=True,
            never_null=True, display_format=auto_name,
        )  # fmt: skip
    else:
        all_fields["Name"] = FieldDef(
            name="Name", label=f"{name} Name", type="Text", length=80, required=True,
            name_field=True, id_lookup=True,
        )  # fmt: skip
    all_fields.update({f.name: f for f in fields})
    label = name.removesuffix("__c").replace("_", " ")
    return ObjectDef(
        name=name,
        label=label,
        plural_label=label + "s",
        custom=True,
        fields=MappingProxyType(all_fields),
        sharing_model="ReadWrite" if owner else "ControlledByParent",
        name_field_type="AutoNumber" if auto_name else "Text",
        name_display_format=auto_name,
    )


def additions(name: str, fields: list[FieldDef]) -> ObjectDef:
    return ObjectDef(
        name=name, label=name, plural_label=name, custom=False, fields={f.name: f for f in fields}
    )


def build_test_schema() -> Schema:
    invoice_status = _values("Draft", "Pending Approval", "Approved", "Rejected", default="Draft")
    project = Schema(
        objects={
            "Account": additions("Account", [
                text("Naturhome_Id__c", 20, external_id=True, unique=True),
                text("Case_Key__c", 20, external_id=True, unique=True, case_sensitive=True),
                field("Tier__c", "Picklist", length=255, restricted=True,
                      picklist_values=_values("Gold", "Silver", "Bronze")),
                field("Tags__c", "MultiselectPicklist", length=4099, restricted=True,
                      picklist_values=_values("A", "B", "C")),
                field("Rating__c", "Number", precision=3, scale=1),
                field("Active__c", "Checkbox", default_value="true", defaulted_on_create=True),
                field("Contact_Email__c", "Email", length=80),
            ]),
            "Contact": additions("Contact", [
                text("HubSpot_Contact_Id__c", 40, external_id=True),
            ]),
            "Opportunity": additions("Opportunity", [
                text("HubSpot_Submission_Id__c", 64, external_id=True, unique=True),
                field("Score__c", "Number", precision=5, scale=0),
                field("Priority__c", "Picklist", length=255, restricted=True,
                      picklist_values=_values("P1", "P2", "P3", default="P3"),
                      default_value="P3", defaulted_on_create=True),
                field("Notes__c", "LongTextArea", length=32000, visible_lines=5),
                field("Desired_Start__c", "Date"),
                field("Submitted_At__c", "DateTime"),
                FieldDef(name="Estimator__c", label="Estimator", type="Lookup", length=18,
                         reference_to=("User",), relationship_name="Estimator__r",
                         child_relationship_name="Estimated_Opportunities__r", custom=True),
            ]),
            "Invoice__c": custom_object("Invoice__c", [
                text("Request_Key__c", 64, external_id=True, unique=True),
                field("Status__c", "Picklist", length=255, restricted=True,
                      picklist_values=invoice_status, default_value="Draft",
                      defaulted_on_create=True),
                field("Total__c", "Currency", precision=16, scale=2),
                field("Issue_Date__c", "Date"),
                lookup("Opportunity__c", "Opportunity", "Invoices__r"),
                lookup("Account__c", "Account", "Invoices__r", delete_constraint="Restrict"),
            ], auto_name="INV-{00000}"),
            "Invoice_Line__c": custom_object("Invoice_Line__c", [
                lookup("Invoice__c", "Invoice__c", "Invoice_Lines__r", master=True),
                field("Amount__c", "Currency", precision=16, scale=2),
                field("Sequence__c", "Number", precision=3, scale=0),
            ], owner=False),
            "Line_Note__c": custom_object("Line_Note__c", [
                lookup("Invoice_Line__c", "Invoice_Line__c", "Line_Notes__r", master=True),
            ], owner=False),
            "Work_Item__c": custom_object("Work_Item__c", [
                field("Code__c", "Number", precision=10, scale=0, external_id=True, unique=True),
                field("Active__c", "Checkbox", default_value="false", defaulted_on_create=True),
            ]),
        }
    )  # fmt: skip
    return merge_project(standard_objects(), replace(project, api_version=API_VERSION))


@pytest.fixture(scope="session")
def test_schema() -> Schema:
    return build_test_schema()


# -- emulator harness ------------------------------------------------------------------------


class Harness:
    """A running emulator plus the helpers tests use to drive and inspect it."""

    def __init__(self, emulator: SalesforceEmulator) -> None:
        self.emulator = emulator
        self.http = requests.Session()

    @property
    def url(self) -> str:
        return self.emulator.base_url

    @property
    def config(self) -> EmulatorConfig:
        return self.emulator.config

    def client(self, **kwargs: Any) -> Salesforce:
        creds = self.config.credentials
        return Salesforce(
            username=creds.username,
            password=creds.password,
            security_token=creds.security_token,
            session=emulator_session(self.url),
            version=API_VERSION,
            object_pairs_hook=dict,
            **kwargs,
        )

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.http.request(method, f"{self.url}/__sandbox{path}", json=body, timeout=30)

    def load(self, *records: dict[str, Any]) -> dict[str, Any]:
        response = self.control("POST", "/load", {"records": list(records)})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", "/stats").json()
        return result

    def advance(self, seconds: float) -> None:
        self.control("POST", "/clock", {"advance_seconds": seconds})

    def data_url(self, path: str) -> str:
        return f"{self.url}/services/data/v{API_VERSION}/{path}"


def make_config(state_dir: Path, schema: Schema, **overrides: Any) -> EmulatorConfig:
    behaviour = overrides.pop("behaviour", None) or Behaviour()
    return EmulatorConfig(state_dir=state_dir, schema=schema, behaviour=behaviour, **overrides)


@pytest.fixture(scope="module")
def shared_emulator(
    tmp_path_factory: pytest.TempPathFactory, test_schema: Schema
) -> Iterator[SalesforceEmulator]:
    emulator = SalesforceEmulator(make_config(tmp_path_factory.mktemp("sf-state"), test_schema))
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def module_harness(shared_emulator: SalesforceEmulator) -> Harness:
    """The module's emulator emptied once, for modules that seed data shared by its tests."""
    h = Harness(shared_emulator)
    assert h.control("POST", "/reset").status_code == 200
    return h


@pytest.fixture
def harness(shared_emulator: SalesforceEmulator) -> Harness:
    """The module's emulator, emptied: no records but users, no faults, fresh counters."""
    h = Harness(shared_emulator)
    assert h.control("POST", "/reset").status_code == 200
    return h


@pytest.fixture
def sf(harness: Harness) -> Salesforce:
    return harness.client()


@pytest.fixture
def make_harness(tmp_path: Path, test_schema: Schema) -> Iterator[Callable[..., Harness]]:
    """Start a dedicated emulator with config overrides (``behaviour=Behaviour(...)`` ...)."""
    started: list[SalesforceEmulator] = []

    def start(state_dir: Path | None = None, **overrides: Any) -> Harness:
        directory = state_dir or tmp_path / f"state{len(started)}"
        emulator = SalesforceEmulator(make_config(directory, test_schema, **overrides))
        emulator.start()
        started.append(emulator)
        return Harness(emulator)

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture(scope="module")
def shipped_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """An emulator on its default schema: the shipped ``salesforce/`` project."""
    emulator = SalesforceEmulator(EmulatorConfig(state_dir=tmp_path_factory.mktemp("shipped")))
    emulator.start()
    yield Harness(emulator)
    emulator.stop()
