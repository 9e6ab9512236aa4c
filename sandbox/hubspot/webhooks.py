"""Sends webhooks the way HubSpot does, including deliberately broken ones for tests.

Two body styles reach the service:

* ``workflow``: the "Send a webhook" workflow action with a customised body, one flat JSON
  object per submission. This is the contract we ask the customer's admin to configure
  (``docs/hubspot.md``): ``hs_object_id``, ``email``, ``conversion_id``, ``form_guid``,
  ``submitted_at`` (epoch ms) and the quote form's fields by their internal names.
  HubSpot signs it with v2 (plus v3 headers on current platforms).
* ``app``: an app-webhook batch, a JSON array of ``contact.creation`` and
  ``contact.propertyChange`` (on ``recent_conversion_date``) events, signed with v1 (plus v3).

Signatures are computed over the exact URL the request goes to: the request is prepared by
``requests`` first (which may normalise escapes) and signed over ``prepared.url``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import requests

from sandbox.hubspot.signing import sign_v1, sign_v2, sign_v3

STALE_BY_MS = 6 * 60 * 1000
FUTURE_BY_MS = 10 * 60 * 1000


class WebhookStyle(StrEnum):
    WORKFLOW = "workflow"
    APP = "app"


class DeliveryMode(StrEnum):
    """How the delivery is signed.

    ``valid``: the legacy signature for the style (v2 for workflow, v1 for app) plus v3.
    ``only_v1`` / ``only_v2`` / ``only_v3``: just that scheme's headers.
    ``bad_signature``: every signature made with a wrong secret.
    ``stale``: v3 timestamp six minutes old (signatures otherwise correct: a replay).
    ``future``: v3 timestamp ten minutes ahead.
    ``tampered``: signed over the body, then the body altered (a trailing space: still JSON).
    """

    VALID = "valid"
    ONLY_V1 = "only_v1"
    ONLY_V2 = "only_v2"
    ONLY_V3 = "only_v3"
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale"
    FUTURE = "future"
    TAMPERED = "tampered"


@dataclass(frozen=True)
class DeliveryResult:
    url: str
    status_code: int | None
    body: str
    error: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "status": self.status_code, "body": self.body, "error": self.error}


def workflow_body(
    *,
    contact_id: int | str,
    email: str,
    conversion_id: str,
    form_guid: str,
    submitted_at: int,
    values: Mapping[str, str],
) -> dict[str, Any]:
    """The flat customised body of the workflow action (the service's intake contract)."""
    body: dict[str, Any] = dict(values)
    body.update(
        {
            "hs_object_id": str(contact_id),
            "email": email,
            "conversion_id": conversion_id,
            "form_guid": form_guid,
            "submitted_at": submitted_at,
        }
    )
    return body


def app_events(
    *,
    contact_id: int | str,
    portal_id: int,
    app_id: int,
    occurred_at: int,
    contact_created: bool,
    attempt_number: int = 0,
) -> list[dict[str, Any]]:
    """The batch an app subscribed to contact creation and ``recent_conversion_date`` gets."""
    common = {
        "objectId": int(contact_id),
        "changeSource": "FORM",
        "portalId": portal_id,
        "appId": app_id,
        "occurredAt": occurred_at,
        "attemptNumber": attempt_number,
    }
    events: list[dict[str, Any]] = []
    if contact_created:
        events.append(
            {
                "eventId": random.randint(1, 2**31),
                "subscriptionId": 1_100_001,
                "subscriptionType": "contact.creation",
                "changeFlag": "NEW",
                **common,
            }
        )
    events.append(
        {
            "eventId": random.randint(1, 2**31),
            "subscriptionId": 1_100_002,
            "subscriptionType": "contact.propertyChange",
            "propertyName": "recent_conversion_date",
            "propertyValue": str(occurred_at),
            **common,
        }
    )
    return events


def with_encoded_query(url: str, params: Mapping[str, str]) -> str:
    """Append query parameters with every reserved character percent-encoded.

    ``{"source": "hubspot:workflow", "tags": "a,b (c)"}`` becomes
    ``source=hubspot%3Aworkflow&tags=a%2Cb%20%28c%29``: escapes that HubSpot's v3 table
    decodes (``%3A``, ``%2C``, ``%28``) next to ones it keeps (``%20``).
    """
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


def signature_headers(
    *,
    method: str,
    url: str,
    body: bytes,
    client_secret: str,
    style: WebhookStyle,
    mode: DeliveryMode,
    now_ms: int,
) -> dict[str, str]:
    secret = (
        client_secret + "-not-the-secret" if mode is DeliveryMode.BAD_SIGNATURE else client_secret
    )
    timestamp = now_ms
    if mode is DeliveryMode.STALE:
        timestamp -= STALE_BY_MS
    elif mode is DeliveryMode.FUTURE:
        timestamp += FUTURE_BY_MS
    legacy = "v2" if style is WebhookStyle.WORKFLOW else "v1"
    if mode is DeliveryMode.ONLY_V1:
        legacy = "v1"
    elif mode is DeliveryMode.ONLY_V2:
        legacy = "v2"
    headers: dict[str, str] = {}
    if mode is not DeliveryMode.ONLY_V3:
        headers["X-HubSpot-Signature"] = (
            sign_v1(secret, body) if legacy == "v1" else sign_v2(secret, method, url, body)
        )
        headers["X-HubSpot-Signature-Version"] = legacy
    if mode not in (DeliveryMode.ONLY_V1, DeliveryMode.ONLY_V2):
        headers["X-HubSpot-Signature-v3"] = sign_v3(secret, method, url, body, timestamp)
        headers["X-HubSpot-Request-Timestamp"] = str(timestamp)
    return headers


def send_webhook(
    url: str,
    payload: Any,
    *,
    client_secret: str,
    style: WebhookStyle = WebhookStyle.WORKFLOW,
    mode: DeliveryMode = DeliveryMode.VALID,
    method: str = "POST",
    timeout_s: float = 5.0,
    now_ms: int | None = None,
    session: requests.Session | None = None,
) -> DeliveryResult:
    """POST one signed delivery and report what the receiver answered; never raises.

    ``payload`` is JSON-serialised compactly unless it is already ``bytes``.
    """
    body = (
        payload
        if isinstance(payload, bytes)
        else json.dumps(payload, separators=(",", ":")).encode()
    )
    http = session or requests.Session()
    prepared = http.prepare_request(
        requests.Request(method, url, data=body, headers={"Content-Type": "application/json"})
    )
    assert prepared.url is not None
    signed_url = prepared.url
    headers = signature_headers(
        method=method,
        url=signed_url,
        body=body,
        client_secret=client_secret,
        style=WebhookStyle(style),
        mode=DeliveryMode(mode),
        now_ms=int(time.time() * 1000) if now_ms is None else now_ms,
    )
    headers["User-Agent"] = "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks)"
    prepared.headers.update(headers)
    if mode is DeliveryMode.TAMPERED:
        prepared.prepare_body(body + b" ", None)
    try:
        response = http.send(prepared, timeout=timeout_s, allow_redirects=False)
    except requests.RequestException as error:
        return DeliveryResult(signed_url, None, "", f"{type(error).__name__}: {error}", headers)
    finally:
        if session is None:
            http.close()
    return DeliveryResult(signed_url, response.status_code, response.text, None, headers)
