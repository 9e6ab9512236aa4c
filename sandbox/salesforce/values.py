"""Field values in and out: JSON type checks, formats, lengths, picklists and numbers.

The emulator stores values in the exact form the API answers (``+0000`` datetimes with
milliseconds, doubles for custom numbers, ``;``-joined multi-select values), so reads need
no conversion and text comparisons in SOQL work on the stored strings directly. Inputs are
checked as strictly as an org's deserializer and DML layer check them: a value an org might
coerce (a number sent as a string) is refused here, so code that passes the emulator never
relies on leniency.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from naturhome_sync.sfschema import FieldDef
from sandbox.salesforce.errors import SfError

NUMBER_TYPES = frozenset({"Number", "Currency", "Percent"})
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?Z?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: Describe type names used in deserializer messages.
_API_TYPE = {
    "Number": "double",
    "Currency": "double",
    "Percent": "double",
    "Int": "int",
    "Checkbox": "boolean",
    "Date": "date",
    "DateTime": "datetime",
    "Time": "time",
    "Base64": "base64",
}


def format_datetime(moment: datetime) -> str:
    """``2024-05-01T10:00:00.000+0000``: UTC, milliseconds, offset without colon."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 date-time as Salesforce reads it (no offset means UTC), or None."""
    match = _DATETIME.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micros, UTC
        )
    except ValueError:
        return None
    if offset and offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def parse_date(text: str) -> date | None:
    match = _DATE.match(text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def fold(value: str) -> str:
    """Case-insensitive comparison key, as an org compares text."""
    return value.casefold()


def _token(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return "VALUE_STRING"


def parser_error(field: FieldDef, value: Any) -> SfError:
    api_type = _API_TYPE.get(field.type, "string")
    shown = value if not isinstance(value, dict | list) else ""
    return SfError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {api_type} from {_token(value)} value {shown} "
        "or request may be missing a required field",
        fields=[],
    )


def deserialize(field: FieldDef, value: Any) -> Any:
    """The stored form of a JSON ``value`` for ``field``; JSON_PARSER_ERROR on a wrong type.

    Empty strings become null, as an org stores them.
    """
    if value is None:
        return None
    kind = field.type
    if kind in NUMBER_TYPES or kind == "Int":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise parser_error(field, value)
        return value
    if kind == "Checkbox":
        if not isinstance(value, bool):
            raise parser_error(field, value)
        return value
    if not isinstance(value, str):
        raise parser_error(field, value)
    if value == "":
        return None
    if kind == "Date":
        if parse_date(value) is None:
            raise parser_error(field, value)
        return value
    if kind == "DateTime":
        moment = parse_datetime(value)
        if moment is None:
            raise parser_error(field, value)
        return format_datetime(moment)
    if kind == "Time":
        match = _TIME.match(value)
        if not match:
            raise parser_error(field, value)
        hh, mm, ss, ms = match.groups()
        return f"{hh}:{mm}:{ss or '00'}.{(ms or '0').ljust(3, '0')}Z"
    if kind == "Base64":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise parser_error(field, value) from None
    return value


def validate(field: FieldDef, value: Any) -> Any:
    """Range, length, picklist and e-mail checks of an already deserialized value; answers
    the value as stored (numbers rounded to the field's scale, multi-select values in
    picklist order)."""
    if value is None:
        return None
    if field.type in NUMBER_TYPES:
        return _check_number(field, value)
    if field.type == "Int":
        if isinstance(value, float) and not value.is_integer():
            raise parser_error(field, value)
        return int(value)
    if not isinstance(value, str):
        return value
    if field.type == "Email" and not _EMAIL.match(value):
        raise SfError(
            "INVALID_EMAIL_ADDRESS",
            f"{field.label}: invalid email address: {value}",
            fields=[field.name],
        )
    if field.type == "Picklist":
        _check_picklist(field, value)
    if field.type == "MultiselectPicklist":
        value = _multi_select(field, value)
    limit = field.max_length
    text_limited = limit is not None and field.type not in ("Picklist", "MultiselectPicklist")
    if text_limited and len(value) > (limit or 0):
        raise SfError(
            "STRING_TOO_LONG",
            f"{field.label}: data value too large: {value} (max length={limit})",
            fields=[field.name],
        )
    return value


def _check_number(field: FieldDef, value: int | float) -> float:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise parser_error(field, value) from None
    scale = field.scale if field.scale is not None else 0
    precision = field.precision if field.precision is not None else 18
    rounded = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    integer_digits = len(str(abs(int(rounded)))) if abs(rounded) >= 1 else 0
    if integer_digits > precision - scale:
        raise SfError(
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"{field.label}: value outside of valid range on numeric field: {value}",
            fields=[field.name],
        )
    return float(rounded)


def _check_picklist(field: FieldDef, value: str) -> None:
    if field.restricted and value not in field.picklist_value_set:
        raise SfError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{field.label}: bad value for restricted picklist field: {value}",
            fields=[field.name],
        )


def _multi_select(field: FieldDef, value: str) -> str | None:
    chosen = [part for part in value.split(";") if part != ""]
    for part in chosen:
        _check_picklist(field, part)
    order = {v.value: i for i, v in enumerate(field.picklist_values)}
    unique = list(dict.fromkeys(chosen))
    unique.sort(key=lambda v: order.get(v, len(order)))
    return ";".join(unique) or None


def default_value(field: FieldDef, today: date, now: datetime) -> Any:
    """The value an org gives ``field`` on create when the request leaves it out."""
    if field.type == "Checkbox":
        return (field.default_value or "false").strip().lower() == "true"
    if field.type in ("Picklist", "MultiselectPicklist"):
        defaults = [v.value for v in field.picklist_values if v.default and v.active]
        if defaults:
            return ";".join(defaults) if field.type == "MultiselectPicklist" else defaults[0]
    raw = (field.default_value or "").strip()
    if not raw:
        return None
    upper = raw.upper()
    if upper == "TODAY()" and field.type == "Date":
        return today.isoformat()
    if upper == "NOW()" and field.type == "DateTime":
        return format_datetime(now)
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    if field.type in NUMBER_TYPES or field.type == "Int":
        try:
            return float(Decimal(raw)) if field.type != "Int" else int(Decimal(raw))
        except InvalidOperation:
            return None
    if field.type in ("Picklist",) and raw in field.picklist_value_set:
        return raw
    return None


def number_key(value: Any) -> str:
    """Canonical text of a number so ``12``, ``12.0`` and ``"12"`` index alike."""
    try:
        normal = Decimal(str(value)).normalize()
    except InvalidOperation:
        return str(value)
    return format(normal, "f")
