"""One submission, however often it arrives or is replayed, files one dossier.

HubSpot's deliveries are at-least-once and the poller reads the same submissions again;
operators replay events. Every path must leave exactly one account, contact, opportunity,
file and task, and a replay of a request already filed must write nothing.

``harness`` is the conftest's ``Harness`` (sandbox emulators + running service); tests marked
``ON_BOTH_STORES`` also run on PostgreSQL with four workers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from naturhome_sync.cli import app
from naturhome_sync.store import NewEvent

Quote = Callable[..., dict[str, str]]
GRAPH = "POST /services/data/vXX.X/composite/graph"
#: Runs a test on the SQLite harness (one worker) and the PostgreSQL one (four workers).
ON_BOTH_STORES = pytest.mark.parametrize(
    "harness", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def one_of_each(harness: Any) -> None:
    counts = {
        name: harness.count(name)
        for name in ("Account", "Contact", "Opportunity", "ContentVersion", "Task")
    }
    assert counts == dict.fromkeys(counts, 1)


def test_fifty_concurrent_deliveries_and_the_poller_file_one_dossier(
    harness: Any, quote: Quote, pdf_file: Callable[..., dict[str, str]]
) -> None:
    sent = harness.submit(quote("nina.schmit@example.lu"), files=[pdf_file()], deliver="none")
    conversion_id = sent["conversion_id"]

    deliveries = harness.deliver_many(conversion_id, sent["contact_id"], 50)
    # The scheduler's tick, as it would enqueue it (the service's worker runs it).
    poll = harness.runtime.inbox.enqueue(
        NewEvent(source="scheduler", kind="tick", flow="hubspot_poll", dedupe_key=f"poll:{uuid4()}")
    )
    harness.wait_idle()

    assert [d.status_code for d in deliveries] == [200] * 50
    answers = [json.loads(d.body) for d in deliveries]
    assert sum(a["stored"] for a in answers) == 1
    assert sum(a["duplicates"] for a in answers) == 49
    assert len({a["event_ids"][0] for a in answers}) == 1
    [polled] = harness.runtime.inbox.runs_of(poll.event_id)
    assert polled["status"] == "succeeded"
    assert polled["counters"]["submissions_seen"] >= 1
    assert polled["counters"]["submissions_new"] == 0  # already stored by the webhook
    events = [
        e
        for e in harness.runtime.inbox.list(flow="lead_intake", limit=None)
        if e.dedupe_key == f"submission:{conversion_id}"
    ]
    assert len(events) == 1
    assert events[0].status == "done" and events[0].attempts == 1
    assert len(harness.runs(events[0])) == 1
    one_of_each(harness)
    assert harness.count("Opportunity", f"HubSpot_Submission_Id__c = '{conversion_id}'") == 1


@ON_BOTH_STORES
def test_replaying_a_filed_request_writes_nothing(
    harness: Any,
    quote: Quote,
    pdf_file: Callable[..., dict[str, str]],
    tmp_path: Any,
) -> None:
    sent = harness.submit(quote("paul.weis@example.lu"), files=[pdf_file()])
    harness.wait_idle()
    event = harness.intake_event(sent["conversion_id"])
    [opportunity] = harness.query("SELECT Id FROM Opportunity")
    # A rep moved the dossier on since: a replay must not move it back.
    harness.sf.Opportunity.update(opportunity["Id"], {"StageName": "Quote In Progress"})
    stamp = harness.query("SELECT SystemModstamp FROM Opportunity")[0]["SystemModstamp"]
    graphs_before = harness.salesforce_calls().get(GRAPH, 0)

    for _ in range(3):
        assert harness.runtime.inbox.replay([event.id], by="test") == [event.id]
        harness.wait_idle()
    result = CliRunner().invoke(
        app, ["--env-file", str(harness.cli_env_file()), "replay", str(event.id), "--by", "ops"]
    )
    assert result.exit_code == 0, result.output
    assert f"replayed 1 event(s): {event.id}" in result.stdout
    harness.wait_idle()

    replayed = harness.intake_event(sent["conversion_id"])
    assert replayed.status == "done" and replayed.replay_count == 4
    runs = harness.runs(replayed)
    assert len(runs) == 5
    for run in runs[1:]:
        assert run["status"] == "succeeded"
        assert run["counters"]["salesforce_api_calls"] == 1  # the read, nothing to write
        assert run["counters"]["files_skipped"] == 1
        assert run["counters"]["files_attached"] == 0
    assert harness.salesforce_calls().get(GRAPH, 0) == graphs_before
    one_of_each(harness)
    [after] = harness.query("SELECT StageName, SystemModstamp FROM Opportunity")
    assert after["StageName"] == "Quote In Progress"
    assert after["SystemModstamp"] == stamp
    write_back = harness.write_back_event(sent["conversion_id"])
    assert write_back is not None and len(harness.runs(write_back)) == 1
