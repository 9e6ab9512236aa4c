"""A complete local environment: every emulator, seeded, plus the settings of a service
wired to them.

``naturhome-sync sandbox up`` and ``naturhome-sync demo`` start one. Everything lives under
one state directory (``salesforce/``, ``hubspot/``, ``service/``), so the data survives a
restart on the same directory, and ``sandbox.env`` there holds the settings the sandboxed
service runs with: any command can be pointed at it with ``--env-file``.

This module imports nothing from production code: it only knows the emulators and the names
of the service's settings (a documented contract).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from sandbox.demo_data import demo_records
from sandbox.hubspot import HubSpotEmulator, HubSpotEmulatorConfig
from sandbox.salesforce.config import Credentials, EmulatorConfig
from sandbox.salesforce.server import SalesforceEmulator

SEEDED_MARKER = ".seeded"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class SandboxEnvironment:
    state_dir: Path
    service_port: int = 0
    poll_seconds: int = 5
    salesforce: SalesforceEmulator | None = None
    hubspot: HubSpotEmulator | None = None
    credentials: Credentials = field(default_factory=Credentials)

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.service_port}"

    @property
    def env_file(self) -> Path:
        return self.state_dir / "sandbox.env"

    def start(self, *, seed: bool = True) -> SandboxEnvironment:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not self.service_port:
            self.service_port = free_port()
        self.salesforce = SalesforceEmulator(
            EmulatorConfig(state_dir=self.state_dir / "salesforce", credentials=self.credentials)
        )
        self.salesforce.start()
        self.hubspot = HubSpotEmulator(
            HubSpotEmulatorConfig(
                state_dir=self.state_dir / "hubspot",
                service_webhook_url=f"{self.service_url}/webhooks/hubspot",
                search_delay_s=1.0,
            )
        )
        self.hubspot.start()
        if seed:
            self.seed()
        self.env_file.write_text(self.env_text(), encoding="utf-8")
        return self

    def seed(self) -> bool:
        """Load the demo data set once per state directory; False if it was there already."""
        marker = self.state_dir / SEEDED_MARKER
        if marker.exists():
            return False
        assert self.salesforce is not None
        response = requests.post(
            f"{self.salesforce.base_url}/__sandbox/load",
            json={"records": demo_records()},
            timeout=60,
        )
        if response.status_code != 200:
            raise RuntimeError(f"seeding the Salesforce emulator failed: {response.text[:500]}")
        marker.write_text(json.dumps(response.json()["ids"], indent=1), encoding="utf-8")
        return True

    def stop(self) -> None:
        if self.hubspot is not None:
            self.hubspot.stop()
        if self.salesforce is not None:
            self.salesforce.stop()

    def __enter__(self) -> SandboxEnvironment:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- what the service and the scripts are told ---------------------------------------------

    def settings(self) -> dict[str, str]:
        """The service's settings (``NATURHOME_*``) for this environment."""
        assert self.salesforce is not None and self.hubspot is not None
        hubspot = self.hubspot.config
        service_dir = self.state_dir / "service"
        every = f"every {self.poll_seconds}s"
        return {
            "NATURHOME_ENVIRONMENT": "sandbox",
            "NATURHOME_STATE_DIR": str(service_dir),
            "NATURHOME_DATABASE__URL": f"sqlite:///{service_dir / 'naturhome.db'}",
            "NATURHOME_HTTP__HOST": "127.0.0.1",
            "NATURHOME_HTTP__PORT": str(self.service_port),
            "NATURHOME_HTTP__PUBLIC_BASE_URL": self.service_url,
            "NATURHOME_WORKER__POLL_INTERVAL_SECONDS": "0.2",
            "NATURHOME_RETRY__BASE_SECONDS": "1",
            "NATURHOME_RETRY__MAX_SECONDS": "30",
            "NATURHOME_SALESFORCE__AUTH": "soap",
            "NATURHOME_SALESFORCE__USERNAME": self.credentials.username,
            "NATURHOME_SALESFORCE__PASSWORD": self.credentials.password,
            "NATURHOME_SALESFORCE__SECURITY_TOKEN": self.credentials.security_token,
            "NATURHOME_SALESFORCE__CONSUMER_KEY": self.credentials.consumer_key,
            "NATURHOME_SALESFORCE__CONSUMER_SECRET": self.credentials.consumer_secret,
            "NATURHOME_SALESFORCE__EMULATOR_URL": self.salesforce.base_url,
            "NATURHOME_HUBSPOT__ACCESS_TOKEN": hubspot.access_token,
            "NATURHOME_HUBSPOT__CLIENT_SECRET": hubspot.client_secret,
            "NATURHOME_HUBSPOT__BASE_URL": self.hubspot.base_url,
            "NATURHOME_HUBSPOT__PORTAL_ID": str(hubspot.portal_id),
            "NATURHOME_HUBSPOT__FORM_GUIDS": json.dumps(list(hubspot.form_guids)),
            "NATURHOME_HUBSPOT__WEBHOOK_PUBLIC_BASE_URL": self.service_url,
            "NATURHOME_SCHEDULES__HUBSPOT_POLL": every,
            "NATURHOME_SCHEDULES__ESTIMATOR_ASSIGNMENT": every,
        }

    def env_text(self) -> str:
        lines = [
            "# Settings of the service wired to the local emulators (written by sandbox up).",
            "# Use with: naturhome-sync --env-file <this file> <command>",
        ]
        lines += [f"{key}={value}" for key, value in self.settings().items()]
        return "\n".join(lines) + "\n"

    def describe(self) -> dict[str, Any]:
        """The ``sandbox up --json`` line: a contract other tools rely on (add, never rename)."""
        assert self.salesforce is not None and self.hubspot is not None
        return {
            "service_url": self.service_url,
            "state_dir": str(self.state_dir),
            "env_file": str(self.env_file),
            "salesforce": {
                "url": self.salesforce.base_url,
                "username": self.credentials.username,
                "password": self.credentials.password,
                "security_token": self.credentials.security_token,
                "consumer_key": self.credentials.consumer_key,
                "consumer_secret": self.credentials.consumer_secret,
            },
            "hubspot": {
                "url": self.hubspot.base_url,
                "access_token": self.hubspot.config.access_token,
                "client_secret": self.hubspot.config.client_secret,
                "form_guids": list(self.hubspot.config.form_guids),
                "portal_id": self.hubspot.config.portal_id,
            },
        }
