"""Uploaded files of a quote request: their keys, and what the sales rep reads when one fails.

A file is attached once per submission: its ContentVersion carries the key
``hubspot-file:<conversion id>:<HubSpot file id>``, so a replay finds it instead of uploading
it again, and a second request of the same client attaches its own copy to its own dossier.

A file that failed transiently is fetched again by a follow-up event (:func:`file_retry_event`)
that files the same submission again later, so nobody has to notice and replay it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from connectors.hubspot_errors import (
    HubSpotFileTooLargeError,
    HubSpotFileUrlError,
    HubSpotNotFoundError,
)
from connectors.hubspot_files import SIGNED_FILE_PATH
from connectors.hubspot_models import DownloadedFile, Submission
from naturhome_sync.errors import SyncError
from naturhome_sync.store import Event, NewEvent
from naturhome_sync.store.inbox import utcnow

#: Follow-up intakes for files that failed transiently: at most this many, the first after
#: FILE_RETRY_FIRST_DELAY, each next one twice as late (10, 20, 40 minutes).
MAX_FILE_RETRIES = 3
FILE_RETRY_FIRST_DELAY = timedelta(minutes=10)


@dataclass(frozen=True)
class FileLink:
    url: str
    #: ContentVersion.Naturhome_Key__c: stable for this file of this submission.
    key: str
    name: str


def file_links(submission: Submission) -> list[FileLink]:
    """The uploaded files of the submission, each with its idempotency key."""
    links: dict[str, FileLink] = {}
    for url in submission.file_urls():
        parts = urlsplit(url)
        _, found, file_id = parts.path.partition(SIGNED_FILE_PATH)
        if not found or not file_id or "/" in file_id:
            # Not an uploaded-file link: it gets a key (and a warning line) all the same,
            # but the connector will not fetch it.
            file_id = hashlib.sha256(url.encode()).hexdigest()[:24]
        key = f"hubspot-file:{submission.conversion_id}:{file_id}"
        if len(key) > 255:
            key = "hubspot-file:" + hashlib.sha256(key.encode()).hexdigest()
        name = (parse_qs(parts.query).get("filename") or [""])[0].strip() or file_id
        links.setdefault(key, FileLink(url, key, name))
    return list(links.values())


@dataclass(frozen=True)
class FileOutcome:
    """What became of one file before the write: already there, fetched, failed, or (dry
    run) not fetched. ``transient``: it failed in a way another attempt may not (a host
    unreachable, a 5xx, a rate limit), unlike a file too large or a link refused."""

    link: FileLink
    status: Literal["attached", "downloaded", "failed", "not_fetched"]
    file: DownloadedFile | None = None
    warning: str | None = None
    transient: bool = False


def file_warning_prefix(name: str) -> str:
    return f"Fichier « {name} » non joint"


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0") + " Mo"


def download_warning(
    link: FileLink, error: SyncError, max_bytes: int, *, retry_in_minutes: int | None = None
) -> str:
    """The line the sales rep reads on the dossier when a file could not be fetched;
    ``retry_in_minutes``: when the intake will try again by itself."""
    prefix = file_warning_prefix(link.name)
    if isinstance(error, HubSpotFileTooLargeError):
        return f"{prefix} : trop volumineux (limite {megabytes(max_bytes)})"
    if isinstance(error, HubSpotFileUrlError):
        return (
            f"{prefix} : lien refusé, ce n'est pas un fichier déposé dans le formulaire "
            f"HubSpot ({link.url[:200]})"
        )
    if isinstance(error, HubSpotNotFoundError):
        return f"{prefix} : introuvable dans HubSpot"
    if error.retryable:
        then = (
            f"nouvel essai automatique dans {retry_in_minutes} min"
            if retry_in_minutes is not None
            else "rejouer la demande le joindra"
        )
        return f"{prefix} : indisponible pour le moment ({error.code or 'erreur'}) ; {then}"
    return f"{prefix} : refusé par HubSpot ({error.code or error.category})"


def file_retry_delay(retry: int) -> timedelta:
    return FILE_RETRY_FIRST_DELAY * (1 << (retry - 1))


def next_file_retry(payload: Mapping[str, object]) -> int | None:
    """The number of the next file retry, or None once MAX_FILE_RETRIES were scheduled."""
    done = payload.get("file_retry") or 0
    retry = (done if isinstance(done, int) else 0) + 1
    return retry if retry <= MAX_FILE_RETRIES else None


def file_retry_event(event: Event, conversion_id: str, retry: int) -> NewEvent:
    """The intake ``event`` again, ``retry``-th time and later: a replay that fetches the
    files still missing and rewrites their warning lines (dedupe ``files:<id>:<retry>``)."""
    return NewEvent(
        source="internal",
        kind="form_submission",
        flow=event.flow,
        dedupe_key=f"files:{conversion_id}:{retry}",
        payload={**event.payload, "file_retry": retry},
        correlation_id=event.correlation_id,
        available_at=utcnow() + file_retry_delay(retry),
    )
