"""``naturhome-sync sandbox up``: the emulators and a service wired to them, as scripts use it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce
from typer.testing import CliRunner

from connectors.salesforce_transport import emulator_session
from naturhome_sync.cli import app

pytestmark = pytest.mark.slow
EXECUTABLE = str(Path(sys.executable).parent / "naturhome-sync")


class Sandbox:
    """``sandbox up`` processes of one test: stdout and stderr in files, killed at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, state_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
        n = len(self.procs)
        out, err = self.tmp_path / f"up-{n}.out", self.tmp_path / f"up-{n}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(
                [EXECUTABLE, "sandbox", "up", "--state-dir", str(state_dir), "--json", *extra],
                stdout=stdout,
                stderr=stderr,
            )
        self.procs.append(proc)
        deadline = time.monotonic() + 60
        while b"\n" not in out.read_bytes():  # the contract: the first line is one JSON object
            assert proc.poll() is None, f"sandbox up exited: {err.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "sandbox up printed nothing within 60 s"
            time.sleep(0.05)
        first_line = out.read_bytes().split(b"\n", 1)[0]
        return proc, json.loads(first_line)

    @staticmethod
    def stop(proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    runner = Sandbox(tmp_path)
    yield runner
    runner.kill_all()


def salesforce(info: dict[str, Any]) -> Salesforce:
    sf = info["salesforce"]
    return Salesforce(
        username=sf["username"],
        password=sf["password"],
        security_token=sf["security_token"],
        session=emulator_session(sf["url"]),
        version="59.0",
    )


def test_sandbox_up_json_contract_seed_env_file_and_restart(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    state = tmp_path / "sbx"
    proc, info = sandbox.start(state)
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
        doctor = CliRunner().invoke(app, ["--env-file", str(env_file), "doctor", "--json"])
        assert doctor.exit_code == 0, doctor.output
        assert json.loads(doctor.stdout)["ok"] is True
    finally:
        sandbox.stop(proc)

    proc, info = sandbox.start(state)
    try:
        sf = salesforce(info)
        assert sf.query("SELECT Id FROM User WHERE Is_Estimator__c = true")["totalSize"] == 3
        assert sf.Account.get(marker)["Name"] == "Kept across restarts"
        assert requests.get(f"{info['service_url']}/healthz", timeout=10).status_code == 200
    finally:
        sandbox.stop(proc)


def test_sandbox_up_empty_loads_no_demo_data(tmp_path: Path, sandbox: Sandbox) -> None:
    proc, info = sandbox.start(tmp_path / "empty", "--empty")
    try:
        sf = salesforce(info)
        assert sf.query("SELECT Id FROM User WHERE Is_Estimator__c = true")["totalSize"] == 0
        assert sf.query("SELECT Id FROM Work_Item__c")["totalSize"] == 0
    finally:
        sandbox.stop(proc)
