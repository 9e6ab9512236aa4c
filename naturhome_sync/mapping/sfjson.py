"""Python values as Salesforce's REST API reads them.

simple-salesforce serialises request bodies with ``json.dumps``, which knows neither
``Decimal`` nor dates; converting here keeps money exact: a Decimal is sent as an integer when
it is whole and as the float whose shortest representation is that very decimal otherwise
(always true up to 15 significant digits), and anything that would be rounded is refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]


def to_salesforce_json(value: Any) -> JSONValue:
    """``value`` ready for ``json.dumps``: Decimal -> number, date -> "YYYY-MM-DD",
    datetime -> ISO 8601 with its offset (a naive datetime is refused: Salesforce would
    read it as UTC, which is rarely what the caller meant). Mappings and lists recurse."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent to Salesforce")
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        if Decimal(repr(as_float)) != value.normalize():
            raise ValueError(f"{value} cannot be sent as a JSON number without rounding")
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
        return {str(k): to_salesforce_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_salesforce_json(v) for v in value]
    raise TypeError(f"{type(value).__name__} is not a Salesforce field value")


def salesforce_record(record: Mapping[str, Any]) -> dict[str, JSONValue]:
    """A record body (field -> value) ready for simple-salesforce."""
    return {name: to_salesforce_json(value) for name, value in record.items()}
