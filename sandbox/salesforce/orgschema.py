"""The schema as the emulated org sees it: names, key prefixes and relationships.

Wraps the typed :class:`~naturhome_sync.sfschema.Schema` (already augmented with platform
objects) with what only a running org has: a key prefix per object (standard ones fixed,
custom ones assigned once and persisted so ids stay meaningful across restarts) and fast
case-insensitive resolution of relationship names in both directions.
"""

from __future__ import annotations

from naturhome_sync.sfschema import ChildRelationship, FieldDef, ObjectDef, Schema
from sandbox.salesforce.errors import SfError, not_found
from sandbox.salesforce.ids import STANDARD_KEY_PREFIXES, custom_prefix
from sandbox.salesforce.store import Store


class OrgSchema:
    """Objects, fields and relationships, resolved case-insensitively like the API does."""

    def __init__(self, schema: Schema, store: Store) -> None:
        self.schema = schema
        self.prefixes = _assign_prefixes(schema, store)
        self._by_prefix = {prefix: name for name, prefix in self.prefixes.items()}
        self._parents: dict[str, dict[str, FieldDef]] = {}
        self._children: dict[str, dict[str, ChildRelationship]] = {}
        for obj in schema.objects.values():
            self._parents[obj.name] = {
                f.relationship_name.lower(): f
                for f in obj.fields.values()
                if f.relationship_name and (f.is_reference or f.type == "Lookup")
            }
            self._children[obj.name] = {}
        self._all_children = {name: schema.child_relationships(name) for name in schema.objects}
        for obj in schema.objects.values():
            for f in obj.fields.values():
                if not f.is_reference or not f.child_relationship_name:
                    continue
                for target in f.reference_to:
                    parent = schema.object(target)
                    if parent is None:
                        continue
                    self._children[parent.name].setdefault(
                        f.child_relationship_name.lower(),
                        ChildRelationship(
                            child_object=obj.name,
                            field=f.name,
                            relationship_name=f.child_relationship_name,
                            cascade_delete=f.is_master_detail,
                        ),
                    )

    def object(self, name: str) -> ObjectDef | None:
        return self.schema.object(name)

    def sobject_or_404(self, name: str) -> ObjectDef:
        """The object named in a REST path; an unknown one is a 404 NOT_FOUND."""
        obj = self.schema.object(name)
        if obj is None:
            raise not_found()
        return obj

    def sobject_or_invalid_type(self, name: str) -> ObjectDef:
        """The object named in a body (``attributes.type``); unknown is INVALID_TYPE."""
        obj = self.schema.object(name)
        if obj is None:
            raise SfError(
                "INVALID_TYPE",
                f"sObject type '{name}' is not supported. If you are attempting to use a "
                "custom object, be sure to append the '__c' after the entity name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
                fields=[],
            )
        return obj

    def key_prefix(self, obj: ObjectDef) -> str:
        return self.prefixes[obj.name]

    def object_of_id(self, record_id: str) -> ObjectDef | None:
        name = self._by_prefix.get(record_id[:3])
        return self.schema.objects.get(name) if name else None

    def parent_field(self, obj: ObjectDef, relationship: str) -> FieldDef | None:
        """The lookup whose relationship name (``Account``, ``Opportunity__r``) is given."""
        return self._parents[obj.name].get(relationship.lower())

    def child_relationship(self, obj: ObjectDef, name: str) -> ChildRelationship | None:
        return self._children[obj.name].get(name.lower())

    def child_relationships(self, obj: ObjectDef) -> tuple[ChildRelationship, ...]:
        """Every lookup pointing at ``obj`` (named or not), for cascades and describe."""
        return self._all_children[obj.name]


def _assign_prefixes(schema: Schema, store: Store) -> dict[str, str]:
    """Standard prefixes from the table, schema-given ones kept, custom ones persisted."""
    saved = store.key_prefixes()
    used = set(saved.values()) | set(STANDARD_KEY_PREFIXES.values())
    prefixes: dict[str, str] = {}
    pending: list[ObjectDef] = []
    for obj in sorted(schema.objects.values(), key=lambda o: o.name):
        if obj.key_prefix:
            prefixes[obj.name] = obj.key_prefix
        elif obj.name in STANDARD_KEY_PREFIXES:
            prefixes[obj.name] = STANDARD_KEY_PREFIXES[obj.name]
        elif obj.name in saved:
            prefixes[obj.name] = saved[obj.name]
        else:
            pending.append(obj)
    used |= set(prefixes.values())
    index = 0
    for obj in pending:
        while custom_prefix(index) in used:
            index += 1
        prefix = custom_prefix(index)
        used.add(prefix)
        store.save_key_prefix(obj.name, prefix)
        prefixes[obj.name] = prefix
    return prefixes
