"""A signed HubSpot webhook becomes a scored Salesforce dossier: new client, known client, owners.

Everything runs over HTTP through the production clients: the emulator signs and posts the
workflow webhook, the service stores it, a worker files it with simple-salesforce against
the Salesforce emulator and downloads the plan with requests through HubSpot's signed-url
redirect (the emulator's storage host refuses any request carrying the token, so a file
that arrives proves the token stayed home), then writes back with hubspot-api-client.

``harness`` is the conftest's ``Harness`` (sandbox emulators + running service).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from connectors.hubspot_models import Submission
from jobs.hubspot_intake import submission_payload
from naturhome_sync.store import NewEvent

#: What the conftest's quote_request scores with the shipped rules (22+20+20+15+6+10).
EXPECTED_SCORE = 93
SALES_REP = "thomas.renard@naturhome.example"
PDF_BYTES = b"%PDF-1.4\n" + bytes(range(256)) * 20 + b"\n%%EOF\n"

Quote = Callable[..., dict[str, str]]


def brussels_today() -> date:
    return datetime.now(ZoneInfo("Europe/Brussels")).date()


def user_id(harness: Any, username: str) -> str:
    rows = harness.query(f"SELECT Id FROM User WHERE Username = '{username}'")
    return str(rows[0]["Id"])


def test_new_client_with_a_plan_becomes_a_complete_dossier(
    harness: Any, quote: Quote, pdf_file: Callable[..., dict[str, str]]
) -> None:
    day_before = brussels_today()
    sent = harness.submit(
        quote("claire.dupont@example.be"), files=[pdf_file("plan.pdf", PDF_BYTES)]
    )
    conversion_id, contact_id = sent["conversion_id"], sent["contact_id"]
    harness.wait_idle()
    day_after = brussels_today()
    calls = harness.salesforce_api_calls()  # before the test's own queries count

    event = harness.intake_event(conversion_id)
    assert event.status == "done", event.last_error
    assert calls == 2  # one read (Composite) + one write (Composite Graph), login excluded
    assert harness.salesforce_calls().get("POST /services/data/vXX.X/composite/graph") == 1
    assert harness.runs(event)[-1]["counters"]["salesforce_api_calls"] == 2
    rep = user_id(harness, SALES_REP)

    [opportunity] = harness.query(
        "SELECT Id, Name, AccountId, OwnerId, StageName, LeadSource, CloseDate, Score__c, "
        "Priority__c, Score_Breakdown__c, Project_Type__c, Budget__c, Living_Area_m2__c, "
        "Site_Street__c, Site_Postal_Code__c, Site_City__c, Site_Country__c, "
        "HubSpot_Submission_Id__c, HubSpot_Contact_Id__c, Intake_Warnings__c, Description "
        "FROM Opportunity"
    )
    assert opportunity["HubSpot_Submission_Id__c"] == conversion_id
    assert opportunity["HubSpot_Contact_Id__c"] == contact_id
    assert opportunity["Name"] == "Dupont Claire \N{EN DASH} Gouvy"
    assert opportunity["StageName"] == "Quote Requested"
    assert opportunity["LeadSource"] == "HubSpot"
    assert opportunity["OwnerId"] == rep
    assert opportunity["Score__c"] == EXPECTED_SCORE
    assert opportunity["Priority__c"] == "P1"
    breakdown = opportunity["Score_Breakdown__c"].splitlines()
    assert [line.split()[0] for line in breakdown] == ["+22", "+20", "+20", "+15", "+6", "+10"]
    assert "Budget" in breakdown[0]
    assert "province de Luxembourg" in breakdown[2]
    assert opportunity["Project_Type__c"] == "New build"
    assert opportunity["Budget__c"] == 450000
    assert opportunity["Living_Area_m2__c"] == 180
    assert (
        opportunity["Site_Street__c"],
        opportunity["Site_Postal_Code__c"],
        opportunity["Site_City__c"],
        opportunity["Site_Country__c"],
    ) == ("Rue du Moulin 5", "6670", "Gouvy", "BE")
    assert opportunity["Intake_Warnings__c"] is None

    [account] = harness.query(
        "SELECT Id, Name, Type, BillingCity, BillingCountry, OwnerId FROM Account"
    )
    assert opportunity["AccountId"] == account["Id"]
    assert (account["Name"], account["Type"], account["BillingCity"]) == (
        "Dupont Claire",
        "Client",
        "Gouvy",
    )
    assert account["BillingCountry"] == "BE"
    assert account["OwnerId"] == rep
    [contact] = harness.query(
        "SELECT Id, AccountId, FirstName, LastName, Email, Phone, HubSpot_Contact_Id__c, OwnerId "
        "FROM Contact"
    )
    assert contact["AccountId"] == account["Id"]
    assert (contact["FirstName"], contact["LastName"]) == ("Claire", "Dupont")
    assert contact["Email"] == "claire.dupont@example.be"
    assert contact["Phone"] == "+3261210000"
    assert contact["HubSpot_Contact_Id__c"] == contact_id
    assert contact["OwnerId"] == rep

    [version] = harness.query(
        "SELECT Id, Title, PathOnClient, ContentDocumentId, Naturhome_Key__c, "
        "FirstPublishLocationId FROM ContentVersion"
    )
    assert version["FirstPublishLocationId"] == opportunity["Id"]
    assert version["PathOnClient"] == "plan.pdf"
    assert version["Naturhome_Key__c"].startswith(f"hubspot-file:{conversion_id}:")
    assert harness.sf.ContentVersion.get_base64(version["Id"], "VersionData") == PDF_BYTES
    links = harness.query(
        "SELECT LinkedEntityId FROM ContentDocumentLink "
        f"WHERE ContentDocumentId = '{version['ContentDocumentId']}'"
    )
    assert opportunity["Id"] in {link["LinkedEntityId"] for link in links}

    [task] = harness.query(
        "SELECT WhatId, OwnerId, Subject, Status, ActivityDate, Description, Naturhome_Key__c "
        "FROM Task"
    )
    assert task["Naturhome_Key__c"] == f"intake:{conversion_id}"
    assert task["WhatId"] == opportunity["Id"]
    assert task["OwnerId"] == rep
    assert task["Subject"] == "Demande de devis reçue via HubSpot"
    assert task["Status"] == "Completed"
    # The day the request was filed in Brussels: either side of midnight if the run spans it.
    assert task["ActivityDate"] in {day_before.isoformat(), day_after.isoformat()}
    assert f"Score : {EXPECTED_SCORE}/100, priorité P1" in task["Description"]
    assert "Fichiers joints : plan.pdf" in task["Description"]

    written = harness.hubspot_contact(
        contact_id, "salesforce_opportunity_id", "salesforce_opportunity_url"
    )
    assert written["salesforce_opportunity_id"] == opportunity["Id"]
    assert written["salesforce_opportunity_url"].endswith(
        f"/lightning/r/Opportunity/{opportunity['Id']}/view"
    )
    write_back = harness.write_back_event(conversion_id)
    assert write_back is not None and write_back.status == "done"


def test_known_client_keeps_their_account_and_what_salesforce_holds(
    harness: Any, quote: Quote
) -> None:
    first = harness.submit(quote("marc.leroy@example.be", firstname="Marc", lastname="Leroy"))
    harness.wait_idle()
    [contact] = harness.query("SELECT Id, AccountId FROM Contact")
    # Since then a rep corrected the phone and the account lost its city.
    harness.sf.Contact.update(contact["Id"], {"Phone": "+32470000000"})
    harness.sf.Account.update(contact["AccountId"], {"BillingCity": None, "Name": "Leroy-Lambert"})
    before = harness.salesforce_api_calls()

    second = harness.submit(
        quote(
            "Marc.Leroy@Example.be",  # HubSpot keeps one contact per address, any case
            firstname="Marc",
            lastname="Leroy",
            phone="061 99 99 99",
            city="Vielsalm",
            site_city="Vielsalm",
            project_type="Agrandissement",
        )
    )
    harness.wait_idle()
    calls = harness.salesforce_api_calls() - before

    assert harness.intake_event(second["conversion_id"]).status == "done"
    assert calls <= 3
    assert calls == 2  # the read and one graph: account/contact updates ride along
    assert harness.count("Account") == 1
    assert harness.count("Contact") == 1
    opportunities = harness.query(
        "SELECT AccountId, HubSpot_Submission_Id__c, Project_Type__c FROM Opportunity"
    )
    assert {o["HubSpot_Submission_Id__c"] for o in opportunities} == {
        first["conversion_id"],
        second["conversion_id"],
    }
    assert {o["AccountId"] for o in opportunities} == {contact["AccountId"]}
    [account] = harness.query("SELECT Name, BillingCity FROM Account")
    assert account["Name"] == "Leroy-Lambert"  # Salesforce wins...
    assert account["BillingCity"] == "Vielsalm"  # ...unless blank
    [kept] = harness.query("SELECT Phone FROM Contact")
    assert kept["Phone"] == "+32470000000"
    assert harness.count("Task") == 2


def test_owner_rules_and_a_rule_naming_a_missing_user(harness: Any, quote: Quote) -> None:
    german = harness.submit(
        quote(
            "jonas.becker@example.de",
            firstname="Jonas",
            lastname="Becker",
            country="Deutschland",
            site_country="Deutschland",
            site_postal_code="54290",
            site_city="Trier",
        )
    )
    french = harness.submit(
        quote(
            "lea.martin@example.fr",
            firstname="Léa",
            lastname="Martin",
            country="France",
            site_country="France",
            site_postal_code="57100",
            site_city="Thionville",
        )
    )
    harness.wait_idle()
    rows = {
        r["HubSpot_Submission_Id__c"]: r
        for r in harness.query(
            "SELECT HubSpot_Submission_Id__c, OwnerId, Intake_Warnings__c FROM Opportunity"
        )
    }
    assert rows[german["conversion_id"]]["OwnerId"] == user_id(
        harness, "sophie.weber@naturhome.example"
    )
    assert rows[german["conversion_id"]]["Intake_Warnings__c"] is None
    fallback = rows[french["conversion_id"]]
    assert fallback["OwnerId"] == user_id(harness, SALES_REP)
    assert (
        "Responsable nobody.here@naturhome.example (règle « France ») introuvable"
        in fallback["Intake_Warnings__c"]
    )


def test_a_submission_only_the_poller_found_is_filed_and_written_back_by_email(
    harness: Any, quote: Quote
) -> None:
    sent = harness.submit(quote("hugo.thill@example.lu"), deliver="none")  # no webhook at all
    poll = harness.runtime.inbox.enqueue(
        NewEvent(source="scheduler", kind="tick", flow="hubspot_poll", dedupe_key=f"t:{uuid4()}")
    )
    harness.wait_idle()

    assert harness.runtime.inbox.get(poll.event_id).status == "done"
    event = harness.intake_event(sent["conversion_id"])
    assert event.status == "done", event.last_error
    assert event.payload["contact_id"] is None  # the forms API does not name the contact
    [contact] = harness.query("SELECT HubSpot_Contact_Id__c FROM Contact")
    assert contact["HubSpot_Contact_Id__c"] is None
    [opportunity] = harness.query("SELECT Id FROM Opportunity")
    written = harness.hubspot_contact(sent["contact_id"], "salesforce_opportunity_id")
    assert written["salesforce_opportunity_id"] == opportunity["Id"]  # found by e-mail


def test_a_dry_run_reads_and_writes_nothing(harness: Any, quote: Quote) -> None:
    sent = harness.submit(quote("dry.run@example.be"), deliver="none")
    stored = harness.stored_submission(sent["conversion_id"])
    submission = Submission.from_forms_api(harness.form_guid, stored)
    before = harness.salesforce_api_calls()

    result = harness.runtime.dry_run(
        "lead_intake", payload=submission_payload(submission, received_via="test")
    )

    assert harness.salesforce_api_calls() - before == 1  # the read
    assert result.counters["salesforce_api_calls"] == 1
    assert result.summary is not None
    assert result.summary.startswith("would write: POST sobjects/Account; POST sobjects/Contact;")
    assert "PATCH sobjects/Opportunity/HubSpot_Submission_Id__c/" in result.summary
    assert result.follow_ups == []
    assert harness.count("Opportunity") == 0
