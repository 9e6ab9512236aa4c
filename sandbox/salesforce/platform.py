"""What every real org has whatever the project schema says: audit fields and the platform
objects behind files, approvals and users.

The project schema (``salesforce/`` plus the standard base) describes what the service
relies on; an org also carries ``Id``, ``IsDeleted``, ``CreatedDate``... on every object and
the ContentVersion / ContentDocument / ContentDocumentLink trio, ProcessInstance and
ProcessInstanceWorkitem. The emulator's behaviours need those, so they are added here when
the given schema lacks them; fields the schema already defines are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from naturhome_sync.sfschema import FieldDef, ObjectDef, PicklistValue, Schema

#: Objects the API never lets a client insert (the platform creates them).
NOT_CREATEABLE = frozenset({"ContentDocument", "ProcessInstance", "ProcessInstanceWorkitem"})
#: Objects whose records the API cannot update.
NOT_UPDATEABLE = frozenset({"ContentDocumentLink", "ProcessInstance", "ProcessInstanceWorkitem"})
NOT_DELETABLE = frozenset({"ContentVersion", "ProcessInstance", "ProcessInstanceWorkitem"})

_FILE_OBJECTS = frozenset({"ContentVersion", "ContentDocument", "ContentDocumentLink"})
_APPROVAL_OBJECTS = frozenset({"ProcessInstance", "ProcessInstanceWorkitem"})


def _ro(name: str, label: str, type_: str, **kw: object) -> FieldDef:
    return FieldDef(name=name, label=label, type=type_, createable=False, updateable=False, **kw)  # type: ignore[arg-type]


def _picklist(*values: str, default: str | None = None) -> tuple[PicklistValue, ...]:
    return tuple(PicklistValue(value=v, label=v, default=v == default) for v in values)


def audit_fields(label: str) -> list[FieldDef]:
    """The fields every sObject carries."""
    return [
        _ro("Id", f"{label} ID", "Id"),
        _ro("IsDeleted", "Deleted", "Checkbox", default_value="false"),
        _ro("CreatedDate", "Created Date", "DateTime"),
        _ro(
            "CreatedById",
            "Created By ID",
            "Lookup",
            reference_to=("User",),
            relationship_name="CreatedBy",
        ),
        _ro("LastModifiedDate", "Last Modified Date", "DateTime"),
        _ro(
            "LastModifiedById",
            "Last Modified By ID",
            "Lookup",
            reference_to=("User",),
            relationship_name="LastModifiedBy",
        ),
        _ro("SystemModstamp", "System Modstamp", "DateTime"),
    ]


def _owner() -> FieldDef:
    return FieldDef(
        name="OwnerId",
        label="Owner ID",
        type="Lookup",
        reference_to=("User",),
        relationship_name="Owner",
    )


def _user() -> list[FieldDef]:
    return [
        FieldDef(name="Username", label="Username", type="Text", length=80, required=True, unique=True, id_lookup=True),
        FieldDef(name="FirstName", label="First Name", type="Text", length=40),
        FieldDef(name="LastName", label="Last Name", type="Text", length=80, required=True),
        _ro("Name", "Full Name", "Text", length=121, name_field=True),
        FieldDef(name="Email", label="Email", type="Email", length=128, required=True),
        FieldDef(name="Alias", label="Alias", type="Text", length=8, required=True),
        FieldDef(name="IsActive", label="Active", type="Checkbox", default_value="true"),
        FieldDef(name="TimeZoneSidKey", label="Time Zone", type="Text", length=40),
    ]


def _content_version(all_objects: tuple[str, ...]) -> list[FieldDef]:
    return [
        FieldDef(name="Title", label="Title", type="Text", length=255, required=True, name_field=True),
        FieldDef(name="PathOnClient", label="Path On Client", type="Text", length=500, required=True, updateable=False),
        FieldDef(name="VersionData", label="Version Data", type="Base64", updateable=False),
        FieldDef(
            name="ContentDocumentId",
            label="ContentDocument ID",
            type="Lookup",
            reference_to=("ContentDocument",),
            relationship_name="ContentDocument",
            child_relationship_name="ContentVersions",
            updateable=False,
        ),
        FieldDef(
            name="FirstPublishLocationId",
            label="First Publish Location ID",
            type="Lookup",
            reference_to=all_objects,
            relationship_name="FirstPublishLocation",
            updateable=False,
        ),
        FieldDef(name="Description", label="Description", type="TextArea"),
        FieldDef(name="ReasonForChange", label="Reason For Change", type="Text", length=1000),
        FieldDef(
            name="ContentLocation",
            label="Content Location",
            type="Picklist",
            picklist_values=_picklist("S", "E", "L", default="S"),
            restricted=True,
            updateable=False,
            default_value="S",
        ),
        _ro("IsLatest", "Is Latest", "Checkbox", default_value="false"),
        _ro("VersionNumber", "Version Number", "Text", length=20),
        _ro("ContentSize", "Size", "Int", precision=9, scale=0),
        _ro("FileExtension", "File Extension", "Text", length=40),
        _ro("FileType", "File Type", "Text", length=20),
        _ro("Checksum", "Checksum", "Text", length=50),
    ]


def _content_document() -> list[FieldDef]:
    return [
        FieldDef(name="Title", label="Title", type="Text", length=255, name_field=True),
        _ro(
            "LatestPublishedVersionId",
            "Latest Published Version ID",
            "Lookup",
            reference_to=("ContentVersion",),
            relationship_name="LatestPublishedVersion",
        ),
        _ro("ContentSize", "Size", "Int", precision=9, scale=0),
        _ro("FileExtension", "File Extension", "Text", length=40),
        _ro("FileType", "File Type", "Text", length=20),
    ]


def _content_document_link(all_objects: tuple[str, ...]) -> list[FieldDef]:
    return [
        FieldDef(
            name="ContentDocumentId",
            label="ContentDocument ID",
            type="Lookup",
            reference_to=("ContentDocument",),
            relationship_name="ContentDocument",
            child_relationship_name="ContentDocumentLinks",
            required=True,
            updateable=False,
        ),
        FieldDef(
            name="LinkedEntityId",
            label="Linked Entity ID",
            type="Lookup",
            reference_to=all_objects,
            relationship_name="LinkedEntity",
            child_relationship_name="ContentDocumentLinks",
            required=True,
            updateable=False,
        ),
        FieldDef(
            name="ShareType",
            label="Share Type",
            type="Picklist",
            picklist_values=_picklist("V", "C", "I", default="V"),
            restricted=True,
            default_value="V",
        ),
        FieldDef(
            name="Visibility",
            label="Visibility",
            type="Picklist",
            picklist_values=_picklist("AllUsers", "InternalUsers", "SharedUsers", default="AllUsers"),
            restricted=True,
            default_value="AllUsers",
        ),
    ]


def _process_instance(all_objects: tuple[str, ...]) -> list[FieldDef]:
    return [
        _ro(
            "TargetObjectId",
            "Target Object ID",
            "Lookup",
            reference_to=all_objects,
            relationship_name="TargetObject",
            child_relationship_name="ProcessInstances",
        ),
        _ro(
            "Status",
            "Status",
            "Picklist",
            picklist_values=_picklist("Pending", "Approved", "Rejected", "Removed"),
        ),
        _ro("ProcessDefinitionId", "Approval Process ID", "Text", length=18),
        _ro("CompletedDate", "Completed Date", "DateTime"),
    ]


def _process_instance_workitem() -> list[FieldDef]:
    return [
        _ro(
            "ProcessInstanceId",
            "Process Instance ID",
            "Lookup",
            reference_to=("ProcessInstance",),
            relationship_name="ProcessInstance",
            child_relationship_name="Workitems",
        ),
        _ro("ActorId", "Actor ID", "Lookup", reference_to=("User",), relationship_name="Actor"),
        _ro(
            "OriginalActorId",
            "Original Actor ID",
            "Lookup",
            reference_to=("User",),
            relationship_name="OriginalActor",
        ),
    ]


_LABELS = {
    "User": ("User", "Users"),
    "ContentVersion": ("Content Version", "Content Versions"),
    "ContentDocument": ("Content Document", "Content Documents"),
    "ContentDocumentLink": ("Content Document Link", "Content Document Link"),
    "ProcessInstance": ("Process Instance", "Process Instance"),
    "ProcessInstanceWorkitem": ("Approval Request", "Approval Requests"),
}


def _merge(existing: ObjectDef | None, name: str, extra: Iterable[FieldDef]) -> ObjectDef:
    """``existing`` with the ``extra`` fields it lacks (schema fields always win)."""
    label, plural = _LABELS.get(name, (name, name))
    if existing is None:
        existing = ObjectDef(name=name, label=label, plural_label=plural, custom=False, fields={})
    fields = dict(existing.fields)
    for f in extra:
        if existing.field(f.name) is None:
            fields[f.name] = f
    # Id and the audit fields lead, as in describe.
    ordered = {f.name: f for f in audit_fields(existing.label) if f.name in fields}
    ordered.update({k: v for k, v in fields.items() if k not in ordered})
    return ObjectDef(
        name=existing.name,
        label=existing.label,
        plural_label=existing.plural_label,
        custom=existing.custom,
        fields=ordered,
        key_prefix=existing.key_prefix,
        sharing_model=existing.sharing_model,
        enable_activities=existing.enable_activities,
        name_field_type=existing.name_field_type,
        name_display_format=existing.name_display_format,
        description=existing.description,
    )


def augment(schema: Schema) -> Schema:
    """``schema`` plus the audit fields and platform objects a real org always has."""
    names = set(schema.objects) | {"User"} | _FILE_OBJECTS | _APPROVAL_OBJECTS
    linkable = tuple(sorted(n for n in names if n not in _FILE_OBJECTS | _APPROVAL_OBJECTS))
    platform = {
        "User": _user() + [],
        "ContentVersion": [*_content_version(linkable), _owner()],
        "ContentDocument": [*_content_document(), _owner()],
        "ContentDocumentLink": _content_document_link(linkable),
        "ProcessInstance": _process_instance(linkable),
        "ProcessInstanceWorkitem": _process_instance_workitem(),
    }
    objects: dict[str, ObjectDef] = {}
    for name, obj in schema.objects.items():
        extra = list(audit_fields(obj.label)) + platform.pop(name, [])
        objects[name] = _merge(obj, name, extra)
    for name, extra in platform.items():
        if schema.object(name) is None:
            label = _LABELS[name][0]
            objects[name] = _merge(None, name, [*audit_fields(label), *extra])
    return Schema(objects=objects, permission_sets=schema.permission_sets)
