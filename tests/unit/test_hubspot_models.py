"""Parsing HubSpot payloads into typed values, and error mapping edge cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.hubspot_errors import error_from_response, seconds_until_midnight
from connectors.hubspot_models import Submission
from naturhome_sync.errors import PermanentDataError, RateLimitedError, SyncError, TransientError

WORKFLOW = {
    "hs_object_id": 1001,
    "email": "anne@example.be",
    "conversion_id": "c-1",
    "form_guid": "f-1",
    "submitted_at": "1717000000000",
    "firstname": "Anne",
    "budget": 420000,
    "message": "",
    "phone": None,
    "plans": "https://h/a?x=1;https://h/b?x=2",
}


def test_workflow_body_to_submission() -> None:
    submission = Submission.from_workflow_body(WORKFLOW)
    assert submission.contact_id == "1001"
    assert submission.submitted_at == 1_717_000_000_000
    assert submission.values == {
        "firstname": "Anne",
        "budget": "420000",
        "plans": "https://h/a?x=1;https://h/b?x=2",
        "email": "anne@example.be",
    }
    assert submission.file_urls() == ["https://h/a?x=1", "https://h/b?x=2"]


@pytest.mark.parametrize("missing", ["conversion_id", "form_guid", "submitted_at", "email"])
def test_workflow_body_without_a_required_key(missing: str) -> None:
    with pytest.raises(PermanentDataError, match=missing):
        Submission.from_workflow_body({k: v for k, v in WORKFLOW.items() if k != missing})


def test_workflow_body_with_a_date_instead_of_ms() -> None:
    with pytest.raises(PermanentDataError, match="epoch ms"):
        Submission.from_workflow_body({**WORKFLOW, "submitted_at": "2024-05-29T12:00:00Z"})


def test_forms_api_item_joins_repeated_names() -> None:
    item = {
        "conversionId": "c-2",
        "submittedAt": 1,
        "values": [
            {"name": "project_type", "value": "house", "objectTypeId": "0-1"},
            {"name": "project_type", "value": "garage"},
            {"name": "email", "value": "x@example.be"},
        ],
        "pageUrl": "https://www.naturhome.be/",
    }
    submission = Submission.from_forms_api("f", item)
    assert submission.values["project_type"] == "house;garage"
    with pytest.raises(TransientError):
        Submission.from_forms_api("f", {"values": []})


def _error(status: int, body: str | None, headers: dict[str, str] | None = None) -> SyncError:
    return error_from_response(
        status,
        body,
        headers,
        operation="get contact",
        burst_retry_after=lambda: 4.0,
        account_timezone="Europe/Brussels",
    )


def test_html_gateway_error_is_transient() -> None:
    error = _error(502, "<html>Bad gateway</html>")
    assert isinstance(error, TransientError)
    assert error.code == "HTTP_502"


def test_429_without_body_uses_our_burst_window() -> None:
    error = _error(429, None)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 4.0


def test_daily_limit_resets_at_the_portals_midnight() -> None:
    evening = datetime(2024, 5, 29, 21, 30, tzinfo=UTC)  # 23:30 in Brussels (CEST)
    assert seconds_until_midnight("Europe/Brussels", evening) == 30 * 60
    late = datetime(2024, 5, 29, 21, 59, 30, tzinfo=UTC)
    assert seconds_until_midnight("Europe/Brussels", late) == 60  # never less than a minute
