"""Settings of the HubSpot connector, nested as ``hubspot`` in the service settings.

With pydantic-settings' ``env_nested_delimiter="__"`` they read from
``NATURHOME_HUBSPOT__ACCESS_TOKEN``, ``NATURHOME_HUBSPOT__FORM_GUIDS='["..."]'`` and so on.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

SignatureVersion = Literal["v1", "v2", "v3"]


def _every_signature_version() -> list[SignatureVersion]:
    return ["v1", "v2", "v3"]


class HubSpotSettings(BaseModel):
    """HubSpot connection settings (nested as ``hubspot`` in the service settings).

    ``webhook_public_base_url`` is the scheme, host and any path prefix HubSpot uses to
    reach the service (``https://sync.naturhome.be``); signatures cover the URL HubSpot
    called, which a reverse proxy hides from us. ``None`` trusts the request's own URL.
    ``account_timezone`` is the portal's: HubSpot's daily limit resets at its midnight.
    ``retry_max_wait_s`` is the longest wait spent inside one call; longer ones (the rest
    of a rate-limit window, the daily limit) are the job queue's to honour.

    ``accepted_signature_versions``: only v3 signs a time, so only v3 stops a captured
    delivery from being replayed; a replay stripped of its v3 headers still carries a valid
    v2 (or v1) signature. All three are accepted by default, because workflow webhooks may
    arrive with v2 alone; an account whose deliveries all carry v3 should accept ``["v3"]``.
    ``quote_form_names`` are the names HubSpot writes in ``recent_conversion_event_name``
    for the quote forms; with them, a conversion on another form (a newsletter sign-up) is
    recognised from the webhook event alone, without reading any submission.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    access_token: SecretStr
    client_secret: SecretStr
    base_url: str = "https://api.hubapi.com"
    portal_id: int | None = None
    form_guids: list[str] = Field(default_factory=list)
    webhook_public_base_url: str | None = None
    signature_max_age_s: int = Field(default=300, gt=0)
    accepted_signature_versions: list[SignatureVersion] = Field(
        default_factory=_every_signature_version, min_length=1
    )
    quote_form_names: list[str] = Field(default_factory=list)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    download_timeout_s: float = Field(default=60.0, gt=0)
    max_file_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    opportunity_id_property: str = "salesforce_opportunity_id"
    opportunity_url_property: str = "salesforce_opportunity_url"
    retry_attempts: int = Field(default=3, ge=1, le=10)
    retry_max_wait_s: float = Field(default=5.0, ge=0)
    account_timezone: str = "Europe/Brussels"

    @field_validator("base_url", "webhook_public_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("account_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value
