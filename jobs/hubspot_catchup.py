"""The HubSpot catch-up paths: the scheduled poller of the quote forms, and the resolver of
deliveries that only name a contact.

Both end like the webhook: one ``form_submission`` event per submission, with the dedupe
key ``submission:<conversion id>`` (:func:`jobs.hubspot_intake.submission_event`), so a
submission seen several ways is stored and filed once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from connectors.hubspot_errors import HubSpotNotFoundError
from jobs.hubspot_intake import submission_event
from naturhome_sync.errors import (
    PermanentConfigError,
    PermanentDataError,
    RateLimitedError,
    SyncError,
    TransientError,
)
from naturhome_sync.flows import FlowContext, FlowResult
from naturhome_sync.store.inbox import utcnow

#: How far back the poller looks the first time it runs for a form.
FIRST_POLL_LOOKBACK_MS = 7 * 24 * 3600 * 1000
#: Resolving a contact event: how long before the event its submission may have been made.
RESOLVE_WINDOW_MS = 24 * 3600 * 1000
#: Contact properties HubSpot sets on a form submission: their change means "a submission".
CONVERSION_PROPERTIES = frozenset({"recent_conversion_date", "recent_conversion_event_name"})


# -- resolving contact-only deliveries ----------------------------------------------------------


def resolve(ctx: FlowContext) -> FlowResult:
    """A delivery that names a contact: find its latest submission, enqueue that.

    Only events that can stand for a form submission are looked up (a conversion property
    changed, a contact created by a form, a workflow body without its conversion id);
    the rest of what an app subscription sends (other properties, deletions, merges...) is
    acknowledged and ignored, so it neither costs API calls nor dies for want of a submission.
    """
    event = ctx.event
    if event.kind == "unrecognised":
        raise PermanentDataError(f"HubSpot delivery not understood: {event.payload['reason']}")
    settings = ctx.settings.hubspot
    if settings is None or not settings.form_guids:
        raise PermanentConfigError("no HubSpot form configured (NATURHOME_HUBSPOT__FORM_GUIDS)")
    payload = event.payload
    ignored = why_ignored(payload.get("event") or {})
    if ignored:
        return FlowResult(counters={"ignored": 1}, summary=ignored)
    client = ctx.runtime.services.hubspot
    email = payload.get("email")
    contact_id = payload.get("contact_id") or None
    if not email:
        if not contact_id:
            raise PermanentDataError("HubSpot delivery names neither a contact id nor an e-mail")
        email = client.get_contact(contact_id, ["email"]).email
    if not email:
        raise PermanentDataError(f"HubSpot contact {contact_id} has no e-mail")
    not_before = max(0, _epoch_ms(payload.get("occurred_at")) - RESOLVE_WINDOW_MS)
    found = [
        submission
        for form_guid in settings.form_guids
        if (
            submission := client.latest_submission_for_contact(
                form_guid, email, not_before_ms=not_before
            )
        )
        is not None
    ]
    if not found:
        # The forms API may not show a fresh submission yet: try again later (bounded).
        raise TransientError(f"no recent quote-form submission found for {email} yet")
    submission = max(found, key=lambda s: s.submitted_at)
    if contact_id and not submission.contact_id:
        submission = dataclasses.replace(submission, contact_id=contact_id)
    return FlowResult(
        counters={"submissions_found": 1},
        summary=f"submission {submission.conversion_id} of {email}",
        follow_ups=[submission_event(submission, received_via="contact_event")],
    )


def why_ignored(details: Mapping[str, Any]) -> str | None:
    """Why an app-webhook event cannot stand for a form submission (None: it can)."""
    kind = details.get("subscriptionType")
    if kind is None:  # a workflow body naming a contact
        return None
    if kind == "contact.creation":
        source = details.get("changeSource")
        return None if source in (None, "FORM") else f"contact created by {source}, not a form"
    if kind == "contact.propertyChange":
        name = details.get("propertyName")
        return None if name in CONVERSION_PROPERTIES else f"{name} changed: not a form conversion"
    return f"{kind} carries no form submission"


def _epoch_ms(value: Any) -> int:
    """Epoch milliseconds from an event field; 0 (no lower bound) when absent or not a number."""
    try:
        return max(0, int(str(value).strip()))
    except ValueError:
        return 0


# -- the catch-up poller ------------------------------------------------------------------------


def cursor_name(form_guid: str) -> str:
    return f"hubspot.form.{form_guid}.submitted_at_ms"


def poll(ctx: FlowContext) -> FlowResult:
    """Read each quote form back to its high-water mark; enqueue what is new.

    A form that fails does not hold back the others: they are read and their marks moved,
    then the first failure is raised so the event retries (or dies, for a form HubSpot does
    not know). A rate limit stops the run at once: the other forms would hit it too.
    """
    settings = ctx.settings.hubspot
    if settings is None:
        raise PermanentConfigError("HubSpot is not configured (NATURHOME_HUBSPOT__...)")
    counters = {"submissions_seen": 0, "submissions_new": 0}
    failures: list[SyncError] = []
    for form_guid in settings.form_guids:
        try:
            seen, new = _poll_form(ctx, form_guid)
        except RateLimitedError:
            raise
        except HubSpotNotFoundError as exc:
            failures.append(
                PermanentConfigError(
                    f"HubSpot has no form {form_guid} (NATURHOME_HUBSPOT__FORM_GUIDS): {exc}",
                    code="UNKNOWN_FORM",
                )
            )
            continue
        except SyncError as exc:
            failures.append(exc)
            continue
        counters["submissions_seen"] += seen
        counters["submissions_new"] += new
    if failures:
        raise failures[0]
    return FlowResult(
        counters=counters,
        summary=f"{counters['submissions_new']} new of {counters['submissions_seen']} read",
    )


def _poll_form(ctx: FlowContext, form_guid: str) -> tuple[int, int]:
    """(submissions read, events created) for one form."""
    cursors = ctx.runtime.cursors
    stored = cursors.get(cursor_name(form_guid))
    now_ms = int(utcnow().timestamp() * 1000)
    mark = int(stored) if stored else now_ms - FIRST_POLL_LOOKBACK_MS
    submissions = list(ctx.runtime.services.hubspot.iter_submissions_since(form_guid, mark))
    if not submissions or ctx.dry_run:
        return len(submissions), 0
    results = ctx.runtime.inbox.enqueue_many(
        [submission_event(s, received_via="poller") for s in submissions]
    )
    # Stored first, mark second: a crash in between re-reads, and dedupe absorbs it. The
    # mark never moves back (two overlapping runs may finish in either order).
    newest = max(mark, *(s.submitted_at for s in submissions))
    cursors.set(cursor_name(form_guid), str(newest))
    return len(submissions), sum(1 for r in results if r.created)
