"""What every real org has whatever schema it is given: system fields and platform objects.

``load_schema`` already supplies the standard objects the service touches. The emulator also
needs the approval objects (ProcessInstance, ProcessInstanceWorkitem) and, for schemas built
by hand in tests, the Id/audit fields and the User/Profile/Organization/Files objects its
behaviours rely on. They are added here only when missing; what the schema defines wins.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from naturhome_sync.sfschema import FieldDef, ObjectDef, Schema, standard_objects
from naturhome_sync.sfschema.standard import system_fields

#: Objects the emulator's behaviours need; taken from the standard base when missing.
_REQUIRED_STANDARD = (
    "User",
    "Profile",
    "Organization",
    "ContentVersion",
    "ContentDocument",
    "ContentDocumentLink",
)
#: Polymorphic lookups that reach every object of the schema.
_POLYMORPHIC = (
    ("ContentDocumentLink", "LinkedEntityId"),
    ("ContentVersion", "FirstPublishLocationId"),
    ("ProcessInstance", "TargetObjectId"),
)


def _read_only(name: str, label: str, type_: str, **attrs: Any) -> FieldDef:
    return FieldDef(name=name, label=label, type=type_, createable=False, updateable=False, **attrs)


def _platform_object(
    name: str, label: str, plural: str, prefix: str, fields: list[FieldDef]
) -> ObjectDef:
    """A read-only platform object: the API can query it but never write it."""
    merged = dict(system_fields(owner=False))
    merged.update({f.name: f for f in fields})
    return ObjectDef(
        name=name,
        label=label,
        plural_label=plural,
        custom=False,
        fields=MappingProxyType(merged),
        key_prefix=prefix,
        createable=False,
        updateable=False,
        deletable=False,
    )


def _approval_objects(targets: tuple[str, ...]) -> list[ObjectDef]:
    instance = [
        _read_only(
            "TargetObjectId",
            "Target Object ID",
            "Lookup",
            length=18,
            reference_to=targets,
            relationship_name="TargetObject",
            child_relationship_name="ProcessInstances",
        ),
        _read_only("Status", "Status", "Text", length=40),
        _read_only("ProcessDefinitionId", "Approval Process ID", "Text", length=18),
        _read_only("CompletedDate", "Completed Date", "DateTime"),
    ]
    workitem = [
        _read_only(
            "ProcessInstanceId",
            "Process Instance ID",
            "Lookup",
            length=18,
            reference_to=("ProcessInstance",),
            relationship_name="ProcessInstance",
            child_relationship_name="Workitems",
        ),
        _read_only(
            "ActorId",
            "Actor ID",
            "Lookup",
            length=18,
            reference_to=("User",),
            relationship_name="Actor",
        ),
    ]
    return [
        _platform_object(
            "ProcessInstance", "Process Instance", "Process Instances", "04g", instance
        ),
        _platform_object(
            "ProcessInstanceWorkitem", "Approval Request", "Approval Requests", "04i", workitem
        ),
    ]


def _with_system_fields(obj: ObjectDef) -> ObjectDef:
    if obj.field("Id") is not None:
        return obj
    fields = dict(system_fields(owner=False))
    fields.update(obj.fields)
    return replace(obj, fields=MappingProxyType(fields))


def augment(schema: Schema) -> Schema:
    """``schema`` plus the system fields and platform objects a real org always has."""
    objects = {name: _with_system_fields(obj) for name, obj in schema.objects.items()}
    base = standard_objects()
    for name in _REQUIRED_STANDARD:
        if schema.object(name) is None:
            objects[name] = base[name]
    linkable = tuple(sorted(objects))
    for approval in _approval_objects(linkable):
        objects.setdefault(approval.name, approval)
    for object_name, field_name in _POLYMORPHIC:
        found = objects.get(object_name)
        polymorphic = found.field(field_name) if found else None
        if found is None or polymorphic is None:
            continue
        obj = found
        extra = tuple(t for t in linkable if t not in polymorphic.reference_to)
        if extra:
            fields = dict(obj.fields)
            fields[polymorphic.name] = replace(
                polymorphic, reference_to=polymorphic.reference_to + extra
            )
            objects[object_name] = replace(obj, fields=MappingProxyType(fields))
    return Schema(
        objects=MappingProxyType(objects),
        permission_sets=schema.permission_sets,
        standard_value_sets=schema.standard_value_sets,
        api_version=schema.api_version,
    )
