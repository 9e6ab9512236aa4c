"""Error mapping and retries: faults, rate limits and bad tokens, through the real clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from connectors.hubspot import HubSpotClient
from naturhome_sync.errors import (
    AuthError,
    PermanentDataError,
    RateLimitedError,
    TransientError,
)

FORM = "6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f"
CONTACT = "GET /crm/v3/objects/contacts/{contact_id}"
SUBMISSIONS = "GET /form-integrations/v1/submissions/forms/{form_guid}"
CONTACT_PATH = r"^/crm/v3/objects/contacts/\d+$"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_503_then_success_is_retried(client: HubSpotClient, sandbox, sleeps) -> None:
    contact_id = sandbox.submit("r@example.be")["contact_id"]
    sandbox.fault(method="GET", path=CONTACT_PATH, status=503, count=1)
    assert client.get_contact(contact_id, ["email"]).email == "r@example.be"
    assert sandbox.stats()[CONTACT] == 2
    assert sleeps.waits == [0.5]


def test_503_on_the_forms_endpoint_is_retried(client: HubSpotClient, sandbox, sleeps) -> None:
    sandbox.submit("f@example.be")
    sandbox.fault(method="GET", path="/submissions/forms/", status=502, count=2)
    assert len(client.list_submissions(FORM).submissions) == 1
    assert sandbox.stats()[SUBMISSIONS] == 3
    assert sleeps.waits == [0.5, 1.0]


def test_persistent_5xx_gives_up_after_the_attempt_budget(client: HubSpotClient, sandbox) -> None:
    sandbox.fault(method="GET", path=CONTACT_PATH, status=500, count=10)
    with pytest.raises(TransientError) as caught:
        client.get_contact("1001", ["email"])
    assert caught.value.code == "HTTP_500"
    assert sandbox.stats()[CONTACT] == 3


def test_ten_secondly_429_waits_for_the_rest_of_the_window(
    make_client: Callable[..., HubSpotClient], sandbox
) -> None:
    clock = FakeClock()
    client = make_client(clock=clock)
    contact_id = sandbox.submit("w@example.be")["contact_id"]
    client.get_contact(contact_id, ["email"])  # our oldest call in the window, at t=1000
    clock.now += 3.0
    sandbox.fault(method="GET", path=CONTACT_PATH, status=429, count=1)  # default body
    with pytest.raises(RateLimitedError) as caught:
        client.get_contact(contact_id, ["email"])
    assert caught.value.code == "TEN_SECONDLY_ROLLING"
    assert caught.value.retry_after == pytest.approx(7.0)
    assert caught.value.category == "rate_limited"
    assert sandbox.stats()[CONTACT] == 2  # 7 s is the job queue's business: not retried here


def test_secondly_429_is_retried_after_one_second(client: HubSpotClient, sandbox, sleeps) -> None:
    sandbox.submit("s@example.be", firstname="Sec")
    body = {
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "c0ffee00-0000-4000-8000-000000000000",
        "policyName": "SECONDLY",
    }
    sandbox.fault(method="POST", path="/search$", status=429, body=body, count=1)
    sandbox.configure(search_delay_s=0)
    (hit,) = client.search_contacts({"email": "s@example.be"}, ["firstname"])
    assert hit.get("firstname") == "Sec"
    assert sleeps.waits == [1.0]


def test_daily_429_is_long_and_not_retried(client: HubSpotClient, sandbox) -> None:
    sandbox.fault(
        method="GET",
        path=CONTACT_PATH,
        status=429,
        body={"status": "error", "errorType": "RATE_LIMIT", "policyName": "DAILY"},
    )
    with pytest.raises(RateLimitedError) as caught:
        client.get_contact("1001", ["email"])
    assert caught.value.code == "DAILY"
    assert caught.value.retry_after is not None
    assert caught.value.retry_after >= 60
    assert sandbox.stats()[CONTACT] == 1


def test_retry_after_header_wins(client: HubSpotClient, sandbox, sleeps) -> None:
    contact_id = sandbox.submit("h@example.be")["contact_id"]
    sandbox.fault(method="GET", path=CONTACT_PATH, status=477, headers={"Retry-After": "2"})
    assert client.get_contact(contact_id, ["email"]).id == contact_id
    assert sleeps.waits == [2.0]
    sandbox.fault(method="GET", path=CONTACT_PATH, status=423)
    assert client.get_contact(contact_id, ["email"]).id == contact_id
    assert sleeps.waits == [2.0, 2.0]


def test_real_burst_limit_answers_hubspot_429(
    make_client: Callable[..., HubSpotClient], sandbox
) -> None:
    contact_id = sandbox.submit("b@example.be")["contact_id"]
    sandbox.configure(rate_limits=True, burst_limit=3)
    first = sandbox.get(f"/crm/v3/objects/contacts/{contact_id}")
    assert first.headers["X-HubSpot-RateLimit-Max"] == "3"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "2"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    client = make_client(retry_max_wait_s=0)
    client.get_contact(contact_id, ["email"])
    client.get_contact(contact_id, ["email"])
    with pytest.raises(RateLimitedError) as caught:
        client.get_contact(contact_id, ["email"])
    assert caught.value.code == "TEN_SECONDLY_ROLLING"
    assert 1.0 <= (caught.value.retry_after or 0) <= 10.0
    raw = sandbox.get(f"/crm/v3/objects/contacts/{contact_id}")
    assert raw.status_code == 429
    assert raw.json()["message"] == "You have reached your ten_secondly_rolling limit."
    assert {"status", "message", "errorType", "correlationId", "policyName"} == set(raw.json())


def test_real_search_limit_is_secondly(sandbox) -> None:
    sandbox.configure(rate_limits=True, search_per_second=2)
    answers = [sandbox.post("/crm/v3/objects/contacts/search", {}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["policyName"] == "SECONDLY"
    assert sandbox.get("/crm/v3/objects/contacts/1").status_code == 404  # burst budget untouched


def test_bad_token_is_an_auth_error_without_retry(
    make_client: Callable[..., HubSpotClient], sandbox
) -> None:
    client = make_client(access_token="pat-eu1-revoked")
    with pytest.raises(AuthError) as caught:
        client.get_contact("1001", ["email"])
    assert caught.value.code == "INVALID_AUTHENTICATION"
    with pytest.raises(AuthError):
        client.list_submissions(FORM)
    assert sandbox.stats() == {CONTACT: 1, SUBMISSIONS: 1}
    raw = requests.get(f"{sandbox.base_url}/crm/v3/objects/contacts/1001", timeout=5)
    assert raw.status_code == 401
    assert raw.json()["category"] == "INVALID_AUTHENTICATION"


def test_400_is_a_permanent_data_error(client: HubSpotClient, sandbox) -> None:
    sandbox.fault(
        method="GET",
        path=CONTACT_PATH,
        status=400,
        body={
            "status": "error",
            "message": "Invalid input",
            "correlationId": "x",
            "category": "VALIDATION_ERROR",
        },
    )
    with pytest.raises(PermanentDataError) as caught:
        client.get_contact("1001", ["email"])
    assert caught.value.code == "VALIDATION_ERROR"
    assert not caught.value.retryable


def test_slow_answer_times_out_then_succeeds(
    make_client: Callable[..., HubSpotClient], sandbox
) -> None:
    contact_id = sandbox.submit("t@example.be")["contact_id"]
    client = make_client(read_timeout_s=0.2)
    sandbox.fault(method="GET", path=CONTACT_PATH, latency_ms=600, count=1)
    assert client.get_contact(contact_id, ["email"]).id == contact_id
    sandbox.fault(method="GET", path="/submissions/forms/", latency_ms=600, count=3)
    with pytest.raises(TransientError) as caught:
        client.list_submissions(FORM)
    assert caught.value.code == "NETWORK"


def test_nothing_listening_is_transient(
    make_client: Callable[..., HubSpotClient], closed_port_url: str
) -> None:
    client = make_client(base_url=closed_port_url)
    with pytest.raises(TransientError) as caught:
        client.get_contact("1", ["email"])
    assert caught.value.code == "NETWORK"
    with pytest.raises(TransientError):
        client.list_submissions(FORM)
