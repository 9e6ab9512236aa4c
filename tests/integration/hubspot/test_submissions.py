"""Polling form submissions: the connector against the emulator over loopback."""

from __future__ import annotations

import pytest

from connectors.hubspot import HubSpotClient, HubSpotNotFoundError

FORM = "6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f"
BASE_MS = 1_717_000_000_000
LIST_PATTERN = "GET /form-integrations/v1/submissions/forms/{form_guid}"


@pytest.fixture
def hundred_twenty(sandbox) -> list[str]:  # type: ignore[no-untyped-def]
    """120 submissions one second apart; conversion ids oldest first."""
    return [
        sandbox.submit(f"client{i}@example.be", submitted_at=BASE_MS + i * 1000)["conversion_id"]
        for i in range(120)
    ]


def test_pages_newest_first_back_to_the_high_water_mark(
    client: HubSpotClient, sandbox, hundred_twenty: list[str]
) -> None:
    mark = BASE_MS + 30 * 1000  # the 31st oldest submission sits exactly on the mark
    seen = list(client.iter_submissions_since(FORM, mark))

    assert [s.conversion_id for s in seen] == list(reversed(hundred_twenty[30:]))
    assert [s.submitted_at for s in seen] == sorted((s.submitted_at for s in seen), reverse=True)
    assert seen[-1].submitted_at == mark  # the mark is inclusive
    assert sandbox.stats()[LIST_PATTERN] == 2  # 90 results: two pages of 50, no third call


def test_iterates_every_page_when_the_mark_is_older_than_everything(
    client: HubSpotClient, sandbox, hundred_twenty: list[str]
) -> None:
    seen = [s.conversion_id for s in client.iter_submissions_since(FORM, 0)]
    assert seen == list(reversed(hundred_twenty))
    assert sandbox.stats()[LIST_PATTERN] == 3


def test_single_page_and_cursor(client: HubSpotClient, hundred_twenty: list[str]) -> None:
    first = client.list_submissions(FORM, limit=50)
    assert len(first.submissions) == 50
    assert first.submissions[0].conversion_id == hundred_twenty[-1]
    assert first.next_after is not None
    second = client.list_submissions(FORM, after=first.next_after, limit=50)
    assert second.submissions[0].conversion_id == hundred_twenty[-51]
    with pytest.raises(ValueError, match="between 1 and 50"):
        client.list_submissions(FORM, limit=51)


def test_raw_paging_shape(sandbox, hundred_twenty: list[str]) -> None:
    url = f"/form-integrations/v1/submissions/forms/{FORM}"
    default = sandbox.get(url).json()
    assert len(default["results"]) == 20
    assert set(default["paging"]["next"]) == {"after", "link"}
    assert len(sandbox.get(url, params={"limit": 80}).json()["results"]) == 50
    assert sandbox.get(url, params={"after": "not-a-cursor"}).status_code == 400
    assert sandbox.get(url, params={"limit": 0}).status_code == 400
    link = default["paging"]["next"]["link"]
    assert link.startswith(f"{sandbox.base_url}{url}?")
    assert sandbox.get(link.removeprefix(sandbox.base_url)).status_code == 200
    page = sandbox.get(url, params={"limit": 50})
    cursor = page.json()["paging"]["next"]["after"]
    page = sandbox.get(url, params={"limit": 50, "after": cursor})
    cursor = page.json()["paging"]["next"]["after"]
    final = sandbox.get(url, params={"limit": 50, "after": cursor}).json()
    assert len(final["results"]) == 20
    assert "paging" not in final
    item = final["results"][0]
    assert set(item) == {"conversionId", "submittedAt", "values", "pageUrl"}
    assert isinstance(item["submittedAt"], int)


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
