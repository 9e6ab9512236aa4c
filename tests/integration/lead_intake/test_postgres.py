"""Several workers of one process on PostgreSQL: duplicates and a client asking twice at once.

``postgres_harness`` is the conftest's ``Harness`` with a PostgreSQL store and four workers.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from connectors.hubspot_models import Submission
from jobs.hubspot_intake import submission_event

Quote = Callable[..., dict[str, str]]

pytestmark = pytest.mark.postgres


def test_fifty_deliveries_to_four_workers_file_one_dossier(
    postgres_harness: Any, quote: Quote, pdf_file: Callable[..., dict[str, str]]
) -> None:
    harness = postgres_harness
    sent = harness.submit(quote("lena.hoss@example.lu"), files=[pdf_file()], deliver="none")

    deliveries = harness.deliver_many(sent["conversion_id"], sent["contact_id"], 50)
    harness.wait_idle()

    assert [d.status_code for d in deliveries] == [200] * 50
    event = harness.intake_event(sent["conversion_id"])
    assert (event.status, event.attempts) == ("done", 1)
    for name in ("Account", "Contact", "Opportunity", "ContentVersion", "Task"):
        assert harness.count(name) == 1, name


def test_two_requests_of_one_new_client_at_once_share_one_account(
    postgres_harness: Any, quote: Quote
) -> None:
    harness = postgres_harness
    # Slow reads keep both intakes in flight together: without the per-address lock both
    # would read "no such contact" and create an account each.
    harness.salesforce_fault(method="POST", path="/composite$", latency_ms=400, times=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = list(
            pool.map(
                lambda city: harness.submit(quote("max.feller@example.lu", site_city=city)),
                ["Clervaux", "Wiltz"],
            )
        )
    harness.wait_idle()

    for answer in sent:
        assert harness.intake_event(answer["conversion_id"]).status == "done"
    assert harness.count("Account") == 1
    assert harness.count("Contact") == 1
    opportunities = harness.query("SELECT AccountId FROM Opportunity")
    assert len(opportunities) == 2
    assert len({o["AccountId"] for o in opportunities}) == 1


def test_each_intake_counts_its_own_salesforce_calls_beside_other_workers(
    postgres_harness: Any, quote: Quote
) -> None:
    """The client is shared by the four workers: an intake's ``salesforce_api_calls`` must
    not include the calls other intakes made meanwhile."""
    harness = postgres_harness
    # Slow reads keep the four intakes in flight together.
    harness.salesforce_fault(method="POST", path="/composite$", latency_ms=300, times=4)
    before = harness.salesforce_api_calls()
    with ThreadPoolExecutor(max_workers=4) as pool:
        sent = list(
            pool.map(
                lambda n: harness.submit(quote(f"client.{n}@example.lu"), deliver="none"),
                range(4),
            )
        )
    harness.runtime.inbox.enqueue_many(
        [
            submission_event(
                Submission.from_forms_api(harness.form_guid, submitted), received_via="poller"
            )
            for submitted in (harness.stored_submission(a["conversion_id"]) for a in sent)
        ]
    )
    harness.wait_idle()
    spent = harness.salesforce_api_calls() - before

    counted = [
        harness.runs(harness.intake_event(a["conversion_id"]))[-1]["counters"][
            "salesforce_api_calls"
        ]
        for a in sent
    ]
    assert counted == [2, 2, 2, 2]  # read + graph, each its own
    assert spent == 8
