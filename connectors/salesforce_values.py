"""Values on their way to Salesforce: JSON-safe records, SOQL literals, and the bodies of
the records the port writes for every flow (Tasks, files).

simple-salesforce serialises with ``json.dumps``, which refuses ``Decimal``, ``date`` and
``datetime``. Money leaves as a JSON number: ``float(Decimal)`` is exact for the amounts we
handle (≤ 15 significant digits, checked), and Salesforce stores it at the field's scale.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

_MAX_EXACT_DIGITS = 15


def encode_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        digits = len(value.as_tuple().digits)
        if digits > _MAX_EXACT_DIGITS:
            raise ValueError(f"{value} has more digits than a JSON number carries exactly")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: give Salesforce an aware (UTC) datetime")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{value.microsecond // 1000:03d}Z"
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return encode_record(value)
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    return value


def encode_record(values: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): encode_value(v) for k, v in values.items()}


def soql_quote(value: Any) -> str:
    """A SOQL literal for ``value`` (strings quoted with backslash escapes)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | float):
        return str(value)
    if isinstance(value, datetime | date):
        return str(encode_value(value))
    text = str(value)
    for char, escaped in (
        ("\\", "\\\\"),
        ("'", "\\'"),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\t", "\\t"),
    ):
        text = text.replace(char, escaped)
    return f"'{text}'"


def soql_in(values: list[Any]) -> str:
    return "(" + ", ".join(soql_quote(v) for v in values) + ")"


def task_values(
    what_id: str,
    subject: str,
    *,
    description: str | None = None,
    owner_id: str | None = None,
    status: str = "Completed",
    activity_date: Any = None,
    priority: str = "Normal",
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "WhatId": what_id,
        "Subject": subject[:255],
        "Status": status,
        "Priority": priority,
    }
    if description:
        values["Description"] = description
    if owner_id:
        values["OwnerId"] = owner_id
    if activity_date:
        values["ActivityDate"] = activity_date
    return values


def file_version(
    record_id: str, filename: str, content: bytes, *, key: str, title: str | None = None
) -> dict[str, Any]:
    """The ContentVersion body that creates a file linked to ``record_id``."""
    return {
        "Title": (title or Path(filename).stem or filename)[:255],
        "PathOnClient": filename,
        "VersionData": base64.b64encode(content).decode("ascii"),
        "FirstPublishLocationId": record_id,
        "Naturhome_Key__c": key,
    }
