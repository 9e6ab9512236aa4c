"""Fixtures shared by the integration tests of the HubSpot entry points."""

from __future__ import annotations

import pytest
import requests

from sandbox.hubspot import HubSpotEmulator


@pytest.fixture
def hubspot(emulator: HubSpotEmulator) -> HubSpotEmulator:
    """The module's HubSpot emulator (its own ``emulator`` fixture), emptied for this test:
    no webhook deliveries, no search lag, no rate limits."""
    requests.post(f"{emulator.base_url}/__sandbox/reset", timeout=5).raise_for_status()
    requests.post(
        f"{emulator.base_url}/__sandbox/config",
        json={"service_webhook_url": None, "search_delay_s": 0.0, "rate_limits": False},
        timeout=5,
    ).raise_for_status()
    return emulator
