"""What happens inside HubSpot when someone submits the quote form.

The contact is created, or updated when one already has the e-mail address; the
submission is stored; uploaded files are kept and replaced, in the form values, by
``signed-url-redirect`` links, several files of one field joined with ``;``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import mimetypes
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sandbox.hubspot.contacts import apply_properties, iso
from sandbox.hubspot.runtime import BASE_URL_MARKER, EmulatorRuntime
from sandbox.hubspot.store import FileRow

DEFAULT_FILE_FIELD = "plans"
CONTACT_OBJECT_TYPE = "0-1"
SIGNED_URL_PATH = "/form-integrations/v1/uploaded-files/signed-url-redirect/"


class IntakeError(ValueError):
    """The submission request is malformed (answered 400 by the control endpoint)."""


@dataclass(frozen=True)
class RecordedSubmission:
    conversion_id: str
    contact_id: int
    contact_created: bool
    form_guid: str
    submitted_ms: int
    values: dict[str, str]


def file_sign(runtime: EmulatorRuntime, file_id: str, conversion_id: str, filename: str) -> str:
    message = f"{runtime.config.portal_id}/{file_id}/{conversion_id}/{filename}".encode()
    key = runtime.config.client_secret.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def record_submission(runtime: EmulatorRuntime, request: dict[str, Any]) -> RecordedSubmission:
    """Apply one ``POST /__sandbox/submissions`` body (see ``docs/hubspot.md``)."""
    form_guid = request.get("form_guid")
    if form_guid not in runtime.config.form_guids:
        raise IntakeError(f"unknown form_guid {form_guid!r}; known: {runtime.config.form_guids}")
    values = _values(request.get("values"))
    if not values.get("email", "").strip():
        raise IntakeError("values must include a non-empty email")
    submitted_ms = request.get("submitted_at") or runtime.now_ms()
    if not isinstance(submitted_ms, int) or isinstance(submitted_ms, bool):
        raise IntakeError("submitted_at must be epoch milliseconds")
    conversion_id = str(uuid.uuid4())

    for name, url in _store_files(runtime, request.get("files"), conversion_id):
        values[name] = f"{values[name]};{url}" if values.get(name) else url

    known = set(runtime.config.contact_properties)
    changes = {name: value for name, value in values.items() if name in known}
    changes["recent_conversion_date"] = iso(submitted_ms)
    changes["recent_conversion_event_name"] = runtime.config.form_name
    existing = runtime.store.live_contact_by_email(values["email"])
    contact = apply_properties(runtime, existing, changes, runtime.now_ms())

    runtime.store.insert_submission(
        conversion_id=conversion_id,
        form_guid=form_guid,
        submitted_ms=submitted_ms,
        values=[
            {
                "name": name,
                "value": value,
                **({"objectTypeId": CONTACT_OBJECT_TYPE} if name in known else {}),
            }
            for name, value in values.items()
        ],
        page_url=str(request.get("page_url") or "https://www.naturhome.be/fr/demande-de-devis"),
        contact_id=contact.id,
    )
    return RecordedSubmission(
        conversion_id=conversion_id,
        contact_id=contact.id,
        contact_created=existing is None,
        form_guid=form_guid,
        submitted_ms=submitted_ms,
        values={name: runtime.render(value) for name, value in values.items()},
    )


def _values(raw: Any) -> dict[str, str]:
    if not isinstance(raw, list):
        raise IntakeError("values must be a list of {name, value}")
    values: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise IntakeError(f"invalid value entry {item!r}")
        value = item.get("value")
        if value is None:
            continue
        values[item["name"]] = (
            "true" if value is True else "false" if value is False else str(value)
        )
    return values


def _store_files(runtime: EmulatorRuntime, raw: Any, conversion_id: str) -> list[tuple[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise IntakeError("files must be a list of {name, content_base64}")
    links: list[tuple[str, str]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise IntakeError(f"invalid file entry {item!r}")
        try:
            content = base64.b64decode(item.get("content_base64", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise IntakeError(f"file {item['name']!r}: content_base64 is not base64") from None
        filename = item["name"]
        content_type = (
            item.get("content_type")
            or mimetypes.guess_type(filename)[0]
            or "application/octet-stream"
        )
        file_id = str(100_000_000_000 + secrets.randbelow(900_000_000_000))
        runtime.store.insert_file(FileRow(file_id, conversion_id, filename, content_type, content))
        query = urlencode(
            {
                "portalId": runtime.config.portal_id,
                "sign": file_sign(runtime, file_id, conversion_id, filename),
                "conversionId": conversion_id,
                "filename": filename,
            }
        )
        url = f"{BASE_URL_MARKER}{SIGNED_URL_PATH}{file_id}?{query}"
        links.append((str(item.get("field") or DEFAULT_FILE_FIELD), url))
    return links
