"""Typed values the HubSpot connector hands to flows: submissions, contacts, files.

Form values are kept as HubSpot sends them (strings, by field internal name). Several
values for one field (multi-select, several uploaded files) arrive ``;``-joined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from naturhome_sync.errors import PermanentDataError, TransientError

FILE_FIELD = "plans"

#: Keys of the workflow webhook body that are not form fields (docs/hubspot.md).
WORKFLOW_RESERVED_KEYS = frozenset(
    {"hs_object_id", "email", "conversion_id", "form_guid", "submitted_at"}
)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True, slots=True)
class Submission:
    """One submission of a HubSpot form, whichever way it reached us.

    ``submitted_at`` is epoch milliseconds. ``contact_id`` is known when the submission came
    by webhook (``hs_object_id``); the forms API does not say which contact it created.
    """

    conversion_id: str
    submitted_at: int
    values: dict[str, str]
    page_url: str | None
    form_guid: str
    contact_id: str | None = None

    @property
    def email(self) -> str | None:
        email = self.values.get("email", "").strip()
        return email or None

    def file_urls(self, field_name: str = FILE_FIELD) -> list[str]:
        """The uploaded-file links of a file field (several files are ``;``-separated)."""
        raw = self.values.get(field_name, "")
        return [part.strip() for part in raw.split(";") if part.strip()]

    @classmethod
    def from_forms_api(cls, form_guid: str, item: Mapping[str, Any]) -> Submission:
        """One entry of ``results`` from ``/form-integrations/v1/submissions/forms/{guid}``."""
        try:
            values: dict[str, str] = {}
            for entry in item.get("values") or []:
                name, value = str(entry["name"]), _text(entry.get("value"))
                if value is None:
                    continue
                values[name] = f"{values[name]};{value}" if name in values else value
            return cls(
                conversion_id=str(item["conversionId"]),
                submitted_at=int(item["submittedAt"]),
                values=values,
                page_url=_text(item.get("pageUrl")),
                form_guid=form_guid,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise TransientError(
                f"HubSpot forms API: unexpected submission shape ({error!r})",
                code="UNEXPECTED_RESPONSE",
            ) from error

    @classmethod
    def from_workflow_body(cls, payload: Mapping[str, Any]) -> Submission:
        """The flat body of the "Send a webhook" workflow action (our intake contract)."""
        missing = [
            key
            for key in ("conversion_id", "form_guid", "submitted_at", "email")
            if payload.get(key) in (None, "")
        ]
        if missing:
            raise PermanentDataError(
                f"HubSpot webhook body lacks {', '.join(missing)}", code="WEBHOOK_BODY"
            )
        try:
            submitted_at = int(str(payload["submitted_at"]))
        except ValueError:
            raise PermanentDataError(
                f"HubSpot webhook body: submitted_at {payload['submitted_at']!r} is not epoch ms",
                code="WEBHOOK_BODY",
            ) from None
        values = {
            str(name): text
            for name, value in payload.items()
            if name not in WORKFLOW_RESERVED_KEYS and (text := _text(value)) not in (None, "")
        }
        values["email"] = str(payload["email"])
        contact_id = _text(payload.get("hs_object_id"))
        return cls(
            conversion_id=str(payload["conversion_id"]),
            submitted_at=submitted_at,
            values=values,
            page_url=None,
            form_guid=str(payload["form_guid"]),
            contact_id=contact_id or None,
        )


@dataclass(frozen=True, slots=True)
class SubmissionPage:
    """One page of the forms API, newest first; ``next_after`` is ``None`` on the last."""

    submissions: list[Submission]
    next_after: str | None


@dataclass(frozen=True, slots=True)
class Contact:
    """A HubSpot contact; property values are strings, ``None`` when empty."""

    id: str
    properties: dict[str, str | None]
    created_at: datetime
    updated_at: datetime
    archived: bool = False

    def get(self, name: str) -> str | None:
        """A property's value; absent, ``null`` and ``""`` all mean "no value"."""
        value = self.properties.get(name)
        return value if value else None

    @property
    def email(self) -> str | None:
        return self.get("email")

    @classmethod
    def from_sdk(cls, record: Any) -> Contact:
        """From hubspot-api-client's ``SimplePublicObject`` (or ``...WithAssociations``)."""
        return cls(
            id=str(record.id),
            properties={str(k): _text(v) for k, v in (record.properties or {}).items()},
            created_at=record.created_at,
            updated_at=record.updated_at,
            archived=bool(record.archived),
        )


@dataclass(frozen=True, slots=True)
class DownloadedFile:
    name: str
    content: bytes = field(repr=False)
    content_type: str

    @property
    def size(self) -> int:
        return len(self.content)
