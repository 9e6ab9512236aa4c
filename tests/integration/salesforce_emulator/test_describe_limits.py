"""Describe generated from the schema, the version list, limits and the daily allocation."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceRefusedRequest, SalesforceResourceNotFound

from connectors.salesforce_transport import emulator_session


def test_version_list_and_resources(harness: Any) -> None:
    session = emulator_session(harness.url)
    versions = session.get("https://naturhome.my.salesforce.com/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"} in versions
    sf = harness.client()
    resources = sf.restful("")
    assert resources["sobjects"] == "/services/data/v59.0/sobjects"
    assert resources["query"] == "/services/data/v59.0/query"


def test_any_supported_version_is_echoed_and_future_ones_are_404(harness: Any) -> None:
    sf = harness.client()
    account_id = sf.Account.create({"Name": "a"})["id"]
    response = sf.session.get(
        f"{harness.url}/services/data/v62.0/sobjects/Account/{account_id}", headers=sf.headers
    )
    assert (
        response.json()["attributes"]["url"]
        == f"/services/data/v62.0/sobjects/Account/{account_id}"
    )
    future = sf.session.get(f"{harness.url}/services/data/v99.0/limits", headers=sf.headers)
    assert future.status_code == 404


def test_describe_global_lists_objects_with_key_prefixes(sf: Any) -> None:
    described = sf.describe()
    assert described["encoding"] == "UTF-8"
    assert described["maxBatchSize"] == 200
    by_name = {o["name"]: o for o in described["sobjects"]}
    assert by_name["Account"]["keyPrefix"] == "001"
    assert by_name["ContentVersion"]["keyPrefix"] == "068"
    assert by_name["ProcessInstance"]["keyPrefix"] == "04g"
    invoice_prefix = by_name["Invoice__c"]["keyPrefix"]
    assert invoice_prefix.startswith("a")
    assert len(invoice_prefix) == 3
    assert sf.Invoice__c.create({})["id"].startswith(invoice_prefix)
    assert by_name["ContentDocument"]["createable"] is False


def test_describe_object_fields_and_child_relationships(sf: Any) -> None:
    described = sf.Invoice__c.describe()
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["Status__c"]["type"] == "picklist"
    assert fields["Status__c"]["restrictedPicklist"] is True
    assert [v["value"] for v in fields["Status__c"]["picklistValues"]] == [
        "Draft",
        "Pending Approval",
        "Approved",
        "Rejected",
    ]
    assert fields["Request_Key__c"]["externalId"] is True
    assert fields["Request_Key__c"]["unique"] is True
    assert fields["Total__c"]["type"] == "currency"
    assert (
        fields["Total__c"]["precision"],
        fields["Total__c"]["scale"],
    ) == (16, 2)
    assert fields["Name"]["autoNumber"] is True
    assert fields["Name"]["createable"] is False
    assert fields["Opportunity__c"]["referenceTo"] == ["Opportunity"]
    assert fields["Opportunity__c"]["relationshipName"] == "Opportunity__r"
    children = {c["relationshipName"]: c for c in described["childRelationships"]}
    assert children["Invoice_Lines__r"]["cascadeDelete"] is True
    assert children["Invoice_Lines__r"]["childSObject"] == "Invoice_Line__c"
    metadata = sf.Invoice__c.metadata()
    assert metadata["objectDescribe"]["name"] == "Invoice__c"
    assert metadata["recentItems"] == []


def test_describe_of_an_unknown_object_is_404(sf: Any) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        sf.Nope__c.describe()


def test_limits_and_the_usage_header(harness: Any, sf: Any) -> None:
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == harness.config.daily_api_requests
    used = limits["DailyApiRequests"]["Max"] - limits["DailyApiRequests"]["Remaining"]
    account = sf.Account  # each attribute access builds a new SFType with its own api_usage
    account.create({"Name": "a"})
    assert account.api_usage["api-usage"].used == used + 1
    sf.query("SELECT COUNT() FROM Account")
    assert sf.api_usage["api-usage"].used == used + 2
    assert sf.api_usage["api-usage"].total == harness.config.daily_api_requests


def test_spent_allocation_answers_403_request_limit_exceeded(make_harness: Any) -> None:
    harness = make_harness(daily_api_requests=5)
    sf = harness.client()
    for _ in range(5):
        sf.query("SELECT COUNT() FROM Account")
    with pytest.raises(SalesforceRefusedRequest) as error:
        sf.query("SELECT COUNT() FROM Account")
    assert error.value.status == 403
    assert error.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert harness.stats()["api_usage"] == {"used": 5, "max": 5}
    harness.client()  # logins still work
    harness.advance(24 * 3600)  # a new day
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
