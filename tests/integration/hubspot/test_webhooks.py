"""The emulator's webhook sender against a receiver that uses the production verifier."""

from __future__ import annotations

import pytest

from connectors.hubspot_models import Submission
from sandbox.hubspot import (
    DeliveryMode,
    WebhookStyle,
    app_events,
    send_webhook,
    with_encoded_query,
    workflow_body,
)

BODY = workflow_body(
    contact_id=1001,
    email="claire@example.lu",
    conversion_id="5b0f7a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
    form_guid="6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f",
    submitted_at=1_717_000_000_000,
    values={"firstname": "Claire", "site_city": "Clervaux", "budget": "380000"},
)
ENCODED = {"source": "hubspot:workflow", "tags": "quote,form (fr)"}


@pytest.mark.parametrize(
    ("style", "mode", "status", "reason", "version"),
    [
        (WebhookStyle.WORKFLOW, DeliveryMode.VALID, 204, "ok", "v3"),
        (WebhookStyle.APP, DeliveryMode.VALID, 204, "ok", "v3"),
        (WebhookStyle.WORKFLOW, DeliveryMode.ONLY_V2, 204, "ok", "v2"),
        (WebhookStyle.APP, DeliveryMode.ONLY_V1, 204, "ok", "v1"),
        (WebhookStyle.WORKFLOW, DeliveryMode.ONLY_V1, 204, "ok", "v1"),
        (WebhookStyle.WORKFLOW, DeliveryMode.ONLY_V3, 204, "ok", "v3"),
        (WebhookStyle.WORKFLOW, DeliveryMode.BAD_SIGNATURE, 401, "signature_mismatch", "v3"),
        (WebhookStyle.WORKFLOW, DeliveryMode.STALE, 401, "stale_timestamp", "v3"),
        (WebhookStyle.WORKFLOW, DeliveryMode.FUTURE, 401, "future_timestamp", "v3"),
        (WebhookStyle.WORKFLOW, DeliveryMode.TAMPERED, 401, "signature_mismatch", "v3"),
    ],
)
@pytest.mark.parametrize("encoded", [False, True], ids=["plain-url", "encoded-url"])
def test_each_mode_gets_the_expected_verdict(
    receiver,
    style: WebhookStyle,
    mode: DeliveryMode,
    status: int,
    reason: str,
    version: str,
    encoded: bool,
) -> None:
    url = with_encoded_query(receiver.url, ENCODED) if encoded else receiver.url
    payload = (
        BODY
        if style is WebhookStyle.WORKFLOW
        else app_events(
            contact_id=1001,
            portal_id=26_123_456,
            app_id=4_123_456,
            occurred_at=1,
            contact_created=True,
        )
    )
    result = send_webhook(
        url, payload, client_secret=receiver.client_secret, style=style, mode=mode
    )

    assert result.error is None
    assert result.status_code == status
    (delivery,) = receiver.deliveries
    assert (delivery.verdict.reason, delivery.verdict.version) == (reason, version)
    assert delivery.uri == result.url


def test_encoded_url_really_carries_escapes_the_v3_table_decodes(receiver) -> None:
    url = with_encoded_query(receiver.url, ENCODED)
    assert "source=hubspot%3Aworkflow&tags=quote%2Cform%20%28fr%29" in url
    result = send_webhook(url, BODY, client_secret=receiver.client_secret)
    assert result.status_code == 204
    assert receiver.deliveries[0].uri.endswith("tags=quote%2Cform%20%28fr%29")


def test_headers_of_a_valid_workflow_delivery(receiver) -> None:
    send_webhook(receiver.url, BODY, client_secret=receiver.client_secret)
    headers = receiver.deliveries[0].headers
    assert headers["x-hubspot-signature-version"] == "v2"
    assert len(headers["x-hubspot-signature"]) == 64
    assert headers["x-hubspot-request-timestamp"].isdigit()
    assert headers["x-hubspot-signature-v3"].endswith("=")
    assert headers["content-type"] == "application/json"


def test_workflow_body_is_the_intake_contract(receiver) -> None:
    send_webhook(receiver.url, BODY, client_secret=receiver.client_secret)
    received = receiver.deliveries[0].json()
    assert received == {
        "hs_object_id": "1001",
        "email": "claire@example.lu",
        "conversion_id": "5b0f7a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "form_guid": "6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f",
        "submitted_at": 1_717_000_000_000,
        "firstname": "Claire",
        "site_city": "Clervaux",
        "budget": "380000",
    }
    submission = Submission.from_workflow_body(received)
    assert submission.contact_id == "1001"
    assert submission.values["site_city"] == "Clervaux"
    assert "hs_object_id" not in submission.values


def test_app_batch_shape() -> None:
    events = app_events(
        contact_id="1001",
        portal_id=1,
        app_id=2,
        occurred_at=1_717_000_000_000,
        contact_created=True,
    )
    assert [e["subscriptionType"] for e in events] == [
        "contact.creation",
        "contact.propertyChange",
    ]
    change = events[1]
    assert change["propertyName"] == "recent_conversion_date"
    assert change["propertyValue"] == "1717000000000"
    assert change["objectId"] == 1001
    assert events[0]["changeFlag"] == "NEW"
    assert {"eventId", "subscriptionId", "portalId", "appId", "occurredAt", "attemptNumber"} <= set(
        change
    )
    existing = app_events(contact_id=7, portal_id=1, app_id=2, occurred_at=1, contact_created=False)
    assert [e["subscriptionType"] for e in existing] == ["contact.propertyChange"]


def test_unreachable_receiver_is_reported_not_raised(closed_port_url: str) -> None:
    result = send_webhook(f"{closed_port_url}/webhooks/hubspot", BODY, client_secret="s")
    assert result.status_code is None
    assert result.error
    assert "ConnectionError" in result.error
