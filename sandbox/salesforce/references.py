"""Lookup values: ids that must exist, be of the right object, and external-id references.

An org checks a lookup in three steps that produce three different errors: the text is not
an id at all (MALFORMED_ID), it is an id of another object (MALFORMED_ID or
FIELD_INTEGRITY_EXCEPTION, see ``Behaviour.wrong_object_reference_code``), or it is an id of
the right object that does not exist (INVALID_CROSS_REFERENCE_KEY). A nested object such as
``"Opportunity__r": {"HubSpot_Submission_Id__c": "x"}`` is resolved to the id it names.
"""

from __future__ import annotations

from typing import Any

from naturhome_sync.sfschema import FieldDef, ObjectDef
from sandbox.salesforce.config import Behaviour
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.ids import normalize_id
from sandbox.salesforce.orgschema import OrgSchema
from sandbox.salesforce.store import Store
from sandbox.salesforce.values import fold, number_key


def check_reference(
    schema: OrgSchema, store: Store, behaviour: Behaviour, field: FieldDef, value: str
) -> str:
    """The 18-character id a lookup ``value`` points to, or the error an org answers."""
    incorrect = f"{field.label}: id value of incorrect type: {value}"
    record_id = normalize_id(value)
    if record_id is None:
        raise SfError("MALFORMED_ID", incorrect, fields=[field.name])
    target = schema.object_of_id(record_id)
    allowed = {name.lower() for name in field.reference_to}
    if target is None or target.name.lower() not in allowed:
        raise SfError(behaviour.wrong_object_reference_code, incorrect, fields=[field.name])
    found = store.get(record_id)
    if found is None:
        raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[])
    if found[1]:
        raise SfError("ENTITY_IS_DELETED", "entity is deleted", fields=[])
    return record_id


def lookup_key(field: FieldDef, value: Any) -> tuple[str, str]:
    """``(folded, raw)`` index key of an external-id or unique value."""
    if field.type in ("Number", "Int", "Currency", "Percent"):
        text = number_key(value)
        return text, text
    raw = str(value)
    if field.case_sensitive and field.type not in ("Email",):
        return raw, raw
    return fold(raw), raw


def find_by_key(
    store: Store, behaviour: Behaviour, obj: ObjectDef, field: FieldDef, value: Any
) -> list[str]:
    """Ids of live records whose external-id ``field`` equals ``value``.

    Text external ids that are not case-sensitive match case-insensitively unless
    ``Behaviour.external_id_case_insensitive`` is off.
    """
    folded, raw = lookup_key(field, value)
    hits = store.lookup(obj.name, field.name, folded)
    if behaviour.external_id_case_insensitive or field.type in ("Number", "Int", "Email"):
        return [rid for rid, _ in hits]
    return [rid for rid, stored in hits if stored == raw]


def resolve_nested(
    schema: OrgSchema,
    store: Store,
    behaviour: Behaviour,
    lookup: FieldDef,
    nested: Any,
) -> str:
    """The id named by ``{"Ext__c": "value"}`` under a relationship name in a body."""
    if not isinstance(nested, dict):
        raise SfError(
            "INVALID_FIELD",
            f"The value provided for foreign key reference {lookup.relationship_name} "
            "is not a nested SObject",
            fields=[],
        )
    declared = (
        nested.get("attributes", {}).get("type")
        if isinstance(nested.get("attributes"), dict)
        else None
    )
    targets = [declared] if declared else list(lookup.reference_to)
    if len(targets) != 1:
        raise SfError(
            "INVALID_FIELD",
            f"Polymorphic foreign key reference {lookup.relationship_name} needs attributes.type",
            fields=[],
        )
    target = schema.sobject_or_invalid_type(str(targets[0]))
    keys = [k for k in nested if k != "attributes"]
    if len(keys) != 1:
        raise SfError(
            "INVALID_FIELD",
            f"Foreign key reference {lookup.relationship_name} must name exactly one "
            "external id field",
            fields=[],
        )
    name = keys[0]
    key_field = target.field(name)
    if key_field is None or not (key_field.external_id or key_field.id_lookup):
        raise SfError(
            "INVALID_FIELD",
            f"Field name provided, {name} is not an External ID or indexed field for {target.name}",
            fields=[],
        )
    value = nested[name]
    matches = find_by_key(store, behaviour, target, key_field, value)
    if not matches:
        raise SfError(
            "INVALID_FIELD",
            f"Foreign key external ID: {value} not found for field {key_field.name} in "
            f"entity {target.name}",
            fields=[],
        )
    if len(matches) > 1:
        raise SfError(
            "DUPLICATE_EXTERNAL_ID",
            f"{key_field.label}: more than one record found for external id field: "
            f"[{', '.join(matches)}]",
            fields=[],
        )
    return matches[0]
