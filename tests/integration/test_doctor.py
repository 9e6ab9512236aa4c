"""``naturhome-sync doctor`` against the Salesforce emulator, through the real CLI.

A clean org (the emulator on the shipped ``salesforce/``) passes; an org started from a
drifted copy of the project (a field deleted, a type changed, an external-id flag dropped, a
picklist value removed, an object missing) is reported finding by finding and fails, as do
refused credentials, an unreachable org and a store that was never upgraded.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from naturhome_sync.cli import app
from naturhome_sync.paths import shipped_dir
from sandbox.salesforce import EmulatorConfig, SalesforceEmulator

OBJECTS = Path("force-app/main/default/objects")


@pytest.fixture(scope="module")
def clean_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(EmulatorConfig(state_dir=tmp_path_factory.mktemp("clean"))) as emu:
        yield emu


def drifted_project(target: Path) -> Path:
    """A copy of ``salesforce/`` as a half-deployed org would have it."""
    project = target / "salesforce"
    shutil.copytree(shipped_dir("salesforce"), project)
    objects = project / OBJECTS
    (objects / "Opportunity/fields/Score__c.field-meta.xml").unlink()
    _edit(
        objects / "Invoice__c/fields/Total_VAT__c.field-meta.xml",
        "<type>Currency</type>",
        "<type>Number</type>",
    )
    _edit(
        objects / "Work_Item__c/fields/Code__c.field-meta.xml",
        "<externalId>true</externalId>",
        "<externalId>false</externalId>",
    )
    status = objects / "Invoice__c/fields/Status__c.field-meta.xml"
    text = status.read_text(encoding="utf-8")
    cancelled = re.compile(r"\s*<value>\s*<fullName>Cancelled</fullName>.*?</value>", re.S)
    assert cancelled.search(text)
    status.write_text(cancelled.sub("", text), encoding="utf-8")
    shutil.rmtree(objects / "External_Document__c")
    return project


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer contains {old}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def write_env(tmp_path: Path) -> Callable[..., Path]:
    """An env file for an environment whose Salesforce is ``emulator`` (or none)."""

    def write(emulator: SalesforceEmulator | None = None, **settings: Any) -> Path:
        lines = {"NATURHOME_STATE_DIR": str(tmp_path / "state"), "NATURHOME_LOG__LEVEL": "ERROR"}
        if emulator is not None:
            creds = emulator.config.credentials
            lines |= {
                "NATURHOME_SALESFORCE__AUTH": "client_credentials",
                "NATURHOME_SALESFORCE__DOMAIN": "naturhome.my",
                "NATURHOME_SALESFORCE__CONSUMER_KEY": creds.consumer_key,
                "NATURHOME_SALESFORCE__CONSUMER_SECRET": creds.consumer_secret,
                "NATURHOME_SALESFORCE__EMULATOR_URL": emulator.base_url,
                "NATURHOME_SALESFORCE__RETRY_MAX_WAIT_S": "0",
            }
        lines |= {f"NATURHOME_{k.upper()}": str(v) for k, v in settings.items()}
        path = tmp_path / "doctor.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()), encoding="utf-8")
        return path

    return write


def cli(env_file: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--env-file", str(env_file), *args])


def doctor_json(env_file: Path, *, upgrade: bool = True) -> tuple[int, dict[str, Any]]:
    if upgrade:
        assert cli(env_file, "db", "upgrade").exit_code == 0
    result = cli(env_file, "doctor", "--json")
    return result.exit_code, json.loads(result.stdout)


def errors(report: dict[str, Any]) -> dict[str, str]:
    return {f["subject"]: f["message"] for f in report["findings"] if f["severity"] == "error"}


def test_a_clean_org_passes(clean_org: SalesforceEmulator, write_env: Callable[..., Path]) -> None:
    env = write_env(clean_org)
    assert cli(env, "db", "upgrade").exit_code == 0
    result = cli(env, "doctor")
    assert result.exit_code == 0, result.output
    assert "fit to run: 0 error(s), 0 warning(s)" in result.stdout
    assert "not fit" not in result.stdout
    for subject in ("Opportunity", "Invoice__c", "Integration_Error__c", "Task", "ContentVersion"):
        assert re.search(rf"ok\s+│ schema\s+│ {subject}\s+│ matches the contract", result.stdout)


def test_json_report_shape(clean_org: SalesforceEmulator, write_env: Callable[..., Path]) -> None:
    code, report = doctor_json(write_env(clean_org))
    assert code == 0 and report["ok"] is True
    assert set(report) == {"ok", "findings"}
    for finding in report["findings"]:
        assert set(finding) == {"severity", "area", "subject", "message"}
        assert finding["severity"] in ("ok", "warning", "error")
    by_area = {f["area"] for f in report["findings"]}
    assert {"configuration", "store", "salesforce", "schema"} <= by_area
    (config,) = [f for f in report["findings"] if f["area"] == "configuration"]
    assert config["message"] == (
        f"auth=client_credentials against the emulator at {clean_org.base_url}, API v59.0"
    )
    login = next(f for f in report["findings"] if f["area"] == "salesforce")
    assert login["subject"] == clean_org.base_url.replace("http://", "https://")
    assert re.search(
        r"logged in \(client_credentials\), API requests used today: \d+/15000", login["message"]
    )
    schema = [f for f in report["findings"] if f["area"] == "schema"]
    assert len(schema) >= 20 and all(f["severity"] == "ok" for f in schema)


def test_a_drifted_org_is_reported_finding_by_finding(
    tmp_path: Path, write_env: Callable[..., Path]
) -> None:
    project = drifted_project(tmp_path)
    config = EmulatorConfig(state_dir=tmp_path / "drifted", salesforce_dir=project)
    with SalesforceEmulator(config) as drifted:
        code, report = doctor_json(write_env(drifted))
    assert code == 1 and report["ok"] is False
    found = errors(report)
    assert found.keys() == {
        "Opportunity.Score__c",
        "Invoice__c.Total_VAT__c",
        "Work_Item__c.Code__c",
        "Invoice__c.Status__c",
        "External_Document__c",
    }
    assert found["Opportunity.Score__c"].startswith("field missing")
    assert found["Invoice__c.Total_VAT__c"] == "type is double, expected currency"
    assert found["Work_Item__c.Code__c"].startswith("not an External ID")
    assert found["Invoice__c.Status__c"] == "picklist lacks Cancelled"
    assert found["External_Document__c"].startswith("object missing")


def test_the_human_report_of_a_drifted_org(tmp_path: Path, write_env: Callable[..., Path]) -> None:
    project = drifted_project(tmp_path)
    config = EmulatorConfig(state_dir=tmp_path / "drifted", salesforce_dir=project)
    with SalesforceEmulator(config) as drifted:
        env = write_env(drifted)
        assert cli(env, "db", "upgrade").exit_code == 0
        result = cli(env, "doctor")
    assert result.exit_code == 1
    assert "not fit to run: 5 error(s)" in result.stdout
    assert "picklist lacks Cancelled" in result.stdout


def test_refused_credentials_are_a_login_finding(
    clean_org: SalesforceEmulator, write_env: Callable[..., Path]
) -> None:
    env = write_env(clean_org, salesforce__consumer_secret="wrong-secret")
    code, report = doctor_json(env)
    assert code == 1
    assert errors(report) == {
        "login": "invalid_client: login: login refused: invalid client credentials"
    }
    assert not [f for f in report["findings"] if f["area"] == "schema"]  # not attempted


def test_an_unreachable_org_is_a_login_finding(
    clean_org: SalesforceEmulator, write_env: Callable[..., Path], closed_port_url: str
) -> None:
    env = write_env(
        clean_org, salesforce__emulator_url=closed_port_url, salesforce__retry_attempts=1
    )
    code, report = doctor_json(env)
    assert code == 1
    assert errors(report)["login"].startswith("CONNECT_FAILED: login: cannot reach Salesforce")


def test_a_store_that_was_never_upgraded_is_a_finding(
    clean_org: SalesforceEmulator, write_env: Callable[..., Path]
) -> None:
    code, report = doctor_json(write_env(clean_org), upgrade=False)
    assert code == 1
    store = [f for f in report["findings"] if f["area"] == "store"]
    assert [f["severity"] for f in store] == ["error"]
    assert "naturhome-sync db upgrade" in store[0]["message"]
    assert all(f["severity"] == "ok" for f in report["findings"] if f["area"] == "schema")


def test_salesforce_not_configured_is_a_finding(write_env: Callable[..., Path]) -> None:
    code, report = doctor_json(write_env())
    assert code == 1
    assert errors(report) == {"salesforce": "not configured (NATURHOME_SALESFORCE__...)"}


def test_api_usage_above_the_stop_threshold_is_a_warning(
    tmp_path: Path, write_env: Callable[..., Path]
) -> None:
    config = EmulatorConfig(state_dir=tmp_path / "busy", daily_api_requests=60)
    with SalesforceEmulator(config) as busy:
        code, report = doctor_json(write_env(busy, salesforce__api_usage_stop_ratio=0.01))
    assert code == 0
    warnings = [f for f in report["findings"] if f["severity"] == "warning"]
    assert [(f["area"], f["subject"]) for f in warnings] == [("salesforce", "API usage")]
    assert "non-urgent flows wait" in warnings[0]["message"]


def test_an_emulator_in_production_is_an_error(
    clean_org: SalesforceEmulator, write_env: Callable[..., Path]
) -> None:
    code, report = doctor_json(write_env(clean_org, environment="production"))
    assert code == 1
    assert "not the emulator" in errors(report)["salesforce"]
