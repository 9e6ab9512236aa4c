"""One HubSpot emulator per test module, reset before each test; a webhook receiver.

The receiver is what the service's webhook endpoint will be: it rebuilds the URL HubSpot
called from a configured public base URL and the raw path and query, verifies the
signature with the production verifier, and answers 204 or 401.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.hubspot import HubSpotClient, HubSpotSettings
from connectors.hubspot_signatures import VerificationResult, public_request_uri, verify_request
from sandbox.hubspot import QUOTE_FORM_GUID, HubSpotEmulator, HubSpotEmulatorConfig, ThreadedServer

FORM = QUOTE_FORM_GUID
DEFAULT_SETTINGS = {
    "service_webhook_url": None,
    "search_delay_s": 0.0,
    "file_url_ttl_s": 60.0,
    "rate_limits": False,
    "burst_limit": 190,
    "search_per_second": 5,
    "daily_limit": 650_000,
    "omit_empty_properties": False,
}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubSpotEmulator]:
    config = HubSpotEmulatorConfig(state_dir=tmp_path_factory.mktemp("hubspot-state"))
    with HubSpotEmulator(config) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_emulator(request: pytest.FixtureRequest) -> None:
    if "emulator" not in request.fixturenames:
        return
    emulator: HubSpotEmulator = request.getfixturevalue("emulator")
    requests.post(f"{emulator.base_url}/__sandbox/reset", timeout=5).raise_for_status()
    requests.post(
        f"{emulator.base_url}/__sandbox/config", json=DEFAULT_SETTINGS, timeout=5
    ).raise_for_status()


@dataclass
class Sleeps:
    """Stands in for ``time.sleep`` in the client: records waits, keeps tests fast."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(
    emulator: HubSpotEmulator, sleeps: Sleeps
) -> Iterator[Callable[..., HubSpotClient]]:
    clients: list[HubSpotClient] = []

    def make(**overrides: Any) -> HubSpotClient:
        clock = overrides.pop("clock", None)
        settings = HubSpotSettings(
            **{
                "access_token": emulator.config.access_token,
                "client_secret": emulator.config.client_secret,
                "base_url": emulator.base_url,
                "portal_id": emulator.config.portal_id,
                "form_guids": [FORM],
                **overrides,
            }
        )
        extra = {"clock": clock} if clock else {}
        client = HubSpotClient(settings, sleep=sleeps, **extra)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., HubSpotClient]) -> HubSpotClient:
    return make_client()


class Sandbox:
    """Test-side helpers over the emulator's HTTP surface (control endpoints included)."""

    def __init__(self, emulator: HubSpotEmulator) -> None:
        self.emulator = emulator
        self.base_url = emulator.base_url
        self.config = emulator.config

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.access_token}"}

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.base_url}{path}", headers=self.auth, timeout=10, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return requests.post(
            f"{self.base_url}{path}", json=body, headers=self.auth, timeout=10, **kwargs
        )

    def submit(
        self,
        email: str,
        *,
        files: list[dict[str, Any]] | None = None,
        deliver: str = "none",
        submitted_at: int | None = None,
        webhook: dict[str, str] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Submit the quote form through the ``/__sandbox/submissions`` contract."""
        values = [{"name": "email", "value": email}]
        values += [{"name": name, "value": value} for name, value in fields.items()]
        body: dict[str, Any] = {"form_guid": FORM, "values": values, "deliver": deliver}
        if files is not None:
            body["files"] = files
        if submitted_at is not None:
            body["submitted_at"] = submitted_at
        if webhook is not None:
            body["webhook"] = webhook
        response = requests.post(f"{self.base_url}/__sandbox/submissions", json=body, timeout=10)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def stats(self) -> dict[str, int]:
        response = requests.get(f"{self.base_url}/__sandbox/stats", timeout=5)
        calls: dict[str, int] = response.json()["calls"]
        return calls

    def fault(self, **fault: Any) -> None:
        response = requests.post(f"{self.base_url}/__sandbox/faults", json=fault, timeout=5)
        assert response.status_code == 201, response.text

    def advance_clock(self, seconds: float) -> None:
        response = requests.post(
            f"{self.base_url}/__sandbox/clock", json={"advance_seconds": seconds}, timeout=5
        )
        assert response.status_code == 200, response.text

    def configure(self, **settings: Any) -> None:
        response = requests.post(f"{self.base_url}/__sandbox/config", json=settings, timeout=5)
        assert response.status_code == 200, response.text


@pytest.fixture
def sandbox(emulator: HubSpotEmulator) -> Sandbox:
    return Sandbox(emulator)


def file_entry(name: str, content: bytes, **extra: str) -> dict[str, str]:
    return {"name": name, "content_base64": base64.b64encode(content).decode(), **extra}


@pytest.fixture
def make_file() -> Callable[..., dict[str, str]]:
    return file_entry


@dataclass
class Delivery:
    verdict: VerificationResult
    uri: str
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A stand-in for the service's ``POST /webhooks/hubspot``."""

    base_url: str
    client_secret: str
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.base_url}/webhooks/hubspot"

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        uri = public_request_uri(
            self.base_url, request.scope["raw_path"], request.scope["query_string"]
        )
        verdict = verify_request(
            method=request.method,
            uri=uri,
            body=body,
            headers=dict(request.headers),
            client_secret=self.client_secret,
        )
        self.deliveries.append(Delivery(verdict, uri, body, dict(request.headers)))
        if verdict.ok:
            return Response(status_code=204)
        return JSONResponse({"error": "invalid signature", "reason": verdict.reason}, 401)


@pytest.fixture(scope="module")
def receiver_server(emulator: HubSpotEmulator) -> Iterator[Receiver]:
    holder: list[Receiver] = []

    async def endpoint(request: Request) -> Response:
        return await holder[0].handle(request)

    app = Starlette(routes=[Route("/webhooks/hubspot", endpoint, methods=["POST"])])
    server = ThreadedServer(app)
    port = server.start()
    holder.append(Receiver(f"http://127.0.0.1:{port}", emulator.config.client_secret))
    yield holder[0]
    server.stop()


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.deliveries.clear()
    return receiver_server


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
