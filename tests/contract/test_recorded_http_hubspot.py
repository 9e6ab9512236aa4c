"""The HubSpot connector's requests paths against answers recorded from the real service.

The forms submissions endpoint and uploaded-file downloads go through the connector's own
``requests.Session``; here they meet the answers ``/work/shared/reference/hubspot_wrike_luxdoc.md``
quotes from HubSpot (§1c the forms page, §1d the file link and its redirect, §4 the 429 body
with ``policyName`` and the 404 ``OBJECT_NOT_FOUND``), served by ``responses`` on the real
hosts, independently of our emulator. Contacts go through hubspot-api-client's generated
API, which uses urllib3 directly: ``responses`` cannot see those calls, so they are left to
the emulator tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from pydantic import SecretStr
from responses import matchers

from connectors.hubspot import HubSpotClient, HubSpotNotFoundError
from connectors.hubspot_settings import HubSpotSettings
from naturhome_sync.errors import RateLimitedError

API = "https://api.hubapi.com"
FORM = "6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f"
SUBMISSIONS = f"{API}/form-integrations/v1/submissions/forms/{FORM}"
TOKEN = "pat-eu1-00000000-0000-0000-0000-000000000000"
PORTAL = 26123456
FILE_LINK = (
    f"{API}/form-integrations/v1/uploaded-files/signed-url-redirect/171234567890"
    f"?portalId={PORTAL}&sign=9Gxq3yQbX3H0t&conversionId=9f0e6b2a-1c1d&filename=plan.pdf"
)
STORAGE = "https://f.hubspotusercontent-eu1.net/hubfs/26123456/form-uploads/plan.pdf"


def submission(conversion_id: str, submitted_at: int, email: str) -> dict[str, Any]:
    """One result of the forms page (§1c): values as ``{name, value}`` pairs, time in ms."""
    return {
        "conversionId": conversion_id,
        "submittedAt": submitted_at,
        "values": [
            {"name": "email", "value": email, "objectTypeId": "0-1"},
            {"name": "firstname", "value": "Claire", "objectTypeId": "0-1"},
        ],
        "pageUrl": "https://www.naturhome.be/fr/demande-de-devis",
    }


def rate_limited(policy: str, message: str) -> dict[str, Any]:
    """HubSpot's 429 body (§4): ``errorType`` RATE_LIMIT and the policy that was hit."""
    return {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": "8b1f0c7e-5b7a-4d0e-9b5e-3f1c2a9d8e7f",
        "policyName": policy,
    }


NOT_FOUND = {
    "status": "error",
    "message": "resource not found",
    "correlationId": "4d7c0b1a-2e3f-4a5b-8c9d-0e1f2a3b4c5d",
    "category": "OBJECT_NOT_FOUND",
}


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(waits: list[float]) -> Iterator[HubSpotClient]:
    settings = HubSpotSettings(
        access_token=SecretStr(TOKEN),
        client_secret=SecretStr("client-secret"),
        portal_id=PORTAL,
        form_guids=[FORM],
    )
    # A clock that stands still: the 10-s window's wait is computed, not measured.
    hubspot = HubSpotClient(settings, sleep=waits.append, clock=lambda: 1_000.0)
    yield hubspot
    hubspot.close()


# -- the forms page ----------------------------------------------------------------------------


def test_submissions_are_paged_newest_first_with_the_after_cursor(
    http: responses.RequestsMock, client: HubSpotClient
) -> None:
    bearer = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
    http.get(
        SUBMISSIONS,
        json={
            "results": [
                submission("c-3", 1_717_000_300_000, "c@example.be"),
                submission("c-2", 1_717_000_200_000, "b@example.be"),
            ],
            "paging": {"next": {"after": "MTcxNzAwMDIwMDAwMA==", "link": f"{SUBMISSIONS}?after=x"}},
        },
        match=[matchers.query_param_matcher({"limit": "50"}), bearer],
    )
    http.get(
        SUBMISSIONS,
        json={"results": [submission("c-1", 1_717_000_100_000, "a@example.be")]},  # no paging
        match=[matchers.query_param_matcher({"limit": "50", "after": "MTcxNzAwMDIwMDAwMA=="})],
    )

    seen = list(client.iter_submissions_since(FORM, 0))

    assert [s.conversion_id for s in seen] == ["c-3", "c-2", "c-1"]
    assert [s.submitted_at for s in seen] == [
        1_717_000_300_000,
        1_717_000_200_000,
        1_717_000_100_000,
    ]
    assert seen[0].email == "c@example.be"
    assert seen[0].values["firstname"] == "Claire"
    assert seen[0].page_url == "https://www.naturhome.be/fr/demande-de-devis"


def test_an_unknown_form_is_not_found_and_not_retried(
    http: responses.RequestsMock, client: HubSpotClient
) -> None:
    http.get(SUBMISSIONS, json=NOT_FOUND, status=404)

    with pytest.raises(HubSpotNotFoundError) as caught:
        client.list_submissions(FORM)

    assert caught.value.code == "OBJECT_NOT_FOUND"
    assert len(http.calls) == 1


# -- rate limits -------------------------------------------------------------------------------


def test_the_secondly_limit_waits_one_second_then_asks_again(
    http: responses.RequestsMock, client: HubSpotClient, waits: list[float]
) -> None:
    http.get(
        SUBMISSIONS,
        json=rate_limited("SECONDLY", "You have reached your secondly limit."),
        status=429,
    )
    http.get(SUBMISSIONS, json={"results": []})

    assert client.list_submissions(FORM).submissions == []
    assert waits == [1.0]


def test_the_ten_secondly_limit_goes_back_to_the_queue_for_the_rest_of_the_window(
    http: responses.RequestsMock, client: HubSpotClient, waits: list[float]
) -> None:
    """No Retry-After on HubSpot's 429: the wait is the rest of the rolling 10-s window of
    our own calls, longer than a call may wait in-process by default (5 s)."""
    http.get(
        SUBMISSIONS,
        json=rate_limited(
            "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."
        ),
        status=429,
    )

    with pytest.raises(RateLimitedError) as caught:
        client.list_submissions(FORM)

    assert caught.value.code == "TEN_SECONDLY_ROLLING"
    assert caught.value.retry_after == 10.0  # the call just made leaves the window in 10 s
    assert waits == []
    assert len(http.calls) == 1


def test_the_daily_limit_goes_back_to_the_queue_until_midnight(
    http: responses.RequestsMock, client: HubSpotClient, waits: list[float]
) -> None:
    http.get(
        SUBMISSIONS,
        json=rate_limited("DAILY", "You have reached your daily limit."),
        status=429,
    )

    with pytest.raises(RateLimitedError) as caught:
        client.list_submissions(FORM)

    assert caught.value.code == "DAILY"
    assert caught.value.retry_after is not None and caught.value.retry_after >= 60
    assert waits == []  # far too long to wait inside the call
    assert len(http.calls) == 1


# -- uploaded files ----------------------------------------------------------------------------


def test_a_file_link_redirects_to_storage_which_gets_no_token(
    http: responses.RequestsMock, client: HubSpotClient
) -> None:
    """The authenticated link answers a redirect to a self-authorising storage URL (§1d);
    the token goes to the link only."""
    http.get(
        FILE_LINK.split("?")[0],
        status=302,
        headers={"Location": f"{STORAGE}?Expires=1717003600&Signature=abc&Key-Pair-Id=K1"},
        match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
    )
    http.get(
        STORAGE,
        body=b"%PDF-1.4 plan",
        content_type="application/pdf",
        headers={
            "Content-Disposition": "attachment; filename=\"plan.pdf\"; filename*=UTF-8''plan.pdf"
        },
    )

    downloaded = client.download_file(FILE_LINK)

    assert (downloaded.name, downloaded.content) == ("plan.pdf", b"%PDF-1.4 plan")
    assert downloaded.content_type == "application/pdf"
    storage_request = http.calls[1].request
    assert "Authorization" not in storage_request.headers


def test_a_file_link_hubspot_no_longer_knows_is_not_found(
    http: responses.RequestsMock, client: HubSpotClient
) -> None:
    http.get(FILE_LINK.split("?")[0], json=NOT_FOUND, status=404)

    with pytest.raises(HubSpotNotFoundError) as caught:
        client.download_file(FILE_LINK)

    assert caught.value.code == "OBJECT_NOT_FOUND"
    assert len(http.calls) == 1
