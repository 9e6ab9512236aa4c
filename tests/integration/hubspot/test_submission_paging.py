"""Paging through a form's submissions: 120 of them, newest first, 50 a page at most.

The 120 submissions are made once for the module (they cost most of its time) and only read
by its tests; each test still starts with fresh call counters, which it asserts on.
"""

from __future__ import annotations

import pytest
import requests

from connectors.hubspot import HubSpotClient
from sandbox.hubspot import HubSpotEmulator

FORM = "6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f"
BASE_MS = 1_717_000_000_000
LIST_PATTERN = "GET /form-integrations/v1/submissions/forms/{form_guid}"


@pytest.fixture(scope="module")
def hundred_twenty(emulator: HubSpotEmulator) -> list[str]:
    """120 submissions one second apart; conversion ids oldest first."""
    requests.post(f"{emulator.base_url}/__sandbox/reset", timeout=5).raise_for_status()
    ids: list[str] = []
    for i in range(120):
        body = {
            "form_guid": FORM,
            "values": [{"name": "email", "value": f"client{i}@example.be"}],
            "submitted_at": BASE_MS + i * 1000,
        }
        answer = requests.post(f"{emulator.base_url}/__sandbox/submissions", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["conversion_id"])
    return ids


@pytest.fixture(autouse=True)
def clean_emulator(emulator: HubSpotEmulator, hundred_twenty: list[str]) -> None:
    """Replaces the folder's reset: counters and faults only, the submissions are kept."""
    requests.post(
        f"{emulator.base_url}/__sandbox/reset", json={"scope": "stats"}, timeout=5
    ).raise_for_status()


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
