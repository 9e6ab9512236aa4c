"""Settings of the Salesforce connector, nested as ``salesforce`` in the service settings.

``NATURHOME_SALESFORCE__AUTH=jwt``, ``NATURHOME_SALESFORCE__USERNAME=...`` and so on. The
authentication flow is explicit; each flow names the settings it needs and start-up refuses
a flow whose settings are missing. JWT bearer and client credentials come first: Salesforce
is retiring the username-password flows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

AuthFlow = Literal["jwt", "client_credentials", "password", "soap"]

_REQUIRED: dict[str, tuple[str, ...]] = {
    # JWT bearer: a connected app with the integration user pre-authorised and a certificate.
    "jwt": ("username", "consumer_key"),
    # Client credentials: a connected/external client app with a run-as user; My Domain only.
    "client_credentials": ("consumer_key", "consumer_secret"),
    # OAuth username-password (being retired by Salesforce): password + token concatenated.
    "password": ("username", "password", "consumer_key", "consumer_secret"),
    # SOAP login with username, password and security token (being retired too).
    "soap": ("username", "password", "security_token"),
}


class SalesforceSettings(BaseModel):
    """How to reach and authenticate to the org.

    ``domain`` is where logins go: ``login`` (production), ``test`` (sandboxes) or a My
    Domain such as ``naturhome.my`` (required for client credentials). ``emulator_url``
    points the client at the local Salesforce emulator (https requests are rewritten to
    it); it is for the sandbox and tests only and is never set in production.
    ``api_usage_stop_ratio``: above this share of the daily API allocation, non-urgent
    flows stop and wait (urgent ones, such as intake, carry on).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth: AuthFlow = "jwt"
    domain: str = "login"
    api_version: str = "59.0"
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    consumer_key: str | None = None
    consumer_secret: SecretStr | None = None
    private_key_file: Path | None = None
    private_key: SecretStr | None = None
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=60.0, gt=0)
    retry_attempts: int = Field(default=3, ge=1, le=10)
    retry_max_wait_s: float = Field(default=8.0, ge=0)
    api_usage_stop_ratio: float = Field(default=0.8, gt=0, le=1)
    emulator_url: str | None = None

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value.startswith("v") or not value.replace(".", "").isdigit() or "." not in value:
            raise ValueError("use the form 59.0 (no leading v)")
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if "://" in value or value.endswith(".salesforce.com"):
            raise ValueError(
                "give the subdomain only: login, test or your My Domain such as naturhome.my"
            )
        return value

    @model_validator(mode="after")
    def _flow_has_its_settings(self) -> SalesforceSettings:
        missing = [name for name in _REQUIRED[self.auth] if not getattr(self, name)]
        if self.auth == "jwt" and not (self.private_key or self.private_key_file):
            missing.append("private_key_file")
        if missing:
            raise ValueError(f"auth={self.auth} needs {', '.join(missing)}")
        if self.auth == "client_credentials" and self.domain in ("login", "test"):
            raise ValueError("auth=client_credentials needs your My Domain in domain")
        return self
