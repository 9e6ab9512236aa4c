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
        file_id = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if "signed-url-redirect" not in parts.path or not file_id:
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
    run) not fetched."""

    link: FileLink
    status: Literal["attached", "downloaded", "failed", "not_fetched"]
    file: DownloadedFile | None = None
    warning: str | None = None


def file_warning_prefix(name: str) -> str:
    return f"Fichier « {name} » non joint"


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0") + " Mo"


def download_warning(link: FileLink, error: SyncError, max_bytes: int) -> str:
    """The line the sales rep reads on the dossier when a file could not be fetched."""
    prefix = file_warning_prefix(link.name)
    if isinstance(error, HubSpotFileTooLargeError):
        return f"{prefix} : trop volumineux (limite {megabytes(max_bytes)})"
    if isinstance(error, HubSpotFileUrlError):
        return f"{prefix} : lien refusé, il ne mène pas à HubSpot ({link.url[:200]})"
    if isinstance(error, HubSpotNotFoundError):
        return f"{prefix} : introuvable dans HubSpot"
    if error.retryable:
        return (
            f"{prefix} : indisponible pour le moment ({error.code or 'erreur'}) ; "
            "rejouer la demande le joindra"
        )
    return f"{prefix} : refusé par HubSpot ({error.code or error.category})"
