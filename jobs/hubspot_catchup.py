"""The HubSpot catch-up paths: the scheduled poller of the quote forms, and the resolver of
deliveries that only name a contact.

Both end like the webhook: one ``form_submission`` event per submission, with the dedupe
key ``submission:<conversion id>`` (:func:`jobs.hubspot_intake.submission_event`), so a
submission seen several ways is stored and filed once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
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
#: How far behind its mark the poller reads again: a submission can show up in the forms API
#: after newer ones were read (and the mark moved past its ``submittedAt``). Dedupe on the
#: conversion id absorbs what is read twice.
POLL_OVERLAP_MS = 3600 * 1000
#: Resolving a contact event: how long before the event its submission may have been made.
RESOLVE_WINDOW_MS = 24 * 3600 * 1000
#: The attempt by which the forms API has had time to show a quote submission: with still
#: none, the conversion was on another form (a newsletter sign-up...), not a quote request.
RESOLVE_LAG_ATTEMPTS = 3
CONVERSION_NAME_PROPERTY = "recent_conversion_event_name"
#: Contact properties HubSpot sets on a form submission: their change means "a submission".
CONVERSION_PROPERTIES = frozenset({"recent_conversion_date", CONVERSION_NAME_PROPERTY})


# -- resolving contact-only deliveries ----------------------------------------------------------


def resolve(ctx: FlowContext) -> FlowResult:
    """A delivery that names a contact: find its latest submission, enqueue that.

    Only events that can stand for a form submission are looked up (a conversion property
    changed, a contact created by a form, a workflow body without its conversion id);
    the rest of what an app subscription sends (other properties, deletions, merges...) is
    acknowledged and ignored, so it neither costs API calls nor dies for want of a submission.

    A conversion on another form (a newsletter sign-up) looks the same as a quote request
    until the forms are read. When the event names the conversion and the quote forms'
    names are configured, it is recognised at once; otherwise, once the forms API has had
    :data:`RESOLVE_LAG_ATTEMPTS` attempts to show a quote submission and still shows none,
    the event completes as ``not_a_quote_request`` (a quote submission showing up later
    still has the poller, which reads back past its mark).
    """
    event = ctx.event
    if event.kind == "unrecognised":
        raise PermanentDataError(f"HubSpot delivery not understood: {event.payload['reason']}")
    settings = ctx.settings.hubspot
    if settings is None or not settings.form_guids:
        raise PermanentConfigError("no HubSpot form configured (NATURHOME_HUBSPOT__FORM_GUIDS)")
    payload = event.payload
    details = payload.get("event") or {}
    ignored = why_ignored(details)
    if ignored:
        return FlowResult(counters={"ignored": 1}, summary=ignored)
    other_form = other_conversion(details, settings.quote_form_names)
    if other_form:
        return FlowResult(counters={"not_a_quote_request": 1}, summary=other_form)
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
        if event.attempts >= min(RESOLVE_LAG_ATTEMPTS, ctx.runtime.inbox.max_attempts):
            return FlowResult(
                counters={"not_a_quote_request": 1},
                summary=(
                    f"no quote-form submission of {email} after {event.attempts} attempts: "
                    "a conversion on another form"
                ),
            )
        # The forms API may not show a fresh submission yet: look again after a backoff.
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


def other_conversion(details: Mapping[str, Any], quote_form_names: Sequence[str]) -> str | None:
    """Why a conversion event is not a quote request, when it says which form converted
    (``recent_conversion_event_name``) and that is none of ``quote_form_names``.

    A configured name is looked for inside the event's (case-insensitive): HubSpot may put
    the page or campaign before the form's name, and a false match only costs a scan.
    """
    if not quote_form_names:
        return None
    if details.get("propertyName") == CONVERSION_NAME_PROPERTY:
        name = details.get("propertyValue")
    else:
        name = details.get(CONVERSION_NAME_PROPERTY)
    if not isinstance(name, str) or not name.strip():
        return None
    folded = name.casefold()
    if any(quote.casefold() in folded for quote in quote_form_names if quote.strip()):
        return None
    return f"conversion on {name.strip()!r}, not a quote form"


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
    """(submissions read, events created) for one form.

    The mark is the newest ``submittedAt`` read so far. Reading starts
    :data:`POLL_OVERLAP_MS` before it, for submissions that reached the forms API late.
    """
    name = cursor_name(form_guid)
    cursors = ctx.runtime.cursors
    stored = _mark(cursors.get(name))
    now_ms = int(utcnow().timestamp() * 1000)
    since = stored - POLL_OVERLAP_MS if stored is not None else now_ms - FIRST_POLL_LOOKBACK_MS
    submissions = list(ctx.runtime.services.hubspot.iter_submissions_since(form_guid, since))
    if not submissions or ctx.dry_run:
        return len(submissions), 0
    results = ctx.runtime.inbox.enqueue_many(
        [submission_event(s, received_via="poller") for s in submissions]
    )
    # Events first, mark second: a crash in between reads them again, and dedupe absorbs it.
    # The mark only ever advances: a run that overlapped a newer one (a tick and a manual
    # run) may finish last, so the mark is read again, under a lock, right before writing.
    newest = max(s.submitted_at for s in submissions)
    with ctx.runtime.key_locks.hold(f"cursor:{name}"):
        current = _mark(cursors.get(name))
        if current is None or newest > current:
            cursors.set(name, str(newest))
    return len(submissions), sum(1 for r in results if r.created)


def _mark(value: str | None) -> int | None:
    """A stored mark; None when there is none (or it is unreadable: start over)."""
    try:
        return int(value) if value else None
    except ValueError:
        return None
