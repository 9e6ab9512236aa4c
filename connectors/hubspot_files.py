"""Downloading a form's uploaded file: HubSpot's link, its redirect, a size cap.

HubSpot answers the authenticated link with a redirect to a short-lived, self-authorising
storage URL on another host. We follow redirects ourselves instead of letting ``requests``
do it, so the rule is ours and visible: the bearer token is sent only to the HubSpot API
origin, never to the storage host, whatever ``requests``' own stripping rules become.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import requests

from connectors.hubspot_errors import HubSpotFileTooLargeError, HubSpotFileUnavailableError
from connectors.hubspot_models import DownloadedFile
from naturhome_sync.errors import SyncError

MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_EXTENDED_FILENAME = re.compile(r"filename\*\s*=\s*([^']*)'[^']*'([^;]+)", re.IGNORECASE)
_PLAIN_FILENAME = re.compile(r'filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))', re.IGNORECASE)


def download_with_redirects(
    session: requests.Session,
    signed_url: str,
    *,
    api_origin: tuple[str, str],
    auth_headers: dict[str, str],
    timeout: tuple[float, float],
    max_bytes: int,
    api_error: Callable[[requests.Response, str], SyncError],
) -> DownloadedFile:
    url = signed_url
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        on_api = (parts.scheme, parts.netloc) == api_origin
        headers = dict(auth_headers) if on_api else {}
        headers["Accept"] = "*/*"
        try:
            response = session.get(
                url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
            )
        except requests.RequestException as error:
            raise HubSpotFileUnavailableError(
                f"HubSpot file: {parts.netloc} unreachable ({type(error).__name__})",
                code="FILE_UNREACHABLE",
                details={"host": parts.netloc},
            ) from error
        with response:
            location = response.headers.get("Location")
            if response.status_code in REDIRECT_STATUSES and location:
                url = urljoin(url, location)
                continue
            if response.status_code != 200:
                if on_api:
                    raise api_error(response, "download file")
                raise HubSpotFileUnavailableError(
                    f"HubSpot file: storage answered {response.status_code}"
                    f" ({response.text[:200]!r})",
                    code="FILE_LINK_REFUSED",
                    details={"host": parts.netloc, "status": response.status_code},
                )
            content = _read_capped(response, max_bytes)
            return DownloadedFile(
                name=_safe_name(_file_name(response, signed_url)),
                content=content,
                content_type=(response.headers.get("Content-Type") or "application/octet-stream")
                .split(";")[0]
                .strip(),
            )
    raise HubSpotFileUnavailableError(
        f"HubSpot file: more than {MAX_REDIRECTS} redirects", code="FILE_REDIRECT_LOOP"
    )


def _read_capped(response: requests.Response, max_bytes: int) -> bytes:
    """Refuse on ``Content-Length`` when it is announced, and count while streaming anyway."""
    announced = response.headers.get("Content-Length", "")
    if announced.isdigit() and int(announced) > max_bytes:
        raise _too_large(int(announced), max_bytes)
    chunks: list[bytes] = []
    received = 0
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            received += len(chunk)
            if received > max_bytes:
                raise _too_large(received, max_bytes)
            chunks.append(chunk)
    except requests.RequestException as error:
        raise HubSpotFileUnavailableError(
            f"HubSpot file: download interrupted ({type(error).__name__})",
            code="FILE_UNREACHABLE",
        ) from error
    return b"".join(chunks)


def _too_large(size: int, max_bytes: int) -> HubSpotFileTooLargeError:
    return HubSpotFileTooLargeError(
        f"HubSpot file: more than {max_bytes} bytes (at least {size})",
        code="FILE_TOO_LARGE",
        details={"max_bytes": max_bytes, "size_at_least": size},
    )


def _safe_name(name: str) -> str:
    """Keep the last path segment: a name is a label, never a place to write to."""
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"


def _file_name(response: requests.Response, signed_url: str) -> str:
    """From ``Content-Disposition`` (``filename*`` first, RFC 6266), else the link's
    ``filename`` parameter, else the file id at the end of its path."""
    disposition = response.headers.get("Content-Disposition", "")
    extended = _EXTENDED_FILENAME.search(disposition)
    if extended:
        charset = extended.group(1) or "utf-8"
        try:
            return unquote(extended.group(2).strip(), encoding=charset, errors="replace")
        except LookupError:  # an unknown charset name
            pass
    plain = _PLAIN_FILENAME.search(disposition)
    if plain:
        quoted, bare = plain.group(1), plain.group(2)
        name = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare.strip()
        if name:
            return name
    query = parse_qs(urlsplit(signed_url).query)
    if query.get("filename"):
        return query["filename"][0]
    return urlsplit(signed_url).path.rsplit("/", 1)[-1]
