"""Deciding what to write to a record Salesforce already holds.

A person may have corrected a phone number or a budget in Salesforce since the submission
arrived; a replay must not undo that. Each rule's ``on_existing`` says who wins:

- ``salesforce_wins_unless_blank`` (default): write only into a blank field;
- ``source_wins``: write whenever the value differs;
- ``salesforce_wins``: write only when creating the record.

Values equal to what Salesforce holds are never written (the API allocation is the scarce
resource); the comparison (``same_value``) is the connector's, shared with its
skip-unchanged collections.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.salesforce_values import is_blank, same_value
from naturhome_sync.mapping.model import DEFAULT_ON_EXISTING, MappingSpec

#: The one comparison of a value with what Salesforce holds (connectors.salesforce_values).
is_blank_in_salesforce = is_blank
values_equal = same_value


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
