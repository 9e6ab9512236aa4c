"""Deciding what to write to a record Salesforce already holds.

A person may have corrected a phone number or a budget in Salesforce since the submission
arrived; a replay must not undo that. Each rule's ``on_existing`` says who wins:

- ``salesforce_wins_unless_blank`` (default): write only into a blank field;
- ``source_wins``: write whenever the value differs;
- ``salesforce_wins``: write only when creating the record.

Values equal to what Salesforce holds are never written (the API allocation is the scarce
resource), which needs a comparison that knows Salesforce answers ``250000.0`` for a
Decimal ``250000.00`` and ``"2027-03-01"`` for a date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from naturhome_sync.mapping.model import DEFAULT_ON_EXISTING, MappingSpec


def is_blank_in_salesforce(value: Any) -> bool:
    """Salesforce shows null and the empty string alike: both are blank."""
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def values_equal(ours: Any, theirs: Any) -> bool:
    """Whether writing ``ours`` over ``theirs`` (as Salesforce returned it) changes nothing."""
    if is_blank_in_salesforce(ours) or is_blank_in_salesforce(theirs):
        return is_blank_in_salesforce(ours) and is_blank_in_salesforce(theirs)
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return ours is theirs
    if isinstance(ours, Decimal | int | float):
        other = _number(theirs)
        return other is not None and Decimal(str(ours)) == other
    if isinstance(ours, datetime):
        other_dt = _datetime(theirs)
        return other_dt is not None and other_dt.tzinfo is not None and ours == other_dt
    if isinstance(ours, date):
        return str(theirs)[:10] == ours.isoformat()
    return str(ours).replace("\r\n", "\n") == str(theirs).replace("\r\n", "\n")


def _existing_value(existing: Mapping[str, Any], name: str) -> Any:
    if name in existing:
        return existing[name]
    lowered = name.lower()
    return next((v for k, v in existing.items() if k.lower() == lowered), None)


def changed_fields(values: Mapping[str, Any], existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """The entries of ``values`` that differ from the record (all of them for a new record)."""
    if existing is None:
        return dict(values)
    return {
        name: value
        for name, value in values.items()
        if not values_equal(value, _existing_value(existing, name))
    }


def write_needed(values: Mapping[str, Any], existing: Mapping[str, Any] | None) -> bool:
    """False when Salesforce already holds every value: skip the API call."""
    return bool(changed_fields(values, existing))


def merge_existing(
    mapping: MappingSpec,
    object_name: str,
    mapped: Mapping[str, Any],
    existing: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The fields of ``mapped`` to write, given the record Salesforce holds (None: none yet).

    Fields the mapping has no rule for follow the default rule
    (``salesforce_wins_unless_blank``). An empty result means no write is needed.
    """
    object_mapping = mapping.object(object_name)
    if object_mapping is None:
        raise KeyError(f"the mapping {mapping.name} has no rules for {object_name}")
    if existing is None:
        return dict(mapped)
    to_write: dict[str, Any] = {}
    for name, value in mapped.items():
        rule = object_mapping.rule(name)
        mode = rule.on_existing if rule else DEFAULT_ON_EXISTING
        current = _existing_value(existing, name)
        if mode == "salesforce_wins":
            continue
        if mode == "salesforce_wins_unless_blank" and not is_blank_in_salesforce(current):
            continue
        if not values_equal(value, current):
            to_write[name] = value
    return to_write
