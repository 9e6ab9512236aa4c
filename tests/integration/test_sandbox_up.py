"""``naturhome-sync sandbox up``: the emulators and a service wired to them, as scripts use it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce

from connectors.salesforce_transport import emulator_session

pytestmark = pytest.mark.slow
EXECUTABLE = str(Path(sys.executable).parent / "naturhome-sync")


def start(state_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [EXECUTABLE, "sandbox", "up", "--state-dir", str(state_dir), "--json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the contract: the first line is one JSON object
    assert line, f"sandbox up printed nothing (exit {proc.poll()})"
    return proc, json.loads(line)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def salesforce(info: dict[str, Any]) -> Salesforce:
    sf = info["salesforce"]
    return Salesforce(
        username=sf["username"],
        password=sf["password"],
        security_token=sf["security_token"],
        session=emulator_session(sf["url"]),
        version="59.0",
    )


def test_sandbox_up_json_contract_seed_env_file_and_restart(tmp_path: Path) -> None:
    state = tmp_path / "sbx"
    proc, info = start(state)
    try:
        assert set(info) >= {"service_url", "state_dir", "salesforce", "hubspot"}
        assert set(info["salesforce"]) >= {
            "url",
            "username",
            "password",
            "security_token",
            "consumer_key",
            "consumer_secret",
        }
        assert set(info["hubspot"]) >= {"url", "access_token", "client_secret", "form_guids"}
        assert info["state_dir"] == str(state)
        ready = requests.get(f"{info['service_url']}/readyz", timeout=10)
        assert ready.status_code == 200
        sf = salesforce(info)
        estimators = sf.query("SELECT Id FROM User WHERE Is_Estimator__c = true")
        assert estimators["totalSize"] == 3  # the demo data set
        marker = sf.Account.create({"Name": "Kept across restarts"})["id"]
        env_file = state / "sandbox.env"
        doctor = subprocess.run(
            [EXECUTABLE, "--env-file", str(env_file), "doctor", "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert json.loads(doctor.stdout)["ok"] is True
    finally:
        stop(proc)

    proc, info = start(state)
    try:
        sf = salesforce(info)
        assert sf.query("SELECT Id FROM User WHERE Is_Estimator__c = true")["totalSize"] == 3
        assert sf.Account.get(marker)["Name"] == "Kept across restarts"
        deadline = time.monotonic() + 20
        while requests.get(f"{info['service_url']}/healthz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline
    finally:
        stop(proc)


def test_sandbox_up_empty_loads_no_demo_data(tmp_path: Path) -> None:
    proc, info = start(tmp_path / "empty", "--empty")
    try:
        sf = salesforce(info)
        assert sf.query("SELECT Id FROM User WHERE Is_Estimator__c = true")["totalSize"] == 0
        assert sf.query("SELECT Id FROM Work_Item__c")["totalSize"] == 0
    finally:
        stop(proc)
