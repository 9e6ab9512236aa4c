"""The plans of a quote request: whatever happens to a file, the dossier is filed.

A file Salesforce refuses, a link that is no uploaded file, a storage host that is down:
each is a warning line on the opportunity, never a failure of the request. A file that
failed transiently is fetched again by the intake itself, minutes later, without anyone
replaying anything.

``harness`` is the conftest's ``Harness`` (sandbox emulators + running service); tests marked
``ON_BOTH_STORES`` also run on PostgreSQL with four workers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

import jobs.lead_intake
import jobs.lead_intake_plan
from connectors.hubspot_models import Submission
from connectors.salesforce_values import file_version
from jobs.lead_intake_files import file_links
from naturhome_sync.store.inbox import utcnow

Quote = Callable[..., dict[str, str]]
File = Callable[..., dict[str, str]]
GRAPH = "POST /services/data/vXX.X/composite/graph"
#: Runs a test on the SQLite harness (one worker) and the PostgreSQL one (four workers).
ON_BOTH_STORES = pytest.mark.parametrize(
    "harness", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def link_name(url: str) -> str:
    """The name the intake gives the file of this link in its warning line."""
    submission = Submission(
        conversion_id="c", submitted_at=0, values={"plans": url}, page_url=None, form_guid="f"
    )
    [link] = file_links(submission)
    return link.name


def dossier_warnings(harness: Any) -> str | None:
    [opportunity] = harness.query("SELECT Intake_Warnings__c FROM Opportunity")
    warnings: str | None = opportunity["Intake_Warnings__c"]
    return warnings


# -- Salesforce refusing a file ----------------------------------------------------------------


def test_a_file_name_too_long_for_salesforce_is_cut_and_the_dossier_filed(
    harness: Any, quote: Quote, pdf_file: File
) -> None:
    """PathOnClient holds 500 characters: a 520-character name used to make Salesforce
    refuse the graph (STRING_TOO_LONG on file0), and with it the whole dossier."""
    name = "Plan " + "r" * 511 + ".pdf"
    sent = harness.submit(quote("long.name@example.be"), files=[pdf_file(name)])
    harness.wait_idle()

    event = harness.intake_event(sent["conversion_id"])
    assert (event.status, event.attempts) == ("done", 1), event.last_error
    assert harness.runs(event)[-1]["counters"]["salesforce_api_calls"] == 2
    [version] = harness.query("SELECT Title, PathOnClient, FileExtension FROM ContentVersion")
    assert len(version["PathOnClient"]) <= 500 and version["PathOnClient"].startswith("Plan rr")
    assert version["FileExtension"] == "pdf"  # the type survives the cut
    assert len(version["Title"]) <= 255
    assert dossier_warnings(harness) is None


def test_file_version_cuts_path_on_client_keeping_the_extension() -> None:
    body = file_version("006x", "a" * 600 + ".dwg", b"x", key="k")
    assert len(body["PathOnClient"]) == 500 and body["PathOnClient"].endswith("a.dwg")
    assert len(body["Title"]) == 255
    assert file_version("006x", "b" * 600, b"x", key="k")["PathOnClient"] == "b" * 500
    assert file_version("006x", "plan.pdf", b"x", key="k")["PathOnClient"] == "plan.pdf"


def refused_by_the_org(
    record_id: str, filename: str, content: bytes, *, key: str, title: str | None = None
) -> dict[str, Any]:
    """A ContentVersion the org refuses (STRING_TOO_LONG), standing for any refusal of a
    file the intake cannot foresee: a validation rule, a trigger, a field the org shortened."""
    body = file_version(record_id, filename, content, key=key, title=title)
    return {**body, "PathOnClient": "x" * 501 + ".pdf"}


def test_a_file_refused_inside_the_graph_does_not_block_the_dossier(
    harness: Any, quote: Quote, pdf_file: File, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs.lead_intake_plan, "file_version", refused_by_the_org)
    monkeypatch.setattr(jobs.lead_intake, "file_version", refused_by_the_org)
    before = harness.salesforce_api_calls()
    sent = harness.submit(quote("refused.file@example.be"), files=[pdf_file("plan.pdf")])
    harness.wait_idle()
    spent = harness.salesforce_api_calls() - before

    event = harness.intake_event(sent["conversion_id"])
    assert (event.status, event.attempts) == ("done", 1), event.last_error
    # read, the graph refused for file0, the graph without it, the file alone (refused
    # again), the warning line on the opportunity
    assert spent == 5
    assert harness.salesforce_calls()[GRAPH] == 2
    counters = harness.runs(event)[-1]["counters"]
    assert (counters["files_attached"], counters["files_failed"]) == (0, 1)
    assert counters["opportunities_created"] == 1
    assert harness.count("Opportunity") == 1
    assert harness.count("Task") == 1
    assert harness.count("ContentVersion") == 0
    assert dossier_warnings(harness) == (
        "Fichier « plan.pdf » non joint : refusé par Salesforce (STRING_TOO_LONG)"
    )
    write_back = harness.write_back_event(sent["conversion_id"])
    assert write_back is not None and write_back.status == "done"


# -- links that are no uploaded file -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/crm/v3/objects/contacts?limit=100",
        "/form-integrations/v1/uploaded-files/signed-url-redirect/1?portalId=999&sign=x",
    ],
    ids=["crm-data-on-the-api-host", "another-portal"],
)
def test_a_link_that_is_no_uploaded_file_of_the_portal_is_never_fetched(
    harness: Any, quote: Quote, path: str
) -> None:
    """With the token, a CRM URL on the API host would attach the portal's contacts to the
    submitter's dossier; such a link is refused before any request."""
    link = f"{harness.hs_url}{path}"
    sent = harness.submit(quote("curious@example.be", plans=link))
    harness.wait_idle()

    event = harness.intake_event(sent["conversion_id"])
    assert event.status == "done", event.last_error
    hubspot_calls = harness.hubspot_calls()
    assert [call for call in hubspot_calls if call.startswith("GET ")] == []
    assert harness.count("ContentVersion") == 0
    assert dossier_warnings(harness) == (
        f"Fichier « {link_name(link)} » non joint : lien refusé, ce n'est pas un "
        f"fichier déposé dans le formulaire HubSpot ({link})"
    )
    assert harness.file_retry_event(sent["conversion_id"], 1) is None  # not worth a retry


# -- files fetched again later -----------------------------------------------------------------


def assert_scheduled(harness: Any, conversion_id: str, retry: int, minutes: int) -> Any:
    follow_up = harness.file_retry_event(conversion_id, retry)
    assert follow_up is not None, f"no file retry {retry}"
    assert (follow_up.status, follow_up.flow, follow_up.kind) == (
        "pending",
        "lead_intake",
        "form_submission",
    )
    assert follow_up.payload["file_retry"] == retry
    assert follow_up.payload["conversion_id"] == conversion_id
    due_in = follow_up.available_at - utcnow()
    assert timedelta(minutes=minutes - 1) < due_in <= timedelta(minutes=minutes)
    return follow_up


@ON_BOTH_STORES
def test_a_file_the_storage_host_failed_is_fetched_again_by_the_intake(
    harness: Any, quote: Quote, pdf_file: File
) -> None:
    harness.hubspot_fault(method="GET", path="^/_files/", status=503, count=1)
    sent = harness.submit(quote("storage.down@example.lu"), files=[pdf_file()])
    conversion_id = sent["conversion_id"]
    harness.wait_idle()

    event = harness.intake_event(conversion_id)
    assert event.status == "done", event.last_error
    assert harness.runs(event)[-1]["counters"]["file_retry_scheduled"] == 1
    assert dossier_warnings(harness) == (
        "Fichier « plan.pdf » non joint : indisponible pour le moment (FILE_LINK_REFUSED) ; "
        "nouvel essai automatique dans 10 min"
    )
    assert harness.count("ContentVersion") == 0
    follow_up = assert_scheduled(harness, conversion_id, 1, 10)
    assert {k: v for k, v in follow_up.payload.items() if k != "file_retry"} == event.payload

    harness.make_due(follow_up)  # ten minutes later
    harness.wait_idle()

    done = harness.runtime.inbox.get(follow_up.id)
    assert done is not None and done.status == "done", done and done.last_error
    counters = harness.runs(done)[-1]["counters"]
    assert (counters["files_attached"], counters["opportunities_updated"]) == (1, 1)
    assert harness.count("Opportunity") == 1
    assert harness.count("ContentVersion") == 1
    assert dossier_warnings(harness) is None  # the line about the file is gone
    [task] = harness.query("SELECT Description FROM Task")
    assert "Fichiers joints : plan.pdf" in task["Description"]
    assert harness.file_retry_event(conversion_id, 2) is None


def test_file_retries_stop_after_the_third(harness: Any, quote: Quote, pdf_file: File) -> None:
    harness.hubspot_fault(method="GET", path="^/_files/", status=503, count=100)
    sent = harness.submit(quote("storage.gone@example.lu"), files=[pdf_file()])
    conversion_id = sent["conversion_id"]
    harness.wait_idle()

    for retry, minutes in ((1, 10), (2, 20), (3, 40)):
        follow_up = assert_scheduled(harness, conversion_id, retry, minutes)
        assert dossier_warnings(harness) == (
            "Fichier « plan.pdf » non joint : indisponible pour le moment (FILE_LINK_REFUSED) ; "
            f"nouvel essai automatique dans {minutes} min"
        )
        harness.make_due(follow_up)
        harness.wait_idle()

    assert harness.file_retry_event(conversion_id, 4) is None
    assert dossier_warnings(harness) == (
        "Fichier « plan.pdf » non joint : indisponible pour le moment (FILE_LINK_REFUSED) ; "
        "rejouer la demande le joindra"
    )
    assert harness.count("Opportunity") == 1
    assert harness.count("ContentVersion") == 0
