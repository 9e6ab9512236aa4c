"""Settings of the HubSpot emulator.

Every switch that models a behaviour of HubSpot we could not pin down, or that tests need to
turn off, lives here with its default set to what production does (or, for rate limits, to
"off" so tests and the demo are not throttled unless they ask for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The quote-request form's fields, in form order. The mapping and the demo rely on these names.
QUOTE_FORM_FIELDS: tuple[str, ...] = (
    "firstname",
    "lastname",
    "email",
    "phone",
    "mobilephone",
    "address",
    "zip",
    "city",
    "country",
    "preferred_language",
    "site_street",
    "site_postal_code",
    "site_city",
    "site_country",
    "project_type",
    "budget",
    "living_area_m2",
    "desired_start",
    "message",
    "plans",
)

#: Properties HubSpot maintains itself; writing them answers ``READ_ONLY_VALUE``.
READ_ONLY_CONTACT_PROPERTIES: tuple[str, ...] = (
    "hs_object_id",
    "createdate",
    "lastmodifieddate",
)

#: Properties HubSpot sets when a form is submitted (used by app-webhook subscriptions).
CONVERSION_PROPERTIES: tuple[str, ...] = (
    "recent_conversion_date",
    "recent_conversion_event_name",
)

#: Custom properties the service writes back after creating the Salesforce opportunity.
WRITE_BACK_PROPERTIES: tuple[str, ...] = (
    "salesforce_opportunity_id",
    "salesforce_opportunity_url",
)

DEFAULT_CONTACT_PROPERTIES: tuple[str, ...] = (
    *READ_ONLY_CONTACT_PROPERTIES,
    *CONVERSION_PROPERTIES,
    *QUOTE_FORM_FIELDS,
    *WRITE_BACK_PROPERTIES,
)

#: What ``GET /crm/v3/objects/contacts/{id}`` returns when no ``properties`` are asked for.
DEFAULT_RETURNED_PROPERTIES: tuple[str, ...] = (
    "createdate",
    "email",
    "firstname",
    "hs_object_id",
    "lastmodifieddate",
    "lastname",
)

QUOTE_FORM_GUID = "6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f"


@dataclass
class HubSpotEmulatorConfig:
    """How one emulator instance behaves.

    ``state_dir`` holds the SQLite file, so contacts, submissions and files survive a restart.
    ``port`` 0 picks a free port; give a fixed one to keep stored URLs valid across restarts
    of a long-lived sandbox (file URLs are rendered with the current address anyway).

    ``storage_host`` is the host name of the 302 target for uploaded files. It must differ
    from ``host`` (same machine, other name) so that an HTTP client treats the redirect as
    cross-host, exactly as it would with HubSpot's CDN. ``storage_base_url`` overrides the
    whole target (e.g. a closed port, to test an unreachable storage host).

    ``omit_empty_properties``: HubSpot's docs say a requested property without a value is
    left out of the response; many real responses show it as ``null``. Default ``False``
    (send ``null``); the connector must cope with both, and the tests run both.
    """

    state_dir: Path
    access_token: str = "pat-eu1-00000000-0000-4000-8000-000000000000"
    client_secret: str = "emulator-client-secret-0000-000000000000"
    portal_id: int = 26_123_456
    app_id: int = 4_123_456
    form_guids: tuple[str, ...] = (QUOTE_FORM_GUID,)
    form_name: str = "Demande de devis / Quote request"
    service_webhook_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    storage_host: str = "localhost"
    storage_base_url: str | None = None
    search_delay_s: float = 2.0
    file_url_ttl_s: float = 60.0
    rate_limits: bool = False
    burst_limit: int = 190
    burst_window_s: float = 10.0
    search_per_second: int = 5
    daily_limit: int = 650_000
    contact_properties: tuple[str, ...] = DEFAULT_CONTACT_PROPERTIES
    omit_empty_properties: bool = False
    webhook_timeout_s: float = 5.0
