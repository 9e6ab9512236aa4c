"""The Salesforce connector against answers recorded from the real service.

Our emulators are written from the same reference notes as the connectors, so a misreading
of Salesforce would be shared by both and pass every integration test. Here the connector
(through simple-salesforce and requests, unmodified) meets the answers the notes quote from
real orgs instead (``/work/shared/reference/salesforce.md``: §1.3 logins, §1.6 and §2.14
error bodies, §2.5 query pages, §2.7 collection results, §2.8 composite), served by
``responses`` on the real host names. Every registered answer must be asked for
(``assert_all_requests_are_fired``), so a test also proves which calls were made, in order.

The HubSpot forms and file paths are in ``test_recorded_http_hubspot.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from pydantic import SecretStr
from responses import matchers

from connectors.salesforce import SalesforceClient
from connectors.salesforce_composite import SubRequest
from connectors.salesforce_results import ApiUsage
from connectors.salesforce_settings import SalesforceSettings
from naturhome_sync.errors import (
    AuthError,
    PermanentConfigError,
    PermanentDataError,
    RateLimitedError,
)

LOGIN_HOST = "https://login.salesforce.com"
SOAP_LOGIN = f"{LOGIN_HOST}/services/Soap/u/59.0"
OAUTH_TOKEN = f"{LOGIN_HOST}/services/oauth2/token"
INSTANCE = "https://naturhome.my.salesforce.com"
DATA = f"{INSTANCE}/services/data/v59.0"
ORG_ID = "00D5e000000AbCdEAK"
SESSION = f"{ORG_ID}!AQ4AQFeP1zMv3kPBwnx.session"
LIMIT_INFO = {"Sforce-Limit-Info": "api-usage=25/15000"}
FAULT_NS = 'xmlns:sf="urn:fault.partner.soap.sforce.com"'
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" {ns} '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{body}'
    "</soapenv:Body></soapenv:Envelope>"
)
#: A real SOAP login answer: unprefixed elements in the partner namespace (§1.3).
LOGIN_OK = ENVELOPE.format(
    ns='xmlns="urn:partner.soap.sforce.com"',
    body=(
        "<loginResponse><result>"
        f"<metadataServerUrl>{INSTANCE}/services/Soap/m/59.0/{ORG_ID}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{INSTANCE}/services/Soap/u/59.0/{ORG_ID}</serverUrl>"
        f"<sessionId>{SESSION}</sessionId><userId>0055e000001XyZaAAK</userId>"
        "<userInfo><organizationId>00D5e000000AbCdEAK</organizationId>"
        "<sessionSecondsValid>7200</sessionSecondsValid>"
        "<userName>integration@naturhome.be</userName>"
        "<userTimeZone>Europe/Brussels</userTimeZone></userInfo>"
        "</result></loginResponse>"
    ),
)
#: The refusal: HTTP 500, a SOAP fault whose detail carries ``sf:exceptionCode`` (§1.3).
LOGIN_REFUSED = ENVELOPE.format(
    ns=FAULT_NS,
    body=(
        "<soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: "
        "Invalid username, password, security token; or user locked out.</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid "
        "username, password, security token; or user locked out.</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault>"
    ),
)


def account_row(record_id: str, name: str) -> dict[str, Any]:
    url = f"/services/data/v59.0/sobjects/Account/{record_id}"
    return {"attributes": {"type": "Account", "url": url}, "Id": record_id, "Name": name}


def error_body(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
    """Salesforce's top-level REST error: a list of ``{message, errorCode, fields}`` (§1.6)."""
    return [{"message": message, "errorCode": code, "fields": fields or []}]


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def soap_client(**overrides: Any) -> SalesforceClient:
    settings = SalesforceSettings(
        auth="soap",
        username="integration@naturhome.be",
        password=SecretStr("secret"),
        security_token=SecretStr("TOKEN"),
        retry_max_wait_s=0,  # retries at once: the answers are canned
        **overrides,
    )
    return SalesforceClient(settings)


def logged_in(http: responses.RequestsMock) -> SalesforceClient:
    http.post(SOAP_LOGIN, body=LOGIN_OK, status=200, content_type="text/xml; charset=utf-8")
    return soap_client()


# -- logins ------------------------------------------------------------------------------------


def test_a_soap_login_answer_gives_the_session_and_instance_of_every_call(
    http: responses.RequestsMock,
) -> None:
    client = logged_in(http)
    http.get(
        f"{DATA}/query/",
        json={"totalSize": 1, "done": True, "records": [account_row("0015e00000AbCdEAAV", "A")]},
        headers=LIMIT_INFO,
        match=[
            matchers.query_param_matcher({"q": "SELECT Id, Name FROM Account"}),
            matchers.header_matcher({"Authorization": f"Bearer {SESSION}"}),
        ],
    )

    rows = client.query("SELECT Id, Name FROM Account")

    assert [row["Name"] for row in rows] == ["A"]
    assert client.instance_url == INSTANCE
    assert client.usage == ApiUsage(used=25, limit=15000)  # read from Sforce-Limit-Info
    login_body = http.calls[0].request.body
    assert isinstance(login_body, bytes | str)
    assert ":password>secretTOKEN</" in str(login_body)  # password + token, as Salesforce wants


def test_a_soap_fault_refusing_the_login_is_an_auth_error_not_retried(
    http: responses.RequestsMock,
) -> None:
    http.post(SOAP_LOGIN, body=LOGIN_REFUSED, status=500, content_type="text/xml")
    client = soap_client()

    with pytest.raises(AuthError) as caught:
        client.count("SELECT COUNT() FROM Account")

    assert caught.value.code == "INVALID_LOGIN"
    assert "user locked out" in str(caught.value)
    assert len(http.calls) == 1


def test_an_oauth_refusal_is_an_auth_error_with_its_oauth_code(
    http: responses.RequestsMock,
) -> None:
    http.post(
        OAUTH_TOKEN,
        json={"error": "invalid_grant", "error_description": "authentication failure"},
        status=400,
    )
    client = SalesforceClient(
        SalesforceSettings(
            auth="password",
            username="integration@naturhome.be",
            password=SecretStr("secret"),
            security_token=SecretStr("TOKEN"),
            consumer_key="3MVG9-key",
            consumer_secret=SecretStr("consumer-secret"),
        )
    )

    with pytest.raises(AuthError) as caught:
        client.count("SELECT COUNT() FROM Account")

    assert caught.value.code == "invalid_grant"
    assert "authentication failure" in str(caught.value)


def test_an_expired_session_logs_in_again_once_and_repeats_the_call(
    http: responses.RequestsMock,
) -> None:
    client = logged_in(http)
    http.get(
        f"{DATA}/query/",
        json=error_body("INVALID_SESSION_ID", "Session expired or invalid"),
        status=401,
    )
    http.post(SOAP_LOGIN, body=LOGIN_OK, status=200, content_type="text/xml; charset=utf-8")
    http.get(f"{DATA}/query/", json={"totalSize": 3, "done": True, "records": []})

    assert client.count("SELECT COUNT() FROM Account") == 3
    assert client.logins == 2


# -- error bodies ------------------------------------------------------------------------------


def test_a_locked_row_is_retried_and_then_answers(http: responses.RequestsMock) -> None:
    client = logged_in(http)
    locked = "unable to obtain exclusive access to this record or 1 records: 0015e00000AbCdE"
    http.get(f"{DATA}/query/", json=error_body("UNABLE_TO_LOCK_ROW", locked), status=400)
    http.get(f"{DATA}/query/", json={"totalSize": 0, "done": True, "records": []})

    assert client.count("SELECT COUNT() FROM Account") == 0


def test_the_spent_daily_allocation_goes_back_to_the_queue_for_a_while(
    http: responses.RequestsMock,
) -> None:
    client = logged_in(http)
    http.get(
        f"{DATA}/query/",
        json=error_body("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        status=403,
        headers={"Sforce-Limit-Info": "api-usage=15001/15000"},
    )

    with pytest.raises(RateLimitedError) as caught:
        client.count("SELECT COUNT() FROM Account")

    assert caught.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert caught.value.retry_after is not None and caught.value.retry_after >= 15 * 60
    assert len(http.calls) == 2  # the login and the refused call: not repeated in-process


def test_an_external_id_matching_several_records_is_a_data_error(
    http: responses.RequestsMock,
) -> None:
    """Upsert on a non-unique external id: 300 with the matching records' URLs (§2.4)."""
    client = logged_in(http)
    urls = [
        "/services/data/v59.0/sobjects/Account/0015e00000AbCdEAAV",
        "/services/data/v59.0/sobjects/Account/0015e00000AbCdFAAV",
    ]
    http.patch(f"{DATA}/sobjects/Account/Naturhome_Id__c/A-1", json=urls, status=300)

    with pytest.raises(PermanentDataError) as caught:
        client.upsert("Account", "Naturhome_Id__c", "A-1", {"Name": "Acme"})

    assert "0015e00000AbCdFAAV" in str(caught.value)
    assert len(http.calls) == 2


def test_an_external_id_field_the_org_lacks_is_a_configuration_error(
    http: responses.RequestsMock,
) -> None:
    client = logged_in(http)
    http.patch(
        f"{DATA}/sobjects/Account/Naturhome_Id__c/A-1",
        json=error_body(
            "NOT_FOUND",
            "Provided external ID field does not exist or is not accessible: Naturhome_Id__c",
        ),
        status=404,
    )

    with pytest.raises(PermanentConfigError) as caught:
        client.upsert("Account", "Naturhome_Id__c", "A-1", {"Name": "Acme"})

    assert caught.value.code == "NOT_FOUND"


# -- pages, collections, composite -------------------------------------------------------------


def test_a_query_follows_next_records_url_to_the_last_page(http: responses.RequestsMock) -> None:
    client = logged_in(http)
    locator = "/services/data/v59.0/query/01gD0000002HU6KIAW-2000"
    http.get(
        f"{DATA}/query/",
        json={
            "totalSize": 3,
            "done": False,
            "nextRecordsUrl": locator,
            "records": [
                account_row("0015e00000AbCd1AAV", "A"),
                account_row("0015e00000AbCd2AAV", "B"),
            ],
        },
    )
    http.get(
        f"{INSTANCE}{locator}",
        json={"totalSize": 3, "done": True, "records": [account_row("0015e00000AbCd3AAV", "C")]},
    )

    assert [row["Name"] for row in client.query_iter("SELECT Id, Name FROM Account")] == [
        "A",
        "B",
        "C",
    ]


def test_collection_results_are_read_record_by_record_from_their_status_codes(
    http: responses.RequestsMock,
) -> None:
    """sObject Collections answer 200 with one result per record; failures use
    ``statusCode`` (not ``errorCode``), and allOrNone rolls the others back (§2.7)."""
    client = logged_in(http)
    http.patch(
        f"{DATA}/composite/sobjects/Account/Naturhome_Id__c",
        json=[
            {"id": "0015e00000AbCd1AAV", "success": True, "errors": [], "created": True},
            {
                "success": False,
                "errors": [
                    {
                        "statusCode": "REQUIRED_FIELD_MISSING",
                        "message": "Required fields are missing: [Name]",
                        "fields": ["Name"],
                    }
                ],
            },
        ],
        match=[matchers.json_params_matcher({"allOrNone": False}, strict_match=False)],
    )

    first, second = client.upsert_many(
        "Account",
        "Naturhome_Id__c",
        [{"Naturhome_Id__c": "A-1", "Name": "Acme"}, {"Naturhome_Id__c": "A-2"}],
    )

    assert (first.success, first.id, first.created) == (True, "0015e00000AbCd1AAV", True)
    assert second.success is False and second.error is not None
    assert isinstance(second.error, PermanentDataError)
    assert second.error.code == "REQUIRED_FIELD_MISSING"
    assert second.error.external_id == "A-2"


def test_a_halted_composite_names_the_failure_that_halted_it(http: responses.RequestsMock) -> None:
    """allOrNone: the failing subrequest carries its own error, the others PROCESSING_HALTED
    (§2.8); the error raised is the cause, not a consequence."""
    client = logged_in(http)
    halted = (
        "The transaction was rolled back since another operation in the same transaction failed."
    )
    http.post(
        f"{DATA}/composite",
        json={
            "compositeResponse": [
                {
                    "body": error_body("PROCESSING_HALTED", halted),
                    "httpHeaders": {},
                    "httpStatusCode": 400,
                    "referenceId": "newAccount",
                },
                {
                    "body": error_body(
                        "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Le code postal est obligatoire", []
                    ),
                    "httpHeaders": {},
                    "httpStatusCode": 400,
                    "referenceId": "newContact",
                },
            ]
        },
    )
    requests_ = [
        SubRequest("POST", "sobjects/Account", "newAccount", {"Name": "Acme"}),
        SubRequest("POST", "sobjects/Contact", "newContact", {"AccountId": "@{newAccount.id}"}),
    ]

    result = client.composite(requests_)

    assert not result.ok
    assert result["newAccount"].status == 400
    with pytest.raises(PermanentDataError) as caught:
        result.raise_for_errors()
    assert caught.value.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert "code postal" in str(caught.value)
