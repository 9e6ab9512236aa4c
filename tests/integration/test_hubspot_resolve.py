"""The ``hubspot_resolve`` flow: deliveries that name a contact become submission events.

App-webhook batches (and a workflow body without the conversion id) say "contact 1001
converted", not which submission. The resolver reads the contact and its latest submission
from the HubSpot emulator and enqueues the same ``form_submission`` event the workflow
webhook and the poller enqueue, under the same dedupe key, so the three copies are one.
Deliveries go through the real route; the worker runs the resolver event by event.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import sqlalchemy as sa

from naturhome_sync.runtime import Runtime
from naturhome_sync.service import Service
from naturhome_sync.settings import Settings, load_settings
from naturhome_sync.store import Event, NewEvent
from naturhome_sync.store.tables import metadata
from naturhome_sync.worker import Outcome
from sandbox.hubspot import (
    QUOTE_FORM_GUID,
    DeliveryMode,
    HubSpotEmulator,
    HubSpotEmulatorConfig,
    WebhookStyle,
    app_events,
)
from sandbox.hubspot.webhooks import signature_headers

FORM = QUOTE_FORM_GUID
OTHER_FORM = "0b6e2c1d-7a54-4e3f-9c1a-5d4e3f2a1b0c"  # a second quote form (e.g. the German site)
#: What the emulator writes in recent_conversion_event_name for its (quote) forms.
QUOTE_FORM_NAME = HubSpotEmulatorConfig.form_name


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubSpotEmulator]:
    config = HubSpotEmulatorConfig(
        state_dir=tmp_path_factory.mktemp("hubspot"), form_guids=(FORM, OTHER_FORM)
    )
    with HubSpotEmulator(config) as running:
        yield running


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def shared_service(
    request: pytest.FixtureRequest,
    emulator: HubSpotEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    """The HTTP route (no background worker: tests run the resolver event by event), one per
    store for the module; ``service`` empties its store before each test."""
    root = tmp_path_factory.mktemp("service")
    database: dict[str, str] = {}
    schema = f"resolve_{uuid.uuid4().hex[:10]}"
    admin = None
    if request.param == "postgresql":
        base_url: str = request.getfixturevalue("postgres_base_url")
        admin = sa.create_engine(base_url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in base_url else "?"
        database["url"] = f"{base_url}{separator}options={quote(f'-csearch_path={schema}')}"
    config = emulator.config
    settings = isolated_settings(
        root / "state",
        database=database,
        hubspot={
            "access_token": config.access_token,
            "client_secret": config.client_secret,
            "base_url": emulator.base_url,
            "portal_id": config.portal_id,
            "form_guids": [FORM, OTHER_FORM],
            "quote_form_names": [QUOTE_FORM_NAME],
        },
    )
    runtime = Runtime(settings)
    runtime.upgrade()
    try:
        with Service(runtime, workers=0, scheduler=False) as running:
            yield running
    finally:
        runtime.close()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture
def service(shared_service: Service, hubspot: HubSpotEmulator) -> Service:
    """The module's service on an empty store (events, runs, cursors, locks), its webhook
    URL given to the emulator."""
    with shared_service.runtime.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    requests.post(
        f"{hubspot.base_url}/__sandbox/config",
        json={"service_webhook_url": f"{shared_service.url}/webhooks/hubspot"},
        timeout=5,
    ).raise_for_status()
    return shared_service


def isolated_settings(state_dir: Path, **overrides: Any) -> Settings:
    """The tests' settings (as the shared ``settings_factory`` makes them), built outside any
    test (module scope), so kept blind to the developer's NATURHOME_* and ./.env by hand."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("NATURHOME_") and not name.startswith("NATURHOME_TEST_"):
                patch.delenv(name)
        state_dir.parent.mkdir(parents=True, exist_ok=True)
        patch.chdir(state_dir.parent)
        return load_settings(
            state_dir=state_dir,
            http={"port": 0},
            worker={"poll_interval_seconds": 0.05, "lease_seconds": 30, "max_attempts": 3},
            retry={"base_seconds": 0.01, "max_seconds": 0.05, "jitter": 0.1},
            plugins=["naturhome_sync.testing"],
            log={"format": "json"},
            **overrides,
        )


def submit(emulator: HubSpotEmulator, email: str, **options: Any) -> dict[str, Any]:
    fields = options.pop("fields", {})
    values = [{"name": "email", "value": email}]
    values += [{"name": name, "value": value} for name, value in fields.items()]
    body = {"form_guid": FORM, "values": values, **options}
    response = requests.post(f"{emulator.base_url}/__sandbox/submissions", json=body, timeout=30)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def create_contact(emulator: HubSpotEmulator, email: str) -> str:
    """A contact that exists in HubSpot without having submitted any form (CRM v3 API)."""
    response = requests.post(
        f"{emulator.base_url}/crm/v3/objects/contacts",
        json={"properties": {"email": email, "firstname": "Paul"}},
        headers={"Authorization": f"Bearer {emulator.config.access_token}"},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    contact_id: str = response.json()["id"]
    return contact_id


def post_signed(service: Service, emulator: HubSpotEmulator, body: Any) -> requests.Response:
    raw = json.dumps(body).encode()
    url = f"{service.url}/webhooks/hubspot"
    headers = signature_headers(
        method="POST", url=url, body=raw, client_secret=emulator.config.client_secret,
        style=WebhookStyle.APP, mode=DeliveryMode.VALID, now_ms=int(time.time() * 1000),
    )  # fmt: skip
    response = requests.post(
        url, data=raw, headers={**headers, "Content-Type": "application/json"}, timeout=5
    )
    assert response.status_code == 200, response.text
    return response


def conversion_event(contact_id: str | int, occurred_at: int) -> dict[str, Any]:
    [event] = app_events(
        contact_id=contact_id, portal_id=26_123_456, app_id=4_123_456,
        occurred_at=occurred_at, contact_created=False,
    )  # fmt: skip
    return event


def events(service: Service, kind: str) -> list[Event]:
    found = [e for e in service.runtime.inbox.list(source="hubspot", limit=None) if e.kind == kind]
    return sorted(found, key=lambda e: e.id)


def run(service: Service, event: Event) -> Outcome:
    outcome = service.runtime.new_worker().run_once(event_id=event.id)
    assert outcome is not None, f"event {event.id} was not due"
    return outcome


def api_calls(emulator: HubSpotEmulator) -> dict[str, int]:
    calls: dict[str, int] = requests.get(f"{emulator.base_url}/__sandbox/stats", timeout=5).json()[
        "calls"
    ]
    return calls


# -- resolved ------------------------------------------------------------------------------------


def test_a_conversion_event_becomes_the_submission_event_every_path_shares(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    fields = {"firstname": "Claire", "site_country": "LU", "budget": "380000"}
    submitted_at = int(time.time() * 1000) - 5000
    answer = submit(
        hubspot, "claire@example.lu", deliver="webhook", webhook={"style": "app"},
        submitted_at=submitted_at, fields=fields,
    )  # fmt: skip
    assert answer["delivery"]["status"] == 200
    creation, change = sorted(
        events(service, "contact"), key=lambda e: e.payload["event"]["subscriptionType"]
    )
    assert change.payload["event"]["propertyName"] == "recent_conversion_date"

    resolved = run(service, change)

    assert resolved.status == "done", resolved.error
    assert resolved.counters == {"submissions_found": 1}
    [submission] = events(service, "form_submission")
    assert submission.dedupe_key == f"submission:{answer['conversion_id']}"
    assert submission.flow == "lead_intake"
    assert submission.payload == {
        "conversion_id": answer["conversion_id"],
        "submitted_at": submitted_at,
        "form_guid": FORM,
        "contact_id": answer["contact_id"],  # from the event: the forms API does not say
        "page_url": "https://www.naturhome.be/fr/demande-de-devis",
        "values": {"email": "claire@example.lu", **fields},
        "received_via": "contact_event",
    }
    # Read the contact (its e-mail), then one page of the form's submissions per form.
    assert api_calls(hubspot) == {
        "GET /crm/v3/objects/contacts/{contact_id}": 1,
        "GET /form-integrations/v1/submissions/forms/{form_guid}": 2,
    }

    # The creation event of the same contact, and the poller, find the same submission:
    # both are absorbed by the dedupe key.
    assert run(service, creation).status == "done"
    polled = service.runtime.run_flow("hubspot_poll")
    assert polled.counters["submissions_new"] == 0
    assert [e.id for e in events(service, "form_submission")] == [submission.id]


def test_the_latest_submission_of_the_contact_wins_across_forms(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    now = int(time.time() * 1000)
    submit(hubspot, "claire@example.lu", submitted_at=now - 60_000)
    newest = submit(hubspot, "claire@example.lu", submitted_at=now - 1000, form_guid=OTHER_FORM)
    submit(hubspot, "someone-else@example.be", submitted_at=now)
    post_signed(service, hubspot, [conversion_event(newest["contact_id"], now - 1000)])

    outcome = run(service, events(service, "contact")[0])

    assert outcome.status == "done"
    [submission] = events(service, "form_submission")
    assert submission.payload["conversion_id"] == newest["conversion_id"]
    assert submission.payload["form_guid"] == OTHER_FORM


def test_a_workflow_body_without_conversion_id_is_resolved_by_its_email(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    answer = submit(hubspot, "Marc.Lejeune@example.be")
    post_signed(
        service,
        hubspot,
        {"hs_object_id": answer["contact_id"], "email": "marc.lejeune@example.be"},
    )
    [contact] = events(service, "contact")
    assert contact.dedupe_key.startswith("contact-body:")

    outcome = run(service, contact)

    assert outcome.status == "done", outcome.error
    [submission] = events(service, "form_submission")
    assert submission.payload["conversion_id"] == answer["conversion_id"]
    assert submission.payload["contact_id"] == answer["contact_id"]
    assert "GET /crm/v3/objects/contacts/{contact_id}" not in api_calls(hubspot)  # e-mail given


# -- ignored -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "summary"),
    [
        (
            {"subscriptionType": "contact.creation", "changeSource": "CRM", "changeFlag": "NEW"},
            "contact created by CRM, not a form",
        ),
        (
            {"subscriptionType": "contact.creation", "changeSource": "IMPORT", "changeFlag": "NEW"},
            "contact created by IMPORT, not a form",
        ),
        (
            {"propertyName": "lifecyclestage", "propertyValue": "lead"},
            "lifecyclestage changed: not a form conversion",
        ),
        ({"subscriptionType": "contact.deletion"}, "contact.deletion carries no form submission"),
    ],
    ids=["created-in-crm", "imported", "other-property", "deletion"],
)
def test_events_that_are_no_form_submission_are_ignored_without_calls(
    hubspot: HubSpotEmulator, service: Service, change: dict[str, str], summary: str
) -> None:
    event = {**conversion_event(1001, int(time.time() * 1000)), **change}
    if "propertyName" not in change and event["subscriptionType"] != "contact.propertyChange":
        event.pop("propertyName")
        event.pop("propertyValue")
    post_signed(service, hubspot, [event])

    outcome = run(service, events(service, "contact")[0])

    assert outcome.status == "done"
    assert outcome.counters == {"ignored": 1}
    assert outcome.summary == summary
    assert events(service, "form_submission") == []
    assert api_calls(hubspot) == {}


# -- not found (yet) -----------------------------------------------------------------------------


def run_until_finished(service: Service, event: Event) -> list[Outcome]:
    """Run the event's attempts as the worker would, waiting out the (short) test backoff."""
    outcomes: list[Outcome] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        outcome = service.runtime.new_worker().run_once(event_id=event.id)
        if outcome is None:
            time.sleep(0.02)
            continue
        outcomes.append(outcome)
        if outcome.status != "retry":
            return outcomes
    raise AssertionError(f"event {event.id} still retrying: {outcomes}")


def test_no_quote_submission_after_the_lag_allowance_is_not_a_quote_request(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    """A conversion on a form that is no quote form (a newsletter sign-up, its name not in
    the event): the forms API gets three attempts to show a quote submission, then the
    event is done, not dead (no Integration_Error__c for a newsletter)."""
    assert service.runtime.settings.worker.max_attempts == 3  # the allowance is capped by it
    contact_id = create_contact(hubspot, "paul@example.be")
    post_signed(service, hubspot, [conversion_event(contact_id, int(time.time() * 1000))])
    [contact] = events(service, "contact")

    outcomes = run_until_finished(service, contact)

    assert [o.status for o in outcomes] == ["retry", "retry", "done"]
    assert outcomes[-1].counters == {"not_a_quote_request": 1}
    assert outcomes[-1].summary == (
        "no quote-form submission of paul@example.be after 3 attempts: a conversion on another form"
    )
    done = service.runtime.inbox.get(contact.id)
    assert done is not None and done.status == "done"
    assert events(service, "form_submission") == []


def test_with_more_attempts_the_allowance_still_ends_at_the_third(
    hubspot: HubSpotEmulator, settings_factory: Any, database_url: str
) -> None:
    config = hubspot.config
    runtime = Runtime(
        settings_factory(
            database_url,
            worker={"max_attempts": 8},
            hubspot={
                "access_token": config.access_token,
                "client_secret": config.client_secret,
                "base_url": hubspot.base_url,
                "form_guids": [FORM],
            },
        )
    )
    runtime.upgrade()
    try:
        contact_id = create_contact(hubspot, "paul@example.be")
        stored = runtime.inbox.enqueue(
            NewEvent(
                source="hubspot",
                kind="contact",
                flow="hubspot_resolve",
                dedupe_key="event:test",
                payload={
                    "contact_id": contact_id,
                    "event": conversion_event(contact_id, int(time.time() * 1000)),
                },
            )
        )
        statuses = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "done" not in statuses:
            outcome = runtime.new_worker().run_once(event_id=stored.event_id)
            if outcome is None:
                time.sleep(0.02)
            else:
                statuses.append(outcome.status)
        assert statuses == ["retry", "retry", "done"]
    finally:
        runtime.close()


def test_a_conversion_on_another_form_is_recognised_from_the_event_alone(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    contact_id = create_contact(hubspot, "paul@example.be")
    event = {
        **conversion_event(contact_id, int(time.time() * 1000)),
        "propertyName": "recent_conversion_event_name",
        "propertyValue": "Newsletter : inscription",
    }
    requests.post(
        f"{hubspot.base_url}/__sandbox/reset", json={"scope": "stats"}, timeout=5
    ).raise_for_status()
    post_signed(service, hubspot, [event])

    outcome = run(service, events(service, "contact")[0])

    assert (outcome.status, outcome.attempts) == ("done", 1)
    assert outcome.counters == {"not_a_quote_request": 1}
    assert outcome.summary == "conversion on 'Newsletter : inscription', not a quote form"
    assert api_calls(hubspot) == {}  # no contact read, no scan of the forms


def test_a_conversion_named_after_a_quote_form_is_resolved(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    """HubSpot may put the page before the form's name: a configured name inside it counts."""
    answer = submit(hubspot, "claire@example.lu")
    event = {
        **conversion_event(answer["contact_id"], int(time.time() * 1000)),
        "propertyName": "recent_conversion_event_name",
        "propertyValue": f"Naturhome - devis: {QUOTE_FORM_NAME.upper()}",
    }
    post_signed(service, hubspot, [event])

    outcome = run(service, events(service, "contact")[0])

    assert outcome.status == "done", outcome.error
    assert outcome.counters == {"submissions_found": 1}
    [submission] = events(service, "form_submission")
    assert submission.payload["conversion_id"] == answer["conversion_id"]


def test_a_submission_that_shows_up_late_is_found_on_a_later_attempt(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    contact_id = create_contact(hubspot, "paul@example.be")
    post_signed(service, hubspot, [conversion_event(contact_id, int(time.time() * 1000))])
    [contact] = events(service, "contact")
    first = run(service, contact)
    assert (first.status, first.category) == ("retry", "transient")

    late = submit(hubspot, "paul@example.be")
    outcomes = run_until_finished(service, contact)

    assert outcomes[-1].status == "done"
    [submission] = events(service, "form_submission")
    assert submission.payload["conversion_id"] == late["conversion_id"]
    assert submission.payload["contact_id"] == contact_id


def test_a_contact_that_no_longer_exists_dies_at_once(
    hubspot: HubSpotEmulator, service: Service
) -> None:
    post_signed(service, hubspot, [conversion_event(987_654, int(time.time() * 1000))])

    outcome = run(service, events(service, "contact")[0])

    assert (outcome.status, outcome.category, outcome.attempts) == ("dead", "permanent_data", 1)
    assert outcome.error is not None and "get contact" in outcome.error
