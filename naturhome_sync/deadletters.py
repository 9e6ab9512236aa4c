"""The events that tell the dead-letter mirror (``registry.dead_letter_flow``) what happened.

An event that dies — by a failed attempt in a worker, or because its worker kept dying and
its lease expired once too often — yields a ``dead_letter`` event; a replayed event that
then succeeds yields a ``resolved`` one. Both are committed in the same transaction as the
outcome they report, so the mirror misses nothing.
"""

from __future__ import annotations

from typing import Any

from naturhome_sync.errors import SyncError
from naturhome_sync.store.inbox import Event, NewEvent, utcnow


def dead_letter_events(
    mirror: str | None,
    event: Event,
    *,
    category: str,
    message: str,
    error: BaseException | None = None,
) -> list[NewEvent]:
    if not mirror or mirror == event.flow:
        return []
    payload: dict[str, Any] = {
        "event_id": event.id,
        "source": event.source,
        "flow": event.flow,
        "category": category,
        "message": message,
        "attempts": event.attempts,
        "replay_count": event.replay_count,
        "occurred_at": utcnow().isoformat(),
    }
    if isinstance(error, SyncError):
        payload["record_id"] = error.record_id
        payload["external_id"] = error.external_id
    return [
        NewEvent(
            source="internal",
            kind="dead_letter",
            flow=mirror,
            dedupe_key=f"dead:{event.id}:{event.replay_count}",
            payload=payload,
            correlation_id=event.correlation_id,
        )
    ]


def resolution_events(mirror: str | None, event: Event) -> list[NewEvent]:
    """A replayed event that succeeds resolves the error mirrored when it died."""
    if not mirror or mirror == event.flow or not event.replay_count:
        return []
    if event.error_category is None:  # a replayed event that had not failed
        return []
    return [
        NewEvent(
            source="internal",
            kind="resolved",
            flow=mirror,
            dedupe_key=f"resolved:{event.id}:{event.replay_count}",
            payload={"event_id": event.id, "resolved_at": utcnow().isoformat()},
            correlation_id=event.correlation_id,
        )
    ]
