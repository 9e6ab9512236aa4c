"""HubSpot emulator: forms submissions, CRM v3 contacts, uploaded files, signed webhooks.

Start it with ``HubSpotEmulator(HubSpotEmulatorConfig(state_dir=...)).start()``; point
hubspot-api-client at the returned URL (``host=`` and ``base_url=``). ``docs/hubspot.md``
lists the switches and the ``/__sandbox`` control endpoints.
"""

from sandbox.asgi_server import ThreadedServer
from sandbox.hubspot.config import QUOTE_FORM_FIELDS, QUOTE_FORM_GUID, HubSpotEmulatorConfig
from sandbox.hubspot.server import HubSpotEmulator
from sandbox.hubspot.webhooks import (
    DeliveryMode,
    DeliveryResult,
    WebhookStyle,
    app_events,
    send_webhook,
    with_encoded_query,
    workflow_body,
)

__all__ = [
    "QUOTE_FORM_FIELDS",
    "QUOTE_FORM_GUID",
    "DeliveryMode",
    "DeliveryResult",
    "HubSpotEmulator",
    "HubSpotEmulatorConfig",
    "ThreadedServer",
    "WebhookStyle",
    "app_events",
    "send_webhook",
    "with_encoded_query",
    "workflow_body",
]
