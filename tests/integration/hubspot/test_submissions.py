"""Polling form submissions: the connector against the emulator over loopback.

Paging through many submissions is in ``test_submission_paging.py`` (one shared set of 120).
"""

from __future__ import annotations

import pytest

from connectors.hubspot import HubSpotClient, HubSpotNotFoundError

FORM = "6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f"
BASE_MS = 1_717_000_000_000


def test_submission_values_are_typed(client: HubSpotClient, sandbox) -> None:
    sandbox.submit(
        "Marie.Dupont@example.be",
        firstname="Marie",
        lastname="Dupont",
        preferred_language="fr",
        budget=450000,
        living_area_m2="165",
        site_city="Gouvy",
    )
    (submission,) = client.list_submissions(FORM).submissions
    assert submission.email == "Marie.Dupont@example.be"
    assert submission.values["budget"] == "450000"
    assert submission.values["preferred_language"] == "fr"
    assert submission.form_guid == FORM
    assert submission.contact_id is None
    assert submission.page_url
    assert submission.page_url.startswith("https://")
    assert submission.file_urls() == []


def test_unknown_form_is_not_found(client: HubSpotClient, sandbox) -> None:
    with pytest.raises(HubSpotNotFoundError) as caught:
        client.list_submissions("00000000-0000-0000-0000-000000000000")
    assert caught.value.code == "OBJECT_NOT_FOUND"
    raw = sandbox.get("/form-integrations/v1/submissions/forms/nope")
    assert raw.status_code == 404
    assert {"status", "message", "correlationId", "category"} <= set(raw.json())


def test_latest_submission_for_contact(client: HubSpotClient, sandbox) -> None:
    sandbox.submit("anne@example.be", submitted_at=BASE_MS, message="first")
    sandbox.submit("other@example.be", submitted_at=BASE_MS + 1000)
    newest = sandbox.submit("ANNE@example.be", submitted_at=BASE_MS + 2000, message="second")
    sandbox.submit("other@example.be", submitted_at=BASE_MS + 3000)

    found = client.latest_submission_for_contact(FORM, "anne@example.be")
    assert found is not None
    assert found.conversion_id == newest["conversion_id"]
    assert found.values["message"] == "second"
    assert client.latest_submission_for_contact(FORM, "nobody@example.be") is None
    assert (
        client.latest_submission_for_contact(FORM, "anne@example.be", not_before_ms=BASE_MS + 2500)
        is None
    )
