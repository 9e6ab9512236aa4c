"""Forms v1 submissions, uploaded-file links, and the storage host behind them.

``GET /form-integrations/v1/submissions/forms/{guid}`` pages newest first (``limit``
default 20, at most 50; an opaque ``after`` cursor; no ``paging`` on the last page).

An uploaded file's link answers an authenticated GET with a 302 to a short-lived URL on
another host name of the same emulator (``storage_host``), like HubSpot's redirect to its
CDN. That storage URL refuses any request carrying an ``Authorization`` header, as a
pre-signed S3 URL does, so a client that forwards the HubSpot token fails loudly here.

Not confirmed against HubSpot (documented in ``docs/hubspot.md``): the 404 body for an
unknown form, and the status and body for a link whose ``sign`` does not match (403 here).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.hubspot.errors import HubSpotApiError, object_not_found, validation_error
from sandbox.hubspot.intake import file_sign
from sandbox.hubspot.runtime import EmulatorRuntime

DEFAULT_LIMIT = 20
MAX_LIMIT = 50


def _encode_cursor(submitted_ms: int, seq: int) -> str:
    raw = json.dumps([submitted_ms, seq]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        submitted_ms, seq = json.loads(base64.urlsafe_b64decode(padded))
        return int(submitted_ms), int(seq)
    except (ValueError, TypeError, binascii.Error):
        raise validation_error(f"Invalid paging cursor: {cursor}") from None


async def list_submissions(request: Request) -> Response:
    runtime: EmulatorRuntime = request.app.state.runtime
    form_guid = request.path_params["form_guid"]
    if form_guid not in runtime.config.form_guids:
        raise HubSpotApiError(404, f"Form {form_guid} does not exist", "OBJECT_NOT_FOUND")
    raw_limit = request.query_params.get("limit", str(DEFAULT_LIMIT))
    if not raw_limit.isdigit() or int(raw_limit) < 1:
        raise validation_error(f"limit must be a positive integer, got {raw_limit}")
    limit = min(int(raw_limit), MAX_LIMIT)
    after = request.query_params.get("after")
    rows = runtime.store.submissions_page(
        form_guid, limit + 1, _decode_cursor(after) if after else None
    )
    page = rows[:limit]
    body: dict[str, Any] = {
        "results": [
            {
                "conversionId": row.conversion_id,
                "submittedAt": row.submitted_ms,
                "values": [{**item, "value": runtime.render(item["value"])} for item in row.values],
                "pageUrl": row.page_url,
            }
            for row in page
        ]
    }
    if len(rows) > limit:
        cursor = _encode_cursor(page[-1].submitted_ms, page[-1].seq)
        link = (
            f"{runtime.base_url}/form-integrations/v1/submissions/forms/{form_guid}?"
            + urlencode({"limit": limit, "after": cursor})
        )
        body["paging"] = {"next": {"after": cursor, "link": link}}
    return JSONResponse(body)


async def signed_url_redirect(request: Request) -> Response:
    runtime: EmulatorRuntime = request.app.state.runtime
    file_id = request.path_params["file_id"]
    params = request.query_params
    missing = [
        name for name in ("portalId", "sign", "conversionId", "filename") if not params.get(name)
    ]
    if missing:
        raise validation_error(f"Missing required query parameters: {', '.join(missing)}")
    file = runtime.store.file(file_id)
    if file is None:
        raise object_not_found(file_id)
    expected = file_sign(runtime, file_id, file.conversion_id, file.filename)
    if not (
        hmac.compare_digest(params["sign"], expected)
        and params["portalId"] == str(runtime.config.portal_id)
        and params["conversionId"] == file.conversion_id
        and params["filename"] == file.filename
    ):
        raise HubSpotApiError(403, "The signature of this file link is not valid.", "FORBIDDEN")
    token = secrets.token_urlsafe(24)
    expires_ms = runtime.now_ms() + round(runtime.config.file_url_ttl_s * 1000)
    runtime.store.insert_download_link(token, file_id, expires_ms)
    return RedirectResponse(f"{runtime.storage_base_url}/_files/{token}", status_code=302)


def _storage_error(status_code: int, code: str, message: str) -> Response:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(xml, status_code=status_code, media_type="application/xml")


async def download(request: Request) -> Response:
    runtime: EmulatorRuntime = request.app.state.runtime
    served_host = urlsplit(runtime.storage_base_url).hostname
    if request.url.hostname != served_host:
        return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
    if "authorization" in request.headers:
        return _storage_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter,"
            " Signature query string parameter or the Authorization header should be specified",
        )
    link = runtime.store.download_link(request.path_params["token"])
    if link is None:
        return _storage_error(403, "AccessDenied", "Access Denied")
    file_id, expires_ms = link
    if runtime.now_ms() >= expires_ms:
        return _storage_error(403, "AccessDenied", "Request has expired")
    file = runtime.store.file(file_id)
    if file is None:
        return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
    fallback = file.filename.encode("ascii", "replace").decode().replace('"', "_")
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file.filename)}"
    return Response(
        file.content,
        media_type=file.content_type,
        headers={"Content-Disposition": disposition},
    )


ROUTES = [
    Route("/form-integrations/v1/submissions/forms/{form_guid}", list_submissions, methods=["GET"]),
    Route(
        "/form-integrations/v1/uploaded-files/signed-url-redirect/{file_id}",
        signed_url_redirect,
        methods=["GET"],
    ),
    Route("/_files/{token}", download, methods=["GET"]),
]
