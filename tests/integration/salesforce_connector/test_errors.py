"""Every Salesforce error lands in the right category of the taxonomy, decided by its code.

The expected category of each code is written out here, independently of the connector's
table, and the injected status is the one an org uses (notes §2.14). Transient codes are
retried in-process (3 calls), 401s once after a fresh login (2 calls), everything else is
not retried (1 call). The second half triggers the same codes for real (validation), which
also runs against a live org.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from connectors.salesforce import SalesforceClient
from connectors.salesforce_errors import BY_CODE
from naturhome_sync.errors import SyncError

if TYPE_CHECKING:
    from conftest import Cleanup, Emulator

emulator_only = pytest.mark.emulator_only

#: errorCode -> (HTTP status an org answers with, category, calls the client makes).
DATA_ERRORS: dict[str, tuple[int, str, int]] = {
    "UNABLE_TO_LOCK_ROW": (400, "transient", 3),
    "SERVER_UNAVAILABLE": (503, "transient", 3),
    "UNKNOWN_EXCEPTION": (500, "transient", 3),
    "QUERY_TIMEOUT": (400, "transient", 3),
    "INVALID_QUERY_LOCATOR": (400, "transient", 3),
    "REQUEST_RUNNING_TOO_LONG": (400, "transient", 3),
    "REQUEST_LIMIT_EXCEEDED": (403, "rate_limited", 1),
    "CONCURRENT_REQUESTS_LIMIT_EXCEEDED": (403, "rate_limited", 1),
    "INVALID_SESSION_ID": (401, "auth", 2),
    "INVALID_AUTH_HEADER": (401, "auth", 2),
    "INVALID_FIELD": (400, "permanent_config", 1),
    "INVALID_TYPE": (400, "permanent_config", 1),
    "INVALID_FIELD_FOR_INSERT_UPDATE": (400, "permanent_config", 1),
    "INSUFFICIENT_ACCESS": (403, "permanent_config", 1),
    "INSUFFICIENT_ACCESS_OR_READONLY": (400, "permanent_config", 1),
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": (400, "permanent_config", 1),
    "API_DISABLED_FOR_ORG": (403, "permanent_config", 1),
    "API_CURRENTLY_DISABLED": (403, "permanent_config", 1),
    "FUNCTIONALITY_NOT_ENABLED": (403, "permanent_config", 1),
    "NO_APPLICABLE_PROCESS": (400, "permanent_config", 1),
    "MALFORMED_QUERY": (400, "permanent_config", 1),
    "METHOD_NOT_ALLOWED": (405, "permanent_config", 1),
    "REQUIRED_FIELD_MISSING": (400, "permanent_data", 1),
    "STRING_TOO_LONG": (400, "permanent_data", 1),
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": (400, "permanent_data", 1),
    "DUPLICATE_VALUE": (400, "permanent_data", 1),
    "DUPLICATES_DETECTED": (400, "permanent_data", 1),
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": (400, "permanent_data", 1),
    "FIELD_INTEGRITY_EXCEPTION": (400, "permanent_data", 1),
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": (400, "permanent_data", 1),
    "INVALID_CROSS_REFERENCE_KEY": (400, "permanent_data", 1),
    "MALFORMED_ID": (400, "permanent_data", 1),
    "JSON_PARSER_ERROR": (400, "permanent_data", 1),
    "NUMBER_OUTSIDE_VALID_RANGE": (400, "permanent_data", 1),
    "INVALID_EMAIL_ADDRESS": (400, "permanent_data", 1),
    "ENTITY_IS_DELETED": (404, "permanent_data", 1),
    "NOT_FOUND": (404, "permanent_data", 1),
    "ALREADY_IN_PROCESS": (400, "permanent_data", 1),
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": (400, "permanent_data", 1),
    "PROCESSING_HALTED": (400, "permanent_data", 1),
}

#: OAuth ``error`` codes (and SOAP exceptionCodes, same table) -> (status, category, logins).
LOGIN_ERRORS: dict[str, tuple[int, str, int]] = {
    "unknown_error": (400, "transient", 3),
    "temporarily_unavailable": (503, "transient", 3),
    "INVALID_LOGIN": (400, "auth", 1),
    "LOGIN_MUST_USE_SECURITY_TOKEN": (400, "auth", 1),
    "INVALID_OPERATION_WITH_EXPIRED_PASSWORD": (400, "auth", 1),
    "PASSWORD_LOCKOUT": (400, "auth", 1),
    "invalid_grant": (400, "auth", 1),
    "invalid_client": (400, "auth", 1),
    "invalid_client_id": (400, "auth", 1),
    "unsupported_grant_type": (400, "auth", 1),
}

#: A well-formed Account id (checksum included) that no org has.
MISSING_ACCOUNT = "001000000000001AAA"


def test_the_tables_here_cover_every_code_the_connector_knows() -> None:
    assert set(BY_CODE) == set(DATA_ERRORS) | set(LOGIN_ERRORS)


@emulator_only
@pytest.mark.parametrize("code", list(DATA_ERRORS))
def test_each_data_error_code_maps_to_its_category(
    emulator: Emulator, client: SalesforceClient, code: str
) -> None:
    status, category, calls = DATA_ERRORS[code]
    client.limits()
    emulator.fault("PATCH", "/sobjects/Account/", status=status, errorCode=code, times=None)
    with pytest.raises(SyncError) as caught:
        client.update("Account", MISSING_ACCOUNT, {"Name": "x"})
    assert caught.value.category == category
    assert caught.value.code == code
    assert emulator.calls("PATCH", "/sobjects/Account/{id}") == calls
    if code == "REQUEST_LIMIT_EXCEEDED":  # the daily allocation: wait, do not hammer
        assert caught.value.retry_after == 15 * 60
    elif category == "rate_limited":  # too many at once: a short pause is enough
        assert 0 < (caught.value.retry_after or 0) <= 60


@emulator_only
def test_the_concurrent_request_limit_is_a_short_wait(
    emulator: Emulator, client: SalesforceClient
) -> None:
    """Same errorCode as the spent daily allocation, but it clears within seconds."""
    client.limits()
    message = "ConcurrentPerOrgLongTxn Limit exceeded"
    emulator.fault("GET", "/query", errorCode="REQUEST_LIMIT_EXCEEDED", message=message)
    with pytest.raises(SyncError) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.category == "rate_limited"
    assert 0 < (caught.value.retry_after or 0) <= 60
    assert emulator.calls("GET", "/query") == 1


@emulator_only
@pytest.mark.parametrize("code", list(LOGIN_ERRORS))
def test_each_login_error_code_maps_to_its_category(
    emulator: Emulator, client: SalesforceClient, code: str
) -> None:
    status, category, logins = LOGIN_ERRORS[code]
    body = {"error": code, "error_description": "refused by the test"}
    emulator.fault("POST", "/services/oauth2/token", status=status, body=body, times=None)
    with pytest.raises(SyncError) as caught:
        client.count("SELECT COUNT() FROM Account")
    assert caught.value.category == category
    assert caught.value.code == code
    assert "refused by the test" in str(caught.value)
    assert emulator.logins() == logins


@emulator_only
@pytest.mark.parametrize(
    ("status", "body", "category", "calls"),
    [
        (503, "<html>Down for maintenance</html>", "transient", 3),
        (502, None, "transient", 3),
        (429, None, "rate_limited", 1),
        (418, None, "permanent_data", 1),
    ],
)
def test_an_error_without_a_salesforce_code_falls_back_on_the_status(
    emulator: Emulator,
    client: SalesforceClient,
    status: int,
    body: Any,
    category: str,
    calls: int,
) -> None:
    client.limits()
    emulator.fault("GET", "/query", status=status, body=body, times=None)
    with pytest.raises(SyncError) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.category == category
    assert caught.value.code == f"HTTP_{status}"
    assert emulator.calls("GET", "/query") == calls


@emulator_only
def test_a_login_answering_5xx_without_a_body_is_transient(
    emulator: Emulator, client: SalesforceClient
) -> None:
    emulator.fault("POST", "/services/oauth2/token", status=503, body=None, times=2)
    assert client.count("SELECT COUNT() FROM Account") == 0
    assert emulator.logins() == 3


# -- the same codes, triggered for real (emulator and live org) --------------------------------


def _fails(client: SalesforceClient, action: Callable[[], Any]) -> SyncError:
    before = client.api_calls
    with pytest.raises(SyncError) as caught:
        action()
    assert client.api_calls - before == 1, "a permanent error must not be retried"
    return caught.value


def test_required_field_missing(client: SalesforceClient) -> None:
    error = _fails(client, lambda: client.create("Account", {"Website": "naturhome.be"}))
    assert (error.category, error.code) == ("permanent_data", "REQUIRED_FIELD_MISSING")
    assert error.details["fields"] == ["Name"]


def test_string_too_long(client: SalesforceClient) -> None:
    error = _fails(client, lambda: client.create("Account", {"Name": "N" * 256}))
    assert (error.category, error.code) == ("permanent_data", "STRING_TOO_LONG")


def test_restricted_picklist(client: SalesforceClient, key: Callable[[str], str]) -> None:
    values = {"Event_Id__c": key("ev"), "Category__c": "no-such-category"}
    error = _fails(client, lambda: client.create("Integration_Error__c", values))
    assert (error.category, error.code) == (
        "permanent_data",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    )
    assert error.details["fields"] == ["Category__c"]


def test_duplicate_value(
    client: SalesforceClient, cleanup: Cleanup, key: Callable[[str], str]
) -> None:
    code = key("dup")
    cleanup.add(client.create("Work_Item__c", {"Name": "Frame", "Code__c": code}))
    error = _fails(client, lambda: client.create("Work_Item__c", {"Name": "Copy", "Code__c": code}))
    assert (error.category, error.code) == ("permanent_data", "DUPLICATE_VALUE")


def test_wrong_value_type(client: SalesforceClient, key: Callable[[str], str]) -> None:
    values = {"Event_Id__c": key("ev"), "Attempts__c": "three"}
    error = _fails(client, lambda: client.create("Integration_Error__c", values))
    assert (error.category, error.code) == ("permanent_data", "JSON_PARSER_ERROR")


def test_lookup_to_a_record_that_does_not_exist(client: SalesforceClient) -> None:
    values = {"Name": "Maison", "StageName": "Quote Requested", "CloseDate": "2026-06-30"}
    error = _fails(
        client, lambda: client.create("Opportunity", {**values, "AccountId": MISSING_ACCOUNT})
    )
    assert (error.category, error.code) == ("permanent_data", "INVALID_CROSS_REFERENCE_KEY")


def test_malformed_id(client: SalesforceClient) -> None:
    values = {"Name": "Maison", "StageName": "Quote Requested", "CloseDate": "2026-06-30"}
    error = _fails(client, lambda: client.create("Opportunity", {**values, "AccountId": "001xyz"}))
    assert (error.category, error.code) == ("permanent_data", "MALFORMED_ID")


def test_updating_a_record_that_does_not_exist(client: SalesforceClient) -> None:
    error = _fails(client, lambda: client.update("Account", MISSING_ACCOUNT, {"Name": "x"}))
    assert error.category == "permanent_data"
    assert error.code in ("NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY")  # unconfirmed which


def test_updating_a_deleted_record(client: SalesforceClient, key: Callable[[str], str]) -> None:
    account_id = client.create("Account", {"Name": key("acct")})
    client.delete("Account", account_id)
    error = _fails(client, lambda: client.update("Account", account_id, {"Name": "x"}))
    assert (error.category, error.code) == ("permanent_data", "ENTITY_IS_DELETED")


def test_writing_a_read_only_field(client: SalesforceClient, key: Callable[[str], str]) -> None:
    values = {"Name": key("acct"), "CreatedDate": "2020-01-01T00:00:00.000Z"}
    error = _fails(client, lambda: client.create("Account", values))
    assert (error.category, error.code) == ("permanent_config", "INVALID_FIELD_FOR_INSERT_UPDATE")


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id, No_Such_Field__c FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM No_Such_Object__c", "INVALID_TYPE"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
    ],
)
def test_queries_the_org_cannot_answer(client: SalesforceClient, soql: str, code: str) -> None:
    error = _fails(client, lambda: client.query(soql))
    assert (error.category, error.code) == ("permanent_config", code)


def test_reads_of_missing_records_are_none_not_errors(client: SalesforceClient) -> None:
    assert client.get("Account", MISSING_ACCOUNT) is None
    assert client.get_by_external_id("Work_Item__c", "Code__c", "nht-never-created") is None


def test_a_field_that_is_not_an_external_id_is_a_config_error(client: SalesforceClient) -> None:
    """The org lacks the external id the code relies on: not "no record", and no retry."""
    error = _fails(client, lambda: client.get_by_external_id("Work_Item__c", "Active__c", "x"))
    assert (error.category, error.code) == ("permanent_config", "NOT_FOUND")
    error = _fails(client, lambda: client.upsert("Work_Item__c", "Active__c", "x", {"Name": "y"}))
    assert (error.category, error.code) == ("permanent_config", "NOT_FOUND")
