"""Several workers of one process on PostgreSQL: duplicates and a client asking twice at once.

``postgres_harness`` is the conftest's ``Harness`` with a PostgreSQL store and four workers.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

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
