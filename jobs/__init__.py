"""One module per flow: a pure core (what to write, given what was read) and a thin ``run()``.

:func:`register` is how the runtime learns about the built-in flows; a new flow adds its
line here and touches nothing in ``naturhome_sync``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from naturhome_sync.flows import FlowRegistry
    from naturhome_sync.settings import Settings


def register(registry: FlowRegistry, settings: Settings) -> None:
    from jobs import (
        estimator_assignment,
        housekeeping,
        hubspot_intake,
        hubspot_write_back,
        integration_errors,
        lead_intake,
    )

    housekeeping.register(registry, settings)
    integration_errors.register(registry, settings)
    hubspot_intake.register(registry, settings)
    lead_intake.register(registry, settings)
    hubspot_write_back.register(registry, settings)
    estimator_assignment.register(registry, settings)
