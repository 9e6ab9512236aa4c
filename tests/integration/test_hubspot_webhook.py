"""``POST /webhooks/hubspot`` over a real socket, fed by the HubSpot emulator's signed sender.

What HubSpot does with our answer decides what these tests check: a 2xx means "delivered"
(so it must come only after the events are committed), a 4xx stops a workflow's retries (so
only for deliveries that can never succeed), a 5xx is retried for days (so for a store that
is down, never for a body that will fail again). The sender signs with the emulator's own
code (``sandbox/hubspot/signing.py``), never the service's verifier.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.hubspot_models import Submission
from jobs.hubspot_intake import submission_from_payload
from naturhome_sync.runtime import Runtime
from naturhome_sync.service import Service
from naturhome_sync.settings import Settings, load_settings
from naturhome_sync.store import Event
from naturhome_sync.store.tables import inbox_events, job_runs
from sandbox.hubspot import (
    QUOTE_FORM_GUID,
    DeliveryMode,
    HubSpotEmulator,
    HubSpotEmulatorConfig,
    ThreadedServer,
    WebhookStyle,
    app_events,
    with_encoded_query,
    workflow_body,
)
from sandbox.hubspot.webhooks import signature_headers

FORM = QUOTE_FORM_GUID
ROUTE = "/webhooks/hubspot"
#: Query parameters with escapes HubSpot's v3 table decodes (%3A %2C %28 %29) and one it keeps.
ENCODED_QUERY = {"source": "hubspot:workflow", "tags": "quote,form (fr)"}
#: The reference notes' worked examples (hubspot_wrike_luxdoc.md §2), recomputed there.
REFERENCE_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
REFERENCE_V1_BATCH = (
    b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
    b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
)
REFERENCE_V1_BATCH_SIGNATURE = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
REFERENCE_V1_NOT_JSON = b"{'example_field':'example_value'}"
REFERENCE_V1_NOT_JSON_SIGNATURE = "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubSpotEmulator]:
    config = HubSpotEmulatorConfig(state_dir=tmp_path_factory.mktemp("hubspot"))
    with HubSpotEmulator(config) as running:
        yield running


def hubspot_settings(emulator: HubSpotEmulator, **extra: Any) -> dict[str, Any]:
    config = emulator.config
    return {
        "access_token": config.access_token,
        "client_secret": config.client_secret,
        "base_url": emulator.base_url,
        "portal_id": config.portal_id,
        "form_guids": [FORM],
        **extra,
    }


StartService = Callable[..., Service]


@pytest.fixture
def start_service(settings_factory: Any) -> Iterator[StartService]:
    """``start_service(database_url=None, **settings)``: the HTTP app only (no worker)."""
    started: list[tuple[Service, Runtime]] = []

    def start(
        database_url: str | None = None, *, upgrade: bool = True, **overrides: Any
    ) -> Service:
        runtime = Runtime(settings_factory(database_url, **overrides))
        if upgrade:
            runtime.upgrade()
        service = Service(runtime, workers=0, scheduler=False).start()
        started.append((service, runtime))
        return service

    yield start
    for service, runtime in started:
        service.stop()
        runtime.close()


@pytest.fixture(scope="module")
def shared_service(
    emulator: HubSpotEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """One HTTP app (no worker) on SQLite with the default settings, for the module."""
    settings = isolated_settings(
        tmp_path_factory.mktemp("service") / "state", hubspot=hubspot_settings(emulator)
    )
    runtime = Runtime(settings)
    runtime.upgrade()
    service = Service(runtime, workers=0, scheduler=False).start()
    yield service
    service.stop()
    runtime.close()


@pytest.fixture
def service(shared_service: Service, hubspot: HubSpotEmulator) -> Service:
    """The module's service with an empty inbox: each test sees only what it delivered."""
    with shared_service.runtime.engine.begin() as conn:
        conn.execute(job_runs.delete())
        conn.execute(inbox_events.delete())
    return shared_service


@pytest.fixture
def service_on_each_store(
    request: pytest.FixtureRequest,
    database_url: str,
    start_service: StartService,
    hubspot: HubSpotEmulator,
) -> Service:
    """For tests run on both stores: the module's SQLite service (emptied), or a service of
    its own on the test's PostgreSQL schema."""
    if database_url.startswith("sqlite"):
        shared: Service = request.getfixturevalue("service")
        return shared
    return start_service(database_url, hubspot=hubspot_settings(hubspot))


def isolated_settings(state_dir: Path, **overrides: Any) -> Settings:
    """Settings built outside any test (module scope), so without the shared autouse
    fixture: kept as blind as it makes them to the developer's NATURHOME_* and ./.env."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("NATURHOME_") and not name.startswith("NATURHOME_TEST_"):
                patch.delenv(name)
        state_dir.parent.mkdir(parents=True, exist_ok=True)
        patch.chdir(state_dir.parent)
        return load_settings(
            state_dir=state_dir, http={"port": 0}, log={"format": "json"}, **overrides
        )


def bad_signatures_counted(service: Service) -> float:
    """The service's count of deliveries refused for their signature (Prometheus text)."""
    metrics = requests.get(f"{service.url}/metrics", timeout=5).text
    prefix = 'naturhome_sync_webhook_requests_total{outcome="bad_signature",source="hubspot"} '
    lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0


def stored(service: Service) -> list[Event]:
    return sorted(service.runtime.inbox.list(source="hubspot"), key=lambda e: e.id)


def submit(emulator: HubSpotEmulator, email: str, **options: Any) -> dict[str, Any]:
    """Submit the quote form in the emulator (``/__sandbox/submissions``), answer as JSON."""
    fields = options.pop("fields", {})
    values = [{"name": "email", "value": email}]
    values += [{"name": name, "value": value} for name, value in fields.items()]
    body = {"form_guid": FORM, "values": values, **options}
    response = requests.post(f"{emulator.base_url}/__sandbox/submissions", json=body, timeout=30)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def deliver_to(emulator: HubSpotEmulator, url: str) -> None:
    requests.post(
        f"{emulator.base_url}/__sandbox/config", json={"service_webhook_url": url}, timeout=5
    ).raise_for_status()


def a_workflow_body(conversion_id: str = "conv-1", **values: str) -> dict[str, Any]:
    return workflow_body(
        contact_id=1001,
        email="claire@example.lu",
        conversion_id=conversion_id,
        form_guid=FORM,
        submitted_at=1_717_000_000_000,
        values={"firstname": "Claire", "site_country": "LU", **values},
    )


def signed_post(
    service: Service,
    body: bytes | dict[str, Any] | list[Any],
    *,
    secret: str,
    style: WebhookStyle = WebhookStyle.WORKFLOW,
    mode: DeliveryMode = DeliveryMode.VALID,
) -> requests.Response:
    """POST ``body`` signed as HubSpot signs (the emulator's signing code, not ours)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    url = f"{service.url}{ROUTE}"
    headers = signature_headers(
        method="POST", url=url, body=raw, client_secret=secret, style=style, mode=mode,
        now_ms=int(time.time() * 1000),
    )  # fmt: skip
    headers["Content-Type"] = "application/json"
    return requests.post(url, data=raw, headers=headers, timeout=10)


# -- signatures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "mode"),
    [
        (WebhookStyle.WORKFLOW, DeliveryMode.VALID),  # v2 + v3 headers: v3 decides
        (WebhookStyle.WORKFLOW, DeliveryMode.ONLY_V3),
        (WebhookStyle.WORKFLOW, DeliveryMode.ONLY_V2),
        (WebhookStyle.WORKFLOW, DeliveryMode.ONLY_V1),
        (WebhookStyle.APP, DeliveryMode.VALID),  # v1 + v3 headers
        (WebhookStyle.APP, DeliveryMode.ONLY_V1),
    ],
)
def test_every_signature_version_is_accepted(
    hubspot: HubSpotEmulator, service: Service, style: WebhookStyle, mode: DeliveryMode
) -> None:
    deliver_to(hubspot, f"{service.url}{ROUTE}")
    answer = submit(
        hubspot, "anne@example.be", deliver="webhook", webhook={"style": style, "mode": mode}
    )

    assert answer["delivery"]["status"] == 200, answer["delivery"]
    events = stored(service)
    if style is WebhookStyle.WORKFLOW:
        assert [(e.kind, e.dedupe_key) for e in events] == [
            ("form_submission", f"submission:{answer['conversion_id']}")
        ]
    else:
        assert [e.kind for e in events] == ["contact", "contact"]  # creation + conversion
        assert {e.payload["contact_id"] for e in events} == {answer["contact_id"]}


@pytest.mark.parametrize(
    "mode",
    [DeliveryMode.BAD_SIGNATURE, DeliveryMode.STALE, DeliveryMode.FUTURE, DeliveryMode.TAMPERED],
)
def test_bad_stale_future_or_tampered_deliveries_are_401_and_store_nothing(
    hubspot: HubSpotEmulator, service: Service, mode: DeliveryMode
) -> None:
    deliver_to(hubspot, f"{service.url}{ROUTE}")
    refused_before = bad_signatures_counted(service)
    answer = submit(hubspot, "anne@example.be", deliver="webhook", webhook={"mode": mode})

    assert answer["delivery"]["status"] == 401
    assert json.loads(answer["delivery"]["body"]) == {
        "error": "unauthorized",
        "message": "invalid signature",  # the reason is logged, never told to the sender
    }
    assert stored(service) == []
    assert bad_signatures_counted(service) == refused_before + 1


def captured_then_stripped_of_v3(service: Service, secret: str) -> tuple[bytes, dict[str, str]]:
    """A delivery signed six minutes ago (v2 + v3), replayed without its v3 headers."""
    raw = json.dumps(a_workflow_body()).encode()
    headers = signature_headers(
        method="POST", url=f"{service.url}{ROUTE}", body=raw, client_secret=secret,
        style=WebhookStyle.WORKFLOW, mode=DeliveryMode.STALE, now_ms=int(time.time() * 1000),
    )  # fmt: skip
    as_captured = requests.post(f"{service.url}{ROUTE}", data=raw, headers=headers, timeout=5)
    assert as_captured.status_code == 401  # the stale v3 decides while it is there
    kept = ("X-HubSpot-Signature", "X-HubSpot-Signature-Version")  # v3's two are dropped
    assert set(headers) == {*kept, "X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp"}
    return raw, {**{name: headers[name] for name in kept}, "Content-Type": "application/json"}


def test_by_default_a_replay_stripped_of_v3_passes_on_its_v2_signature(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    """The compatible default (v2-only workflow deliveries exist): v2 signs no time."""
    raw, headers = captured_then_stripped_of_v3(service, hubspot.config.client_secret)
    replayed = requests.post(f"{service.url}{ROUTE}", data=raw, headers=headers, timeout=5)
    assert replayed.status_code == 200
    assert [e.kind for e in stored(service)] == ["form_submission"]


def test_accepting_only_v3_refuses_a_replay_stripped_of_its_v3_headers(
    hubspot: HubSpotEmulator, start_service: StartService
) -> None:
    service = start_service(hubspot=hubspot_settings(hubspot, accepted_signature_versions=["v3"]))
    raw, headers = captured_then_stripped_of_v3(service, hubspot.config.client_secret)

    replayed = requests.post(f"{service.url}{ROUTE}", data=raw, headers=headers, timeout=5)

    assert replayed.status_code == 401
    assert stored(service) == []
    deliver_to(hubspot, f"{service.url}{ROUTE}")  # fresh deliveries, with v3, still pass
    answer = submit(hubspot, "anne@example.be", deliver="webhook")
    assert answer["delivery"]["status"] == 200, answer["delivery"]
    assert [e.kind for e in stored(service)] == ["form_submission"]


def test_an_unsigned_delivery_is_401(service: Service) -> None:
    response = requests.post(f"{service.url}{ROUTE}", json=a_workflow_body(), timeout=5)
    assert response.status_code == 401
    assert stored(service) == []


def test_a_v2_signature_made_for_another_url_is_refused(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    """v2 covers the URL: a signature made for another endpoint is no good here."""
    body = json.dumps(a_workflow_body()).encode()
    headers = signature_headers(
        method="POST", url=f"{service.url}/webhooks/other", body=body,
        client_secret=hubspot.config.client_secret, style=WebhookStyle.WORKFLOW,
        mode=DeliveryMode.ONLY_V2, now_ms=int(time.time() * 1000),
    )  # fmt: skip
    response = requests.post(f"{service.url}{ROUTE}", data=body, headers=headers, timeout=5)
    assert response.status_code == 401
    assert stored(service) == []


def test_reference_vectors_end_to_end(start_service: StartService) -> None:
    """The notes' v1 doc example is accepted as sent; their non-JSON library body is a 400."""
    service = start_service(
        hubspot={
            "access_token": "pat-test",
            "client_secret": REFERENCE_SECRET,
            "form_guids": [FORM],
        }
    )
    url = f"{service.url}{ROUTE}"

    def post(body: bytes, signature: str) -> requests.Response:
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature": signature,
            "X-HubSpot-Signature-Version": "v1",
        }
        return requests.post(url, data=body, headers=headers, timeout=5)

    accepted = post(REFERENCE_V1_BATCH, REFERENCE_V1_BATCH_SIGNATURE)
    not_json = post(REFERENCE_V1_NOT_JSON, REFERENCE_V1_NOT_JSON_SIGNATURE)
    one_bit_off = post(REFERENCE_V1_BATCH, REFERENCE_V1_BATCH_SIGNATURE[:-1] + "f")

    assert accepted.status_code == 200
    assert not_json.status_code == 400
    assert not_json.json()["error"] == "bad_request"
    assert one_bit_off.status_code == 401
    [event] = stored(service)
    assert event.kind == "contact"
    assert event.flow == "hubspot_resolve"
    assert event.dedupe_key == "event:62515:contact.creation:123::1564113600000:1"
    assert event.payload["contact_id"] == "123"


# -- the public URL behind a reverse proxy -----------------------------------------------------


class ReverseProxy:
    """A proxy on another address that serves the service under ``/hooks``.

    It strips the prefix and passes the path and query on raw (escapes untouched, order
    kept), as nginx ``proxy_pass http://service/;`` does. The service only ever sees its own
    socket address and ``/webhooks/hubspot``; HubSpot signed ``http://localhost:<port>/hooks...``.
    """

    PREFIX = "/hooks"

    def __init__(self) -> None:
        self.target = ""
        self._server = ThreadedServer(
            Starlette(routes=[Route(self.PREFIX + "/{rest:path}", self.forward, methods=["POST"])])
        )
        self.port = self._server.start()

    @property
    def public_base_url(self) -> str:
        return f"http://localhost:{self.port}{self.PREFIX}"

    async def forward(self, request: Request) -> Response:
        path = request.scope["raw_path"].decode("latin-1").removeprefix(self.PREFIX)
        query = request.scope["query_string"].decode("latin-1")
        headers = {
            name: value
            for name, value in request.headers.items()
            if name not in ("host", "content-length", "connection")
        }
        headers["x-forwarded-host"] = request.headers["host"]
        headers["x-forwarded-proto"] = "http"
        async with httpx.AsyncClient() as client:
            upstream = await client.post(
                self.target + path + (f"?{query}" if query else ""),
                content=await request.body(),
                headers=headers,
            )
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            media_type=upstream.headers.get("content-type"),
        )

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def proxy() -> Iterator[ReverseProxy]:
    running = ReverseProxy()
    yield running
    running.stop()


@pytest.mark.parametrize("setting", ["hubspot.webhook_public_base_url", "http.public_base_url"])
@pytest.mark.parametrize("mode", [DeliveryMode.ONLY_V3, DeliveryMode.ONLY_V2])
def test_behind_a_reverse_proxy_the_configured_public_url_is_verified(
    hubspot: HubSpotEmulator,
    start_service: StartService,
    proxy: ReverseProxy,
    setting: str,
    mode: DeliveryMode,
) -> None:
    base = proxy.public_base_url
    if setting == "http.public_base_url":
        service = start_service(hubspot=hubspot_settings(hubspot), http={"public_base_url": base})
    else:
        service = start_service(hubspot=hubspot_settings(hubspot, webhook_public_base_url=base))
    proxy.target = service.url
    public_url = with_encoded_query(f"{base}{ROUTE}", ENCODED_QUERY)
    assert "%3A" in public_url and "%20" in public_url
    deliver_to(hubspot, public_url)

    answer = submit(hubspot, "anne@example.be", deliver="webhook", webhook={"mode": mode})

    assert answer["delivery"]["status"] == 200, answer["delivery"]
    assert [e.dedupe_key for e in stored(service)] == [f"submission:{answer['conversion_id']}"]


def test_behind_a_proxy_without_a_public_url_signatures_cannot_match(
    hubspot: HubSpotEmulator, service: Service, proxy: ReverseProxy
) -> None:
    """The control case: the socket URL is not what HubSpot signed, so the setting is needed."""
    proxy.target = service.url
    deliver_to(hubspot, with_encoded_query(f"{proxy.public_base_url}{ROUTE}", ENCODED_QUERY))

    answer = submit(hubspot, "anne@example.be", deliver="webhook")

    assert answer["delivery"]["status"] == 401
    assert stored(service) == []


def test_without_a_proxy_the_request_url_is_verified_with_its_encoded_query(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    deliver_to(hubspot, with_encoded_query(f"{service.url}{ROUTE}", ENCODED_QUERY))
    answer = submit(hubspot, "anne@example.be", deliver="webhook")
    assert answer["delivery"]["status"] == 200, answer["delivery"]


# -- what is stored ------------------------------------------------------------------------------


def test_a_workflow_body_becomes_one_form_submission_event(
    hubspot: HubSpotEmulator, service_on_each_store: Service
) -> None:
    service = service_on_each_store
    deliver_to(hubspot, f"{service.url}{ROUTE}")
    fields = {
        "firstname": "Claire",
        "site_city": "Clervaux",
        "site_country": "LU",
        "budget": "380000",
    }

    answer = submit(
        hubspot,
        "claire@example.lu",
        deliver="webhook",
        submitted_at=1_717_000_000_000,
        fields=fields,
    )

    assert answer["delivery"]["status"] == 200
    assert json.loads(answer["delivery"]["body"])["stored"] == 1
    [event] = stored(service)
    assert event.source == "hubspot"
    assert event.kind == "form_submission"
    assert event.flow == "lead_intake"
    assert event.dedupe_key == f"submission:{answer['conversion_id']}"
    assert event.status == "pending"
    assert event.payload == {
        "conversion_id": answer["conversion_id"],
        "submitted_at": 1_717_000_000_000,
        "form_guid": FORM,
        "contact_id": answer["contact_id"],
        "page_url": None,
        "values": {"email": "claire@example.lu", **fields},
        "received_via": "webhook",
    }
    # What the lead_intake flow reads back from it:
    assert submission_from_payload(event.payload) == Submission(
        conversion_id=answer["conversion_id"],
        submitted_at=1_717_000_000_000,
        values={"email": "claire@example.lu", **fields},
        page_url=None,
        form_guid=FORM,
        contact_id=answer["contact_id"],
    )


def test_a_redelivered_workflow_body_is_acknowledged_and_stored_once(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    body = json.dumps(a_workflow_body("conv-again")).encode()
    first = signed_post(service, body, secret=hubspot.config.client_secret)
    again = signed_post(service, body, secret=hubspot.config.client_secret)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["duplicates"] == 1
    assert again.json()["event_ids"] == first.json()["event_ids"]
    assert [e.dedupe_key for e in stored(service)] == ["submission:conv-again"]


def test_an_app_batch_gives_one_contact_event_per_distinct_event(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    events = app_events(
        contact_id=1001, portal_id=26_123_456, app_id=4_123_456,
        occurred_at=1_717_000_000_000, contact_created=True,
    )  # fmt: skip
    other_contact = app_events(
        contact_id=1002, portal_id=26_123_456, app_id=4_123_456,
        occurred_at=1_717_000_000_500, contact_created=False,
    )  # fmt: skip
    # HubSpot may repeat an event inside a batch, and retries a batch with attemptNumber + 1.
    batch = [events[1], events[0], events[1], *other_contact]
    retried = [dict(event, attemptNumber=1) for event in (*events, *other_contact)]
    secret = hubspot.config.client_secret

    first = signed_post(service, json.dumps(batch).encode(), secret=secret, style=WebhookStyle.APP)
    second = signed_post(
        service, json.dumps(retried).encode(), secret=secret, style=WebhookStyle.APP
    )

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["stored"] == 3
    assert second.json() | {"event_ids": None} == {
        "stored": 0, "duplicates": 3, "event_ids": None,
    }  # fmt: skip
    contacts = stored(service)
    assert all((e.kind, e.flow) == ("contact", "hubspot_resolve") for e in contacts)
    assert sorted(
        (e.payload["contact_id"], e.payload["event"]["subscriptionType"]) for e in contacts
    ) == [
        ("1001", "contact.creation"),
        ("1001", "contact.propertyChange"),
        ("1002", "contact.propertyChange"),
    ]
    change = next(e for e in contacts if e.payload["event"]["eventId"] == events[1]["eventId"])
    assert change.payload["occurred_at"] == 1_717_000_000_000
    assert change.dedupe_key == (
        f"event:26123456:contact.propertyChange:1001:recent_conversion_date:1717000000000:"
        f"{events[1]['eventId']}"
    )


def test_the_same_delivery_fifty_times_at_once_is_stored_once(
    hubspot: HubSpotEmulator, service_on_each_store: Service
) -> None:
    service = service_on_each_store
    body = json.dumps(a_workflow_body("conv-burst")).encode()
    secret = hubspot.config.client_secret

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda _: signed_post(service, body, secret=secret), range(50)))

    assert [r.status_code for r in results] == [200] * 50, {r.text for r in results}
    answers = [r.json() for r in results]
    assert sum(a["stored"] for a in answers) == 1
    assert sum(a["duplicates"] for a in answers) == 49
    assert len({a["event_ids"][0] for a in answers}) == 1
    assert [e.dedupe_key for e in stored(service)] == ["submission:conv-burst"]


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"conversion_id": "c-1", "email": ',
        b"",
        b'{"budget": NaN}',
        b'{"budget": 1e400}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["truncated", "empty", "nan", "overflow", "nested-too-deep"],
)
def test_a_signed_body_that_is_not_json_is_400(
    hubspot: HubSpotEmulator, service: Service, body: bytes
) -> None:
    result = signed_post(service, body, secret=hubspot.config.client_secret)
    assert result.status_code == 400, result.text
    assert result.json()["error"] == "bad_request"
    assert stored(service) == []


def test_a_body_over_the_size_limit_is_413(
    hubspot: HubSpotEmulator, start_service: StartService
) -> None:
    service = start_service(hubspot=hubspot_settings(hubspot), http={"max_body_bytes": 4096})
    big = json.dumps(a_workflow_body(message="x" * 5000)).encode()
    secret = hubspot.config.client_secret

    declared = signed_post(service, big, secret=secret)
    streamed = requests.post(
        f"{service.url}{ROUTE}",
        data=iter([big[:3000], big[3000:]]),  # chunked: no Content-Length to refuse up front
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    just_fits = signed_post(
        service, json.dumps(a_workflow_body(message="x" * 3000)).encode(), secret=secret
    )

    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert declared.json()["error"] == "payload_too_large"
    assert just_fits.status_code == 200
    assert [e.dedupe_key for e in stored(service)] == ["submission:conv-1"]


@pytest.mark.parametrize("store", ["postgresql-down", "sqlite-without-tables"])
def test_store_unavailable_is_503_with_retry_after(
    hubspot: HubSpotEmulator, start_service: StartService, tmp_path: Path, store: str
) -> None:
    """HubSpot retries a 5xx (workflows for 3 days): the delivery is not lost, only late."""
    url = (
        "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
        if store == "postgresql-down"
        else f"sqlite:///{tmp_path / 'empty.db'}"
    )
    service = start_service(url, upgrade=False, hubspot=hubspot_settings(hubspot))

    response = signed_post(service, a_workflow_body(), secret=hubspot.config.client_secret)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json()["error"] == "unavailable"


@pytest.mark.parametrize("configured", ["no-hubspot-section", "empty-client-secret"])
def test_hubspot_not_configured_is_503(
    start_service: StartService, hubspot: HubSpotEmulator, configured: str
) -> None:
    """503, not 401: HubSpot keeps retrying, and the deliveries land once we are configured."""
    if configured == "no-hubspot-section":
        service = start_service()
    else:
        service = start_service(hubspot=hubspot_settings(hubspot, client_secret=""))
    result = signed_post(service, a_workflow_body(), secret=hubspot.config.client_secret)
    assert result.status_code == 503
    assert result.json()["message"] == "HubSpot is not configured on this service"
    assert stored(service) == []


# -- bodies we do not understand -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"hello": "world"}, "neither a workflow body (object) nor an app-webhook batch (array)"),
        ("just a string", "neither a workflow body (object) nor an app-webhook batch (array)"),
        ([{"objectId": 1}, 42], "an app-webhook batch holds a non-object"),
        (
            {"conversion_id": "c-9", "email": "x@example.be", "submitted_at": 1},
            "HubSpot webhook body lacks form_guid",
        ),
    ],
    ids=["unknown-object", "string", "batch-with-a-number", "workflow-body-without-form"],
)
def test_an_unknown_shape_is_stored_then_dead_lettered_with_a_reason(
    hubspot: HubSpotEmulator,
    service_on_each_store: Service,
    body: Any,
    reason: str,
) -> None:
    service = service_on_each_store
    raw = json.dumps(body).encode()
    result = signed_post(service, raw, secret=hubspot.config.client_secret)

    assert result.status_code == 200  # stored: nothing is lost, a person can look at it
    [event] = stored(service)
    assert (event.kind, event.flow) == ("unrecognised", "hubspot_resolve")
    assert event.payload["body"] == raw.decode()

    outcome = service.runtime.new_worker().run_once(event_id=event.id)

    assert outcome is not None
    assert outcome.status == "dead"
    assert outcome.category == "permanent_data"
    assert outcome.error is not None and "HubSpot delivery not understood" in outcome.error
    assert reason in outcome.error
    assert outcome.attempts == 1  # permanent: no retries spent on it


def test_text_postgresql_cannot_store_is_cleaned_not_refused_forever(
    hubspot: HubSpotEmulator, service_on_each_store: Service
) -> None:
    """NUL and lone surrogates are valid JSON escapes that ``jsonb`` refuses.

    Refused by the store, the delivery would be answered 503 and retried by HubSpot for days,
    failing each time; cleaned, the quote request goes through.
    """
    service = service_on_each_store
    raw = (
        json.dumps(a_workflow_body("conv-nul", message="bonjour\u0000 le monde"))[:-1]
        + ', "city": "Li\\ud800ge"}'
    ).encode()
    assert b"\\u0000" in raw and b"\\ud800" in raw

    result = signed_post(service, raw, secret=hubspot.config.client_secret)

    assert result.status_code == 200, result.text
    [event] = stored(service)
    assert event.payload["values"]["message"] == "bonjour le monde"
    assert event.payload["values"]["city"] == "Li\ufffdge"
