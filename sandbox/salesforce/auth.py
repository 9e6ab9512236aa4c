"""Logins as simple-salesforce performs them, and the sessions they open.

SOAP ``login`` answers ``sessionId``/``serverUrl`` without a namespace prefix (the client
looks them up by literal tag name) and refuses with a SOAP fault carrying
``sf:exceptionCode``. The OAuth token endpoint serves the password, client-credentials and
JWT bearer grants with OAuth-style ``{error, error_description}`` refusals. Sessions expire
``token_ttl_seconds`` after their last use (an org's inactivity timeout); a fresh token
always works, because simple-salesforce retries forever on a 401 after re-login.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import jwt

from sandbox.salesforce.clock import Clock
from sandbox.salesforce.config import EmulatorConfig
from sandbox.salesforce.store import Store

_SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_PARTNER_NS = "urn:partner.soap.sforce.com"
_FAULT_NS = "urn:fault.partner.soap.sforce.com"
_INVALID_LOGIN = "Invalid username, password, security token; or user locked out."


@dataclass(frozen=True)
class LoginResult:
    status: int
    body: bytes | dict[str, Any]
    content_type: str


class Auth:
    def __init__(self, config: EmulatorConfig, store: Store, clock: Clock, org_id: str) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.org_id = org_id
        self.user_id = ""  # set once the running user exists

    # -- sessions ----------------------------------------------------------------------

    def issue(self) -> str:
        token = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(64)}"
        self.store.add_session(token, self.user_id, self.clock.timestamp())
        return token

    def authenticate(self, authorization: str | None) -> str | None:
        """The user id of a valid ``Authorization: Bearer``/``OAuth`` token, else None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token.strip():
            return None
        found = self.store.session(token.strip())
        if found is None:
            return None
        user_id, last_used = found
        now = self.clock.timestamp()
        if now - last_used > self.config.token_ttl_seconds:
            return None
        self.store.touch_session(token.strip(), now)
        return user_id

    # -- SOAP --------------------------------------------------------------------------

    def soap_login(self, body: bytes, instance_url: str, version: str) -> LoginResult:
        try:
            root = ET.fromstring(body)  # noqa: S314 - trusted loopback input, expat without external entities
        except ET.ParseError:
            return self._soap_fault("INVALID_LOGIN", "Invalid login request: malformed XML")
        username = _find_text(root, "username")
        password = _find_text(root, "password")
        creds = self.config.credentials
        if username != creds.username or password != creds.password + creds.security_token:
            return self._soap_fault("INVALID_LOGIN", _INVALID_LOGIN)
        token = self.issue()
        server_url = f"{instance_url}/services/Soap/u/{version}/{self.org_id[:15]}"
        user = self.config.running_user
        result = (
            f"<metadataServerUrl>{instance_url}/services/Soap/m/{version}/{self.org_id[:15]}"
            "</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
            f"<serverUrl>{escape(server_url)}</serverUrl><sessionId>{escape(token)}</sessionId>"
            f"<userId>{self.user_id}</userId><userInfo><organizationId>{self.org_id}</organizationId>"
            f"<sessionSecondsValid>{self.config.token_ttl_seconds}</sessionSecondsValid>"
            f"<userEmail>{escape(user.email)}</userEmail><userFullName>"
            f"{escape(user.first_name + ' ' + user.last_name)}</userFullName>"
            f"<userId>{self.user_id}</userId><userName>{escape(creds.username)}</userName>"
            f"<userTimeZone>{escape(user.time_zone)}</userTimeZone></userInfo>"
        )
        envelope = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{_SOAP_NS}" xmlns="{_PARTNER_NS}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<soapenv:Body><loginResponse><result>{result}</result></loginResponse>"
            "</soapenv:Body></soapenv:Envelope>"
        )
        return LoginResult(200, envelope.encode(), "text/xml; charset=utf-8")

    @staticmethod
    def _soap_fault(code: str, message: str) -> LoginResult:
        envelope = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{_SOAP_NS}" xmlns:sf="{_FAULT_NS}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
            f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
            '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
            f"<sf:exceptionCode>{code}</sf:exceptionCode>"
            f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
            "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        )
        return LoginResult(500, envelope.encode(), "text/xml; charset=utf-8")

    # -- OAuth -------------------------------------------------------------------------

    def oauth_token(
        self, body: bytes, authorization: str | None, instance_url: str, requested_host: str | None
    ) -> LoginResult:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type", "")
        creds = self.config.credentials
        if grant == "password":
            if form.get("client_id") != creds.consumer_key:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if form.get("client_secret") != creds.consumer_secret:
                return _oauth_error("invalid_client", "invalid client credentials")
            password = form.get("password", "")
            accepted = (creds.password, creds.password + creds.security_token)
            if form.get("username") != creds.username or password not in accepted:
                return _oauth_error("invalid_grant", "authentication failure")
        elif grant == "client_credentials":
            if requested_host is not None and _is_generic_login_host(requested_host):
                return _oauth_error("invalid_grant", "request not supported on this domain")
            key, secret = _basic_credentials(authorization)
            if key is None:
                key, secret = form.get("client_id"), form.get("client_secret")
            if key != creds.consumer_key:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if secret != creds.consumer_secret:
                return _oauth_error("invalid_client", "invalid client credentials")
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            refused = self._check_assertion(form.get("assertion", ""))
            if refused is not None:
                return refused
        else:
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        token = self.issue()
        issued_at = str(int(self.clock.timestamp() * 1000))
        signature = base64.b64encode(
            hmac.new(
                creds.consumer_secret.encode(),
                f"{instance_url}{issued_at}".encode(),
                hashlib.sha256,
            ).digest()
        ).decode()
        return LoginResult(
            200,
            {
                "access_token": token,
                "instance_url": instance_url,
                "id": f"{instance_url}/id/{self.org_id}/{self.user_id}",
                "token_type": "Bearer",
                "issued_at": issued_at,
                "signature": signature,
                "scope": "api",
            },
            "application/json",
        )

    def _check_assertion(self, assertion: str) -> LoginResult | None:
        creds = self.config.credentials
        try:
            header = jwt.get_unverified_header(assertion)
            if creds.jwt_public_key_pem:
                claims = jwt.decode(
                    assertion,
                    creds.jwt_public_key_pem,
                    algorithms=["RS256"],
                    options={"verify_exp": False, "verify_aud": False},
                )
            else:
                claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "invalid assertion")
        if header.get("alg") != "RS256":
            return _oauth_error("invalid_grant", "invalid assertion")
        if claims.get("iss") != creds.consumer_key:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        audiences = claims.get("aud")
        allowed = {
            "https://login.salesforce.com",
            "https://test.salesforce.com",
            f"https://{self.config.my_domain}.my.salesforce.com",
        }
        given = audiences if isinstance(audiences, list) else [audiences]
        if not any(a in allowed for a in given):
            return _oauth_error("invalid_grant", "audience is invalid")
        try:
            expires = float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            return _oauth_error("invalid_grant", "invalid assertion")
        if expires < self.clock.timestamp():
            return _oauth_error("invalid_grant", "expired authorization code")
        if claims.get("sub") != creds.username:
            return _oauth_error("invalid_grant", "user hasn't approved this consumer")
        return None


def _oauth_error(error: str, description: str) -> LoginResult:
    return LoginResult(400, {"error": error, "error_description": description}, "application/json")


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    if not authorization or not authorization.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(authorization[6:].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    key, _, secret = decoded.partition(":")
    return key, secret


def _is_generic_login_host(host: str) -> bool:
    name = host.split(":")[0].lower()
    return name in ("login.salesforce.com", "test.salesforce.com")


def _find_text(root: ET.Element, local_name: str) -> str | None:
    for element in root.iter():
        if element.tag == local_name or element.tag.endswith("}" + local_name):
            return element.text
    return None
