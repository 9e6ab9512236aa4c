"""Values on their way to Salesforce: JSON-safe records, SOQL literals, and the bodies of
the records the port writes for every flow (Tasks, files).

simple-salesforce serialises with ``json.dumps``, which refuses ``Decimal``, ``date`` and
``datetime``. Money leaves as a JSON number, exactly (checked), and Salesforce stores it at
the field's scale.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from naturhome_sync.errors import PermanentDataError

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]


def encode_value(value: Any) -> JSONValue:
    """``value`` ready for ``json.dumps``: Decimal -> number, date -> "YYYY-MM-DD",
    datetime -> ISO 8601 with its offset (a naive datetime is refused: Salesforce would
    read it as UTC, which is rarely what the caller meant). Mappings and lists recurse.

    A Decimal is sent as an integer when it is whole and as the float whose shortest
    representation is that very decimal otherwise (always true up to 15 significant
    digits); anything that would be rounded is refused with a ``PermanentDataError``
    (``NUMBER_NOT_EXACT``): the same value fails the same way on every attempt, so retrying
    it would only delay the dead letter that names it.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _inexact(value, "is not a number Salesforce can store")
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        if Decimal(repr(as_float)) != value.normalize():
            raise _inexact(value, "cannot be sent as a JSON number without rounding")
        return as_float
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be sent to Salesforce")
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{value} has no time zone")
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    raise TypeError(f"{type(value).__name__} is not a Salesforce field value")


def _inexact(value: Decimal, why: str) -> PermanentDataError:
    return PermanentDataError(
        f"the number {value} {why}", code="NUMBER_NOT_EXACT", details={"value": str(value)}
    )


def encode_record(values: Mapping[str, Any]) -> dict[str, JSONValue]:
    """A record body (field -> value) ready for simple-salesforce."""
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


#: Field sizes of ContentVersion: a longer value makes Salesforce refuse the whole file.
TITLE_MAX = 255
PATH_ON_CLIENT_MAX = 500
#: Longer "extensions" are not file types (``notes.of the meeting with the architect``).
_EXTENSION_MAX = 16


def _cut_keeping_extension(name: str, limit: int) -> str:
    """``name`` within ``limit`` characters, its extension kept: Salesforce derives the file
    type (and the icon and preview the rep sees) from it."""
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 0 < len(extension) <= _EXTENSION_MAX:
        return f"{stem[: limit - len(extension) - 1]}.{extension}"
    return name[:limit]


def file_version(
    record_id: str, filename: str, content: bytes, *, key: str, title: str | None = None
) -> dict[str, Any]:
    """The ContentVersion body that creates a file linked to ``record_id``.

    Title and PathOnClient are cut to their field sizes (255 and 500 characters): a name
    the public chose must never make Salesforce refuse the file, or the write carrying it.
    """
    return {
        "Title": (title or Path(filename).stem or filename)[:TITLE_MAX],
        "PathOnClient": _cut_keeping_extension(filename, PATH_ON_CLIENT_MAX),
        "VersionData": base64.b64encode(content).decode("ascii"),
        "FirstPublishLocationId": record_id,
        "Naturhome_Key__c": key,
    }


def is_blank(value: Any) -> bool:
    """Salesforce shows null and the empty (or blank) string alike."""
    return value is None or (isinstance(value, str) and not value.strip())


def same_value(ours: Any, theirs: Any) -> bool:
    """Whether writing ``ours`` over ``theirs`` (as the org returned it) changes nothing.

    ``ours`` may be a Python value (Decimal, date, datetime, str) or already encoded for
    JSON; ``theirs`` is what the org answers in its own formats: numbers at the field's scale
    (``250000.0`` for ``Decimal("250000.00")``), dates as ``2027-03-01``, datetimes as
    ``2026-03-04T05:06:07.000+0000`` where we send ``...Z``, null for an empty string.
    Anything not recognised compares as different: at worst a record is written again.
    """
    if is_blank(ours) or is_blank(theirs):
        return is_blank(ours) and is_blank(theirs)
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return ours is theirs
    if isinstance(ours, Decimal | int | float):
        other = _decimal(theirs)
        return other is not None and Decimal(str(ours)) == other
    if isinstance(ours, datetime):
        other_at = _instant(str(theirs))
        return other_at is not None and ours.tzinfo is not None and ours == other_at
    if isinstance(ours, date):
        return str(theirs)[:10] == ours.isoformat()
    mine, other_text = str(ours).replace("\r\n", "\n"), str(theirs).replace("\r\n", "\n")
    if mine == other_text:
        return True
    mine_at, other_at = _instant(mine), _instant(other_text)
    return mine_at is not None and mine_at == other_at


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _instant(text: str) -> datetime | None:
    """An aware datetime from an ISO datetime string (``+0000``, ``Z`` or ``+00:00``)."""
    if len(text) < 19 or text[10] != "T":
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
