"""Fixtures for the Salesforce connector tests: the real client, over HTTP, against an org.

By default the org is the local emulator (``sandbox.salesforce``) on the shipped schema
(``salesforce/``), which checks JWT bearer assertions against a real RSA key. With
``NATURHOME_TEST_SALESFORCE_LIVE=1`` and ``NATURHOME_TEST_SALESFORCE__*`` credentials (the
names of :class:`SalesforceSettings`, e.g. ``NATURHOME_TEST_SALESFORCE__AUTH=jwt``,
``__USERNAME``, ``__CONSUMER_KEY``, ``__PRIVATE_KEY_FILE``, ``__DOMAIN``) the same tests run
against that org, so the emulator can be checked against reality. The org needs the
``salesforce/`` project deployed, the Naturhome_Integration permission set and the
``Invoice_Approval`` process. Every record a test creates is deleted afterwards.

Tests that need the emulator's switches (faults, clock, token expiry, limits) carry the
``emulator_only`` marker and are skipped in live mode; the others carry the project's
``live`` marker (``NATURHOME_TEST_SALESFORCE_LIVE=1 pytest -m live``).
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr, ValidationError

from connectors.salesforce import SalesforceClient
from connectors.salesforce_settings import SalesforceSettings
from sandbox.salesforce import Behaviour, Credentials, EmulatorConfig, SalesforceEmulator

LIVE_FLAG = "NATURHOME_TEST_SALESFORCE_LIVE"
LIVE_PREFIX = "NATURHOME_TEST_SALESFORCE__"
# Read at import: the shared autouse fixture removes NATURHOME_* variables before each test.
LIVE = os.environ.get(LIVE_FLAG) == "1"
_LIVE_ENV = {
    k[len(LIVE_PREFIX) :].lower(): v for k, v in os.environ.items() if k.startswith(LIVE_PREFIX)
}

#: Sessions expire this long after their last use; tests move the emulator's clock past it.
#: Less than the 3 minutes a JWT assertion lives, so the clock jump leaves new logins valid.
TOKEN_TTL_S = 60
MY_DOMAIN = "naturhome.my"
#: Settings every test client shares: short, fast retries so the suite stays quick.
FAST = {
    "retry_attempts": 3,
    "retry_max_wait_s": 0.0,
    "connect_timeout_s": 2.0,
    "read_timeout_s": 10.0,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "emulator_only: needs the Salesforce emulator (faults, clock, limits)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that can run against a real org carry the project's ``live`` marker, so
    ``NATURHOME_TEST_SALESFORCE_LIVE=1 pytest -m live`` selects exactly them."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and not item.get_closest_marker("emulator_only"):
            item.add_marker(pytest.mark.live)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if LIVE and item.get_closest_marker("emulator_only"):
        pytest.skip("emulator only (fault injection / clock / limits): not run against a live org")


def live_settings() -> SalesforceSettings:
    if not _LIVE_ENV:
        pytest.skip(f"{LIVE_FLAG}=1 but no {LIVE_PREFIX}* credentials are set")
    try:
        return SalesforceSettings(**{**_LIVE_ENV, **FAST, "read_timeout_s": 60.0})
    except ValidationError as exc:
        pytest.skip(f"{LIVE_PREFIX}* credentials are not valid settings: {exc}")
        raise AssertionError from exc  # unreachable: skip raises


# -- the emulator ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JwtKeys:
    private_pem: str
    public_pem: str


def new_rsa_keys() -> JwtKeys:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return JwtKeys(private.decode(), public.decode())


@pytest.fixture(scope="session")
def jwt_keys() -> JwtKeys:
    """The integration user's key pair; the emulator checks assertions against its public key."""
    return new_rsa_keys()


@pytest.fixture(scope="session")
def other_keys() -> JwtKeys:
    """A key pair the org does not know."""
    return new_rsa_keys()


class Emulator:
    """A running emulator and the control calls tests make (never through the client)."""

    def __init__(self, emulator: SalesforceEmulator, keys: JwtKeys) -> None:
        self.emulator = emulator
        self.keys = keys
        self.http = requests.Session()

    @property
    def url(self) -> str:
        return self.emulator.base_url

    @property
    def credentials(self) -> Credentials:
        return self.emulator.config.credentials

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/__sandbox{path}", json=body, timeout=30)
        assert response.status_code < 300, response.text
        return response.json()

    def reset(self) -> None:
        self.control("POST", "/reset")

    def fault(self, method: str, path: str, **spec: Any) -> None:
        """Make matching calls fail or slow down (``times`` defaults to 1; None = always)."""
        self.control("POST", "/faults", {"method": method, "path": path, **spec})

    def clear_faults(self) -> None:
        self.control("DELETE", "/faults")

    def stats(self) -> dict[str, int]:
        calls: dict[str, int] = self.control("GET", "/stats")["calls"]
        return calls

    def calls(self, method: str, path_part: str) -> int:
        """Calls received whose stats key is ``METHOD ...path_part...``."""
        return sum(
            n
            for key, n in self.stats().items()
            if key.startswith(method + " ") and path_part in key
        )

    def logins(self) -> int:
        return self.calls("POST", "/services/oauth2/token") + self.calls("POST", "/services/Soap/")

    def api_used(self) -> int:
        used: int = self.control("GET", "/stats")["api_usage"]["used"]
        return used

    def expire_sessions(self) -> None:
        """Move the org's clock past the session timeout: every token stops working."""
        self.control("POST", "/clock", {"advance_seconds": TOKEN_TTL_S + 1})

    def settings(self, **overrides: Any) -> SalesforceSettings:
        """Client settings for this emulator: client credentials on the My Domain (JWT is
        as good a default but signs each login with a freshly loaded RSA key, ~0.1 s)."""
        creds = self.credentials
        values: dict[str, Any] = {
            "auth": "client_credentials",
            "domain": MY_DOMAIN,
            "username": creds.username,
            "consumer_key": creds.consumer_key,
            "consumer_secret": SecretStr(creds.consumer_secret),
            "emulator_url": self.url,
            **FAST,
        }
        values.update(overrides)
        return SalesforceSettings(**values)


def start_emulator(state_dir: Path, keys: JwtKeys, **overrides: Any) -> SalesforceEmulator:
    config = EmulatorConfig(
        state_dir=state_dir,
        credentials=Credentials(jwt_public_key_pem=keys.public_pem),
        token_ttl_seconds=TOKEN_TTL_S,
        behaviour=overrides.pop("behaviour", Behaviour()),
        **overrides,
    )
    emulator = SalesforceEmulator(config)
    emulator.start()
    return emulator


@pytest.fixture(scope="session")
def _shared_emulator(
    tmp_path_factory: pytest.TempPathFactory, jwt_keys: JwtKeys
) -> Iterator[SalesforceEmulator]:
    emulator = start_emulator(tmp_path_factory.mktemp("sf-connector"), jwt_keys)
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(request: pytest.FixtureRequest, jwt_keys: JwtKeys) -> Emulator:
    """The shared emulator, emptied (no records but users, no faults, fresh counters)."""
    if LIVE:
        pytest.skip("needs the emulator: not available against a live org")
    shared: SalesforceEmulator = request.getfixturevalue("_shared_emulator")
    emu = Emulator(shared, jwt_keys)
    emu.reset()
    return emu


@pytest.fixture
def make_emulator(tmp_path: Path, jwt_keys: JwtKeys) -> Iterator[Callable[..., Emulator]]:
    """A dedicated emulator with other settings (``behaviour=Behaviour(...)``, limits...)."""
    started: list[SalesforceEmulator] = []

    def start(**overrides: Any) -> Emulator:
        emulator = start_emulator(tmp_path / f"sf{len(started)}", jwt_keys, **overrides)
        started.append(emulator)
        return Emulator(emulator, jwt_keys)

    yield start
    for emulator in started:
        emulator.stop()


# -- clients and cleanup -----------------------------------------------------------------------


@pytest.fixture
def base_settings(request: pytest.FixtureRequest) -> SalesforceSettings:
    """The settings of the org under test: live credentials, or the (emptied) emulator."""
    if LIVE:
        return live_settings()
    emu: Emulator = request.getfixturevalue("emulator")
    return emu.settings()


@pytest.fixture
def make_client(base_settings: SalesforceSettings) -> Iterator[Callable[..., SalesforceClient]]:
    """``make_client(settings=None, metrics=None, **overrides)``: a client, closed after the
    test; ``overrides`` replace settings values (``retry_attempts=1``...)."""
    clients: list[SalesforceClient] = []

    def make(
        settings: SalesforceSettings | None = None, metrics: Any = None, **overrides: Any
    ) -> SalesforceClient:
        chosen = settings or base_settings
        if overrides:
            chosen = SalesforceSettings(**{**chosen.model_dump(), **overrides})
        client = SalesforceClient(chosen, metrics=metrics)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., SalesforceClient]) -> SalesforceClient:
    return make_client()


@dataclass
class Cleanup:
    """Records a test created, deleted at teardown (children before parents)."""

    settings: SalesforceSettings
    ids: list[str] = field(default_factory=list)

    def add(self, *record_ids: str | None) -> None:
        self.ids.extend(i for i in record_ids if i)

    def run(self) -> list[str]:
        """Delete every record; the ids Salesforce would not delete (already gone with a
        parent is fine) are returned and reported as a warning."""
        client = SalesforceClient(self.settings)
        left: list[str] = []
        try:
            pending = list(dict.fromkeys(reversed(self.ids)))
            for start in range(0, len(pending), 200):
                chunk = pending[start : start + 200]
                answer = client.restful(
                    f"composite/sobjects?ids={','.join(chunk)}&allOrNone=false", "DELETE"
                )
                left += [
                    record_id
                    for record_id, item in zip(chunk, answer or [], strict=True)
                    if not item.get("success") and not _already_gone(item)
                ]
        finally:
            client.close()
        return left


def _already_gone(item: dict[str, Any]) -> bool:
    codes = {e.get("statusCode") for e in item.get("errors") or []}
    return bool(codes & {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"})


@pytest.fixture
def cleanup(request: pytest.FixtureRequest, base_settings: SalesforceSettings) -> Iterator[Cleanup]:
    tracker = Cleanup(base_settings)
    yield tracker
    if not tracker.ids:
        return
    if not LIVE:
        emu: Emulator = request.getfixturevalue("emulator")
        emu.clear_faults()
    left = tracker.run()
    if left:
        warnings.warn(f"records not cleaned up: {left}", stacklevel=1)


_RUN = uuid.uuid4().hex[:8]
_serial = count(1)


@pytest.fixture
def key() -> Callable[[str], str]:
    """Unique external-id values for this run (``nht-<run>-<label>-<n>``): live orgs keep
    other data, and a failed cleanup must not collide with the next run."""

    def make(label: str) -> str:
        return f"nht-{_RUN}-{label}-{next(_serial)}"

    return make


@pytest.fixture
def live() -> bool:
    """True when the tests run against a real org (some counts are then only bounds)."""
    return LIVE
