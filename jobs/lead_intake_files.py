"""Uploaded files of a quote request: their keys, and what the sales rep reads when one fails.

A file is attached once per submission: its ContentVersion carries the key
``hubspot-file:<conversion id>:<HubSpot file id>``, so a replay finds it instead of uploading
it again, and a second request of the same client attaches its own copy to its own dossier.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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
