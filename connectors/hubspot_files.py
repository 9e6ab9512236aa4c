"""Downloading a form's uploaded file: HubSpot's link, its redirect, a size cap.

HubSpot answers the authenticated link with a redirect to a short-lived, self-authorising
storage URL on another host. We follow redirects ourselves instead of letting ``requests``
do it, so the rule is ours and visible: the bearer token is sent only to an uploaded-file
link of the HubSpot API (:func:`check_file_link`), never to the storage host, whatever
``requests``' own stripping rules become.

The link comes from the public (a form value), so being on the API host is not enough: with
the token, ``https://api.hubapi.com/crm/v3/objects/contacts?limit=100`` would "download" the
CRM's contacts and attach them to the submitter's dossier. Only the uploaded-file path, and
the configured portal's links, are fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import requests

from connectors.hubspot_errors import (
    HubSpotFileTooLargeError,
    HubSpotFileUnavailableError,
    HubSpotFileUrlError,
)
from connectors.hubspot_models import DownloadedFile
from naturhome_sync.errors import SyncError

#: The only path (under the API base URL) an uploaded file's link may have.
SIGNED_FILE_PATH = "/form-integrations/v1/uploaded-files/signed-url-redirect/"
_FILE_ID = re.compile(r"[A-Za-z0-9_-]+")
#: Longest file name kept (a label; common file systems stop at 255 too).
NAME_MAX = 255
#: Longer "extensions" are not file types.
_EXTENSION_MAX = 16
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_EXTENDED_FILENAME = re.compile(r"filename\*\s*=\s*([^']*)'[^']*'([^;]+)", re.IGNORECASE)
_PLAIN_FILENAME = re.compile(r'filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))', re.IGNORECASE)


def check_file_link(url: str, *, api_base_url: str, portal_id: int | None) -> None:
    """Raise :class:`HubSpotFileUrlError` unless ``url`` is an uploaded-file link of the
    HubSpot API (``<base>/form-integrations/v1/uploaded-files/signed-url-redirect/<id>``)
    and, when ``portal_id`` is configured, of that portal (its ``portalId`` parameter)."""
    api = urlsplit(api_base_url)
    target = urlsplit(url)
    if (target.scheme, target.netloc) != (api.scheme, api.netloc):
        raise HubSpotFileUrlError(
            f"refusing to send the HubSpot token to {target.scheme}://{target.netloc}",
            code="FOREIGN_FILE_HOST",
        )
    prefix = api.path.rstrip("/") + SIGNED_FILE_PATH
    file_id = target.path[len(prefix) :] if target.path.startswith(prefix) else ""
    if not _FILE_ID.fullmatch(file_id):
        raise HubSpotFileUrlError(
            f"refusing to send the HubSpot token to {target.path!r}: not an uploaded-file link",
            code="NOT_A_FILE_LINK",
        )
    if portal_id is not None:
        portals = parse_qs(target.query).get("portalId", [])
        if portals != [str(portal_id)]:
            raise HubSpotFileUrlError(
                f"refusing a file link of portal {', '.join(portals) or '(none)'}: "
                f"the configured portal is {portal_id}",
                code="OTHER_PORTAL",
            )


def download_with_redirects(
    session: requests.Session,
    signed_url: str,
    *,
    api_base_url: str,
    portal_id: int | None,
    auth_headers: dict[str, str],
    timeout: tuple[float, float],
    max_bytes: int,
    api_error: Callable[[requests.Response, str], SyncError],
) -> DownloadedFile:
    check_file_link(signed_url, api_base_url=api_base_url, portal_id=portal_id)
    api = urlsplit(api_base_url)
    url = signed_url
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        on_api = (parts.scheme, parts.netloc) == (api.scheme, api.netloc)
        # The token goes with the checked link only, never with a hop of the redirect chain.
        headers = dict(auth_headers) if url == signed_url else {}
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
    """Keep the last path segment (a name is a label, never a place to write to), at most
    ``NAME_MAX`` characters with its extension kept (it tells the file's type)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    if len(name) <= NAME_MAX:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and len(extension) <= _EXTENSION_MAX:
        return f"{stem[: NAME_MAX - len(extension) - 1]}.{extension}"
    return name[:NAME_MAX]


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
