"""HubSpot write-back: the Salesforce opportunity's id and URL on the HubSpot contact.

Marketing works in HubSpot and wants to open the dossier from the contact. The intake hands
this step over as a follow-up event (``write_back:<conversion id>``) committed with its own
completion, so the two fail and retry apart: HubSpot being down delays this event alone and
never redoes (or undoes) the Salesforce part, which is already done.

The contact is the one HubSpot named in the webhook; the catch-up poller does not know it,
so it is then found by e-mail (a read by ``idProperty=email``, never a search, which lags).
Writing the same two properties again is harmless, so a replay simply writes them again.
"""

from __future__ import annotations

from naturhome_sync.errors import PermanentDataError
from naturhome_sync.flows import Flow, FlowContext, FlowRegistry, FlowResult
from naturhome_sync.settings import Settings

NAME = "hubspot_write_back"


def run(ctx: FlowContext) -> FlowResult:
    payload = ctx.event.payload
    opportunity_id = str(payload.get("opportunity_id") or "")
    opportunity_url = str(payload.get("opportunity_url") or "")
    if not opportunity_id or not opportunity_url:
        raise PermanentDataError(
            "write-back event without opportunity_id and opportunity_url", code="WRITE_BACK"
        )
    client = ctx.runtime.services.hubspot
    contact_id = str(payload.get("contact_id") or "") or None
    email = str(payload.get("email") or "") or None
    if contact_id is None:
        if email is None:
            raise PermanentDataError(
                "write-back event names neither a HubSpot contact nor an e-mail",
                code="WRITE_BACK",
            )
        contact = client.get_contact_by_email(email, ["email"])
        if contact is None:
            raise PermanentDataError(
                f"no HubSpot contact holds the e-mail of submission {payload.get('conversion_id')}",
                code="WRITE_BACK_CONTACT",
                record_id=opportunity_id,
                external_id=str(payload.get("conversion_id") or "") or None,
            )
        contact_id = contact.id
    if ctx.dry_run:
        return FlowResult(
            counters={"contacts_updated": 0},
            summary=f"would write opportunity {opportunity_id} on HubSpot contact {contact_id}",
        )
    client.write_back_opportunity(contact_id, opportunity_id, opportunity_url)
    return FlowResult(
        counters={"contacts_updated": 1},
        summary=f"opportunity {opportunity_id} written on HubSpot contact {contact_id}",
    )


def register(registry: FlowRegistry, _settings: Settings) -> None:
    registry.add(
        Flow(
            name=NAME,
            handler=run,
            description="write the Salesforce opportunity id and URL on the HubSpot contact",
        )
    )
