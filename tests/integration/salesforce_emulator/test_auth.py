"""The four login flows simple-salesforce uses, session expiry and transparent re-login."""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from connectors.salesforce_transport import emulator_session
from sandbox.salesforce import Credentials

VERSION = "59.0"


def _key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[str, str]]:
    return {"good": _key_pair(), "other": _key_pair()}


@pytest.fixture
def jwt_harness(make_harness: Any, keys: dict[str, tuple[str, str]]) -> Any:
    return make_harness(credentials=Credentials(jwt_public_key_pem=keys["good"][1]))


def soap_logins(harness: Any) -> int:
    return int(harness.stats()["calls"].get(f"POST /services/Soap/u/{VERSION}", 0))


def test_soap_login_with_password_and_security_token(harness: Any) -> None:
    sf = harness.client()
    assert sf.sf_instance == harness.url.removeprefix("http://")
    assert sf.session_id.startswith(harness.config.org_id[:15] + "!")
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1


def test_soap_login_refusal_is_a_fault_with_exception_code(harness: Any) -> None:
    creds = harness.config.credentials
    with pytest.raises(SalesforceAuthenticationFailed) as error:
        Salesforce(
            username=creds.username,
            password=creds.password,
            security_token="wrong",
            session=emulator_session(harness.url),
            version=VERSION,
        )
    assert error.value.code == "INVALID_LOGIN"
    assert (
        error.value.auth_message
        == "Invalid username, password, security token; or user locked out."
    )


def test_soap_fault_is_http_500_with_sf_prefixed_elements(harness: Any) -> None:
    response = emulator_session(harness.url).post(
        f"https://login.salesforce.com/services/Soap/u/{VERSION}",
        data="<env:Envelope/>",
        headers={"SOAPAction": "login", "content-type": "text/xml"},
    )
    assert response.status_code == 500
    assert b"<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in response.content


@pytest.mark.parametrize("with_token", [False, True])
def test_oauth_password_flow(harness: Any, with_token: bool) -> None:
    creds = harness.config.credentials
    sf = Salesforce(
        username=creds.username,
        password=creds.password + (creds.security_token if with_token else ""),
        consumer_key=creds.consumer_key,
        consumer_secret=creds.consumer_secret,
        session=emulator_session(harness.url),
        version=VERSION,
    )
    assert sf.Account.create({"Name": "via oauth"})["success"] is True


def test_oauth_password_flow_refusals(harness: Any) -> None:
    creds = harness.config.credentials
    cases = [
        ({"consumer_secret": "nope"}, "invalid_client", "invalid client credentials"),
        ({"consumer_key": "nope"}, "invalid_client_id", "client identifier invalid"),
        ({"password": "nope"}, "invalid_grant", "authentication failure"),
    ]
    for override, code, message in cases:
        kwargs = {
            "username": creds.username,
            "password": creds.password,
            "consumer_key": creds.consumer_key,
            "consumer_secret": creds.consumer_secret,
            **override,
        }
        with pytest.raises(SalesforceAuthenticationFailed) as error:
            Salesforce(session=emulator_session(harness.url), version=VERSION, **kwargs)
        assert (error.value.code, error.value.auth_message) == (code, message)


def test_client_credentials_flow_on_my_domain(harness: Any) -> None:
    creds = harness.config.credentials
    sf = Salesforce(
        consumer_key=creds.consumer_key,
        consumer_secret=creds.consumer_secret,
        domain="naturhome.my",
        session=emulator_session(harness.url),
        version=VERSION,
    )
    assert sf.auth_type == "client-credentials"
    assert sf.query("SELECT Username FROM User")["records"][0]["Username"] == creds.username


def test_client_credentials_are_refused_on_the_generic_login_host(harness: Any) -> None:
    creds = harness.config.credentials
    basic = base64.b64encode(f"{creds.consumer_key}:{creds.consumer_secret}".encode()).decode()
    response = emulator_session(harness.url).post(
        "https://login.salesforce.com/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "request not supported on this domain",
    }


def test_unsupported_grant_type(harness: Any) -> None:
    response = emulator_session(harness.url).post(
        "https://naturhome.my.salesforce.com/services/oauth2/token",
        data={"grant_type": "authorization_code"},
    )
    assert response.json() == {
        "error": "unsupported_grant_type",
        "error_description": "grant type not supported",
    }


def test_jwt_bearer_flow_verifies_the_signature(
    jwt_harness: Any, keys: dict[str, tuple[str, str]]
) -> None:
    creds = jwt_harness.config.credentials
    sf = Salesforce(
        username=creds.username,
        consumer_key=creds.consumer_key,
        privatekey=keys["good"][0],
        domain="naturhome.my",
        session=emulator_session(jwt_harness.url),
        version=VERSION,
    )
    assert sf.auth_type == "jwt-bearer"
    assert sf.Account.create({"Name": "via jwt"})["success"] is True
    with pytest.raises(SalesforceAuthenticationFailed) as error:
        Salesforce(
            username=creds.username,
            consumer_key=creds.consumer_key,
            privatekey=keys["other"][0],
            domain="naturhome.my",
            session=emulator_session(jwt_harness.url),
            version=VERSION,
        )
    assert (error.value.code, error.value.auth_message) == ("invalid_grant", "invalid assertion")


def _assertion(key: str, **claims: Any) -> str:
    payload = {
        "iss": "emulator-consumer-key",
        "sub": "integration@naturhome.example",
        "aud": "https://naturhome.my.salesforce.com",
        "exp": str(int(time.time()) + 180),
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256")


@pytest.mark.parametrize(
    ("claims", "error", "description"),
    [
        ({"aud": "https://evil.example.com"}, "invalid_grant", "audience is invalid"),
        ({"exp": str(int(time.time()) - 10)}, "invalid_grant", "expired authorization code"),
        ({"iss": "someone-else"}, "invalid_client_id", "client identifier invalid"),
        ({"sub": "nobody@example.com"}, "invalid_grant", "user hasn't approved this consumer"),
    ],
)
def test_jwt_claims_are_checked(
    jwt_harness: Any,
    keys: dict[str, tuple[str, str]],
    claims: dict[str, Any],
    error: str,
    description: str,
) -> None:
    response = emulator_session(jwt_harness.url).post(
        "https://naturhome.my.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": _assertion(keys["good"][0], **claims),
        },
    )
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_oauth_success_body_has_the_usual_keys(harness: Any) -> None:
    creds = harness.config.credentials
    response = emulator_session(harness.url).post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": creds.consumer_key,
            "client_secret": creds.consumer_secret,
            "username": creds.username,
            "password": creds.password,
        },
    )
    body = response.json()
    assert set(body) == {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
        "scope",
    }
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == harness.url


# -- expiry ------------------------------------------------------------------------------------


def test_expired_sessions_answer_401_in_list_form_and_the_client_logs_in_again(
    harness: Any,
) -> None:
    sf = harness.client()
    account_id = sf.Account.create({"Name": "before"})["id"]
    first_token = sf.session_id
    harness.control("DELETE", "/stats")
    harness.advance(harness.config.token_ttl_seconds + 1)
    raw = sf.session.get(
        harness.data_url("limits/"), headers={"Authorization": f"Bearer {first_token}"}
    )
    assert raw.status_code == 401
    assert raw.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert sf.Account.get(account_id)["Name"] == "before"  # SFType path re-logs in
    assert sf.session_id != first_token
    harness.advance(harness.config.token_ttl_seconds + 1)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1  # Salesforce path re-logs in
    assert soap_logins(harness) == 2


def test_sessions_stay_alive_while_used(harness: Any) -> None:
    sf = harness.client()
    half = harness.config.token_ttl_seconds * 0.6
    for _ in range(3):
        harness.advance(half)
        sf.query("SELECT COUNT() FROM Account")
    assert soap_logins(harness) == 1


def test_direct_sessions_do_not_refresh(harness: Any) -> None:
    token = harness.client().session_id
    sf = Salesforce(
        instance_url=harness.url,
        session_id=token,
        session=emulator_session(harness.url),
        version=VERSION,
    )
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    harness.control("DELETE", "/sessions")
    with pytest.raises(SalesforceExpiredSession) as error:
        sf.query("SELECT COUNT() FROM Account")
    assert error.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_missing_or_unknown_bearer_is_401(harness: Any) -> None:
    session = emulator_session(harness.url)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = session.get(harness.data_url("limits/"), headers=headers)
        assert response.status_code == 401
        assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"
