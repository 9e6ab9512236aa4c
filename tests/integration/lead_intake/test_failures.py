"""What goes wrong mid-intake, and what the service does about it.

Salesforce faults are retried without duplicating anything (the graph is all or nothing and
every attempt reads before it writes); a HubSpot write-back that fails is retried on its own
without redoing the Salesforce part; a file that cannot be fetched is a warning on the
dossier, not a failure; a request that cannot be mapped dies with a readable reason and an
Integration_Error__c naming the submission.

``harness`` is the conftest's ``Harness`` (sandbox emulators + running service); tests marked
``ON_BOTH_STORES`` also run on PostgreSQL with four workers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from jobs.integration_errors import event_key

Quote = Callable[..., dict[str, str]]
File = Callable[..., dict[str, str]]
LOGIN = "POST /services/Soap/u/59.0"
GRAPH = "POST /services/data/vXX.X/composite/graph"
#: Runs a test on the SQLite harness (one worker) and the PostgreSQL one (four workers).
ON_BOTH_STORES = pytest.mark.parametrize(
    "harness", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def one_dossier(harness: Any, *, files: int = 1) -> None:
    assert harness.count("Account") == 1
    assert harness.count("Contact") == 1
    assert harness.count("Opportunity") == 1
    assert harness.count("Task") == 1
    assert harness.count("ContentVersion") == files


ROW_LOCK_OUTLASTING_THE_CONNECTOR = {
    "method": "POST",
    "path": "/composite/graph$",
    "errorCode": "UNABLE_TO_LOCK_ROW",
    "times": 3,  # outlasts the connector's own attempts: the queue retries
}


@pytest.mark.parametrize(
    ("harness", "fault", "attempts"),
    [
        pytest.param(
            "sqlite",
            {"method": "POST", "path": "/composite/graph$", "errorCode": "UNABLE_TO_LOCK_ROW"},
            1,
            id="row-lock-on-the-graph",
        ),
        pytest.param(
            "sqlite", ROW_LOCK_OUTLASTING_THE_CONNECTOR, 2, id="row-lock-outlasting-the-connector"
        ),
        pytest.param(
            "postgresql",
            ROW_LOCK_OUTLASTING_THE_CONNECTOR,
            2,
            id="row-lock-outlasting-the-connector-postgresql",
            marks=pytest.mark.postgres,
        ),
        pytest.param(
            "sqlite",
            {"method": "POST", "path": "/composite$", "status": 503, "times": 2},
            1,
            id="503-on-the-read",
        ),
        pytest.param(
            "sqlite",
            {"method": "POST", "path": "/composite/graph$", "errorCode": "UNKNOWN_EXCEPTION"},
            1,
            id="500-on-the-graph",
        ),
    ],
    indirect=["harness"],
)
def test_salesforce_faults_are_retried_without_duplicates(
    harness: Any, quote: Quote, pdf_file: File, fault: dict[str, Any], attempts: int
) -> None:
    harness.salesforce_fault(**{"times": 1, **fault})
    sent = harness.submit(quote("jean.klein@example.lu"), files=[pdf_file()])
    harness.wait_idle()

    event = harness.intake_event(sent["conversion_id"])
    assert (event.status, event.attempts) == ("done", attempts), event.last_error
    if attempts > 1:
        assert "UNABLE_TO_LOCK_ROW" in str(harness.runs(event)[0]["error"])
    one_dossier(harness)
    write_back = harness.write_back_event(sent["conversion_id"])
    assert write_back is not None and write_back.status == "done"


@ON_BOTH_STORES
def test_a_graph_committed_but_answered_too_late_is_retried_without_duplicates(
    harness: Any, quote: Quote, pdf_file: File
) -> None:
    """The org commits the dossier, its answer never reaches the service in time: the
    connector must not repeat the graph itself (it may have been committed, and it was), the
    queue retries, and the retry reads what the lost answer would have said."""
    harness.salesforce_fault(method="POST", path="/composite/graph$", answer_latency_ms=5000)
    with harness.salesforce_read_timeout(1.0):
        sent = harness.submit(quote("lost.answer@example.lu"), files=[pdf_file()])
        harness.wait_idle()

    event = harness.intake_event(sent["conversion_id"])
    assert (event.status, event.attempts) == ("done", 2), event.last_error
    first, second = harness.runs(event)
    assert first["status"] == "retrying"
    assert "TIMEOUT" in str(first["error"])
    assert second["status"] == "succeeded"
    # The retry's read finds everything the lost graph wrote: nothing is left to write.
    assert second["counters"]["salesforce_api_calls"] == 1
    assert second["counters"]["files_skipped"] == 1
    assert harness.salesforce_calls()[GRAPH] == 1  # sent once, never repeated
    one_dossier(harness)
    write_back = harness.write_back_event(sent["conversion_id"])
    assert write_back is not None and write_back.status == "done"


def test_expired_sessions_log_in_again(harness: Any, quote: Quote, pdf_file: File) -> None:
    logins = harness.salesforce_calls().get(LOGIN, 0)
    expired = requests.delete(f"{harness.sf_url}/__sandbox/sessions", timeout=5)
    assert expired.json()["expired"] >= 1
    sent = harness.submit(quote("eva.kremer@example.lu"), files=[pdf_file()])
    harness.wait_idle()

    event = harness.intake_event(sent["conversion_id"])
    assert (event.status, event.attempts) == ("done", 1), event.last_error
    calls = harness.salesforce_calls()
    assert calls.get(LOGIN, 0) == logins + 1  # the service logged in again, once
    assert calls["POST /services/data/vXX.X/composite"] == 2  # refused, then repeated
    one_dossier(harness)


@ON_BOTH_STORES
def test_a_failing_write_back_is_retried_alone(harness: Any, quote: Quote) -> None:
    harness.hubspot_fault(
        method="PATCH", path=r"^/crm/v3/objects/contacts/\d+$", status=503, count=2
    )
    before = harness.salesforce_api_calls()
    sent = harness.submit(quote("tom.muller@example.lu"))
    harness.wait_idle()
    spent = harness.salesforce_api_calls() - before

    intake = harness.intake_event(sent["conversion_id"])
    assert (intake.status, intake.attempts, len(harness.runs(intake))) == ("done", 1, 1)
    write_back = harness.write_back_event(sent["conversion_id"])
    assert write_back is not None
    assert (write_back.status, write_back.attempts) == ("done", 3)
    assert [r["status"] for r in harness.runs(write_back)] == ["retrying", "retrying", "succeeded"]
    assert "HTTP_503" in str(harness.runs(write_back)[0]["error"])
    assert spent == 2  # the intake's read and graph, once: the write-back costs Salesforce nothing
    [opportunity] = harness.query("SELECT Id FROM Opportunity")
    written = harness.hubspot_contact(sent["contact_id"], "salesforce_opportunity_id")
    assert written["salesforce_opportunity_id"] == opportunity["Id"]


def test_a_file_too_large_is_a_warning_on_the_dossier(
    harness: Any, quote: Quote, pdf_file: File
) -> None:
    big = b"0" * (100 * 1024)  # the test configuration caps files at 64 KiB
    sent = harness.submit(
        quote("ana.pereira@example.be"),
        files=[pdf_file("plan.pdf"), pdf_file("maquette.dwg", big)],
    )
    harness.wait_idle()

    event = harness.intake_event(sent["conversion_id"])
    assert event.status == "done", event.last_error
    counters = harness.runs(event)[-1]["counters"]
    assert (counters["files_attached"], counters["files_failed"]) == (1, 1)
    one_dossier(harness, files=1)
    [version] = harness.query("SELECT PathOnClient FROM ContentVersion")
    assert version["PathOnClient"] == "plan.pdf"
    [opportunity] = harness.query("SELECT Intake_Warnings__c FROM Opportunity")
    assert opportunity["Intake_Warnings__c"] == (
        "Fichier « maquette.dwg » non joint : trop volumineux (limite 0,1 Mo)"
    )
    [task] = harness.query("SELECT Description FROM Task")
    assert "Fichiers joints : plan.pdf\n" in task["Description"]
    assert "maquette.dwg » non joint : trop volumineux" in task["Description"]
    assert harness.file_retry_event(sent["conversion_id"], 1) is None  # it would fail again


def test_a_budget_too_precise_for_salesforce_is_a_warning_not_a_crash(
    harness: Any, quote: Quote
) -> None:
    """99 999 999 999 999,99 fits Currency(16, 2) but not the JSON double Salesforce reads:
    it used to crash the encoding (a bare ValueError, retried 8 times, dead as internal)."""
    sent = harness.submit(quote("grand.budget@example.be", budget="99 999 999 999 999,99"))
    harness.wait_idle()

    event = harness.intake_event(sent["conversion_id"])
    assert (event.status, event.attempts) == ("done", 1), event.last_error
    [opportunity] = harness.query("SELECT Budget__c, Intake_Warnings__c FROM Opportunity")
    assert opportunity["Budget__c"] is None
    assert opportunity["Intake_Warnings__c"] == (
        "Budget (budget) : nombre trop précis « 99999999999999.99 » ignoré (15 chiffres au plus)"
    )


def test_an_unreachable_file_is_a_warning_and_a_replay_attaches_it(
    harness: Any, quote: Quote, pdf_file: File
) -> None:
    harness.hubspot_settings(file_url_ttl_s=0.0)  # every storage link is already expired
    sent = harness.submit(quote("ines.rausch@example.lu"), files=[pdf_file()])
    harness.wait_idle()

    event = harness.intake_event(sent["conversion_id"])
    assert event.status == "done", event.last_error
    [opportunity] = harness.query("SELECT Id, Intake_Warnings__c FROM Opportunity")
    assert opportunity["Intake_Warnings__c"].startswith(
        "Fichier « plan.pdf » non joint : indisponible pour le moment"
    )
    assert harness.count("ContentVersion") == 0

    harness.hubspot_settings(file_url_ttl_s=60.0)
    harness.runtime.inbox.replay([event.id], by="test")
    harness.wait_idle()

    one_dossier(harness, files=1)
    [after] = harness.query("SELECT Id, Intake_Warnings__c FROM Opportunity")
    assert after["Id"] == opportunity["Id"]
    assert after["Intake_Warnings__c"] is None  # the line about the file is gone
    [task] = harness.query("SELECT Description FROM Task")
    assert "Fichiers joints : plan.pdf" in task["Description"]


def test_a_request_that_cannot_be_mapped_dies_with_a_readable_reason(
    harness: Any, quote: Quote
) -> None:
    values = quote("sans.nom@example.be")
    del values["lastname"]
    sent = harness.submit(values)
    harness.wait_idle()

    event = harness.intake_event(sent["conversion_id"])
    assert (event.status, event.error_category) == ("dead", "permanent_data")
    assert event.attempts == 1  # a permanent error is not retried
    assert "« lastname » pour Contact.LastName" in str(event.last_error)
    assert harness.count("Opportunity") == 0
    assert harness.count("Account") == 0
    [error] = harness.query(
        "SELECT Event_Id__c, Flow__c, Category__c, Message__c, External_Id__c, Resolved__c "
        "FROM Integration_Error__c"
    )
    assert error["Event_Id__c"] == event_key(harness.runtime, event.id)
    assert error["Flow__c"] == "lead_intake"
    assert error["Category__c"] == "permanent_data"
    assert error["External_Id__c"] == sent["conversion_id"]
    assert "Demande incomplète" in error["Message__c"]
    assert error["Resolved__c"] is False
    assert harness.write_back_event(sent["conversion_id"]) is None
