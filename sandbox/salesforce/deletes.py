"""Deleting a record the way an org does: the recycle bin, cascades, cleared lookups.

Master-detail children follow their parent into the recycle bin (recursively), and so do
the records the platform owns with it (file links, activities, approval history); lookups
with the SetNull constraint are cleared; a Restrict lookup still pointing at the record
refuses the delete with DELETE_FAILED.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from naturhome_sync.sfschema import ObjectDef
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.store import Record
from sandbox.salesforce.values import format_datetime

if TYPE_CHECKING:
    from sandbox.salesforce.dml import Engine, WriteContext

#: Lookups whose children the platform deletes with the parent although they are not
#: master-detail: an account takes its contacts and opportunities, a document its versions
#: and links, a record its links, activities and approval history.
PLATFORM_CASCADES = frozenset(
    {
        ("Contact", "AccountId"),
        ("Opportunity", "AccountId"),
        ("ContentVersion", "ContentDocumentId"),
        ("ContentDocumentLink", "ContentDocumentId"),
        ("ContentDocumentLink", "LinkedEntityId"),
        ("Task", "WhatId"),
        ("Task", "WhoId"),
        ("ProcessInstance", "TargetObjectId"),
        ("ProcessInstanceWorkitem", "ProcessInstanceId"),
    }
)
#: Standard lookups that protect their parent: an account with cases cannot be deleted.
PLATFORM_RESTRICTS = frozenset({("Case", "AccountId")})


def delete_tree(
    engine: Engine, obj: ObjectDef, record_id: str, data: Record, ctx: WriteContext
) -> None:
    """Recycle ``record_id`` and what goes with it (recursively); clear the SetNull lookups
    pointing at it; refuse when a Restrict (or required) lookup still points at it."""
    for rel in engine.schema.child_relationships(obj):
        child_obj = engine.schema.object(rel.child_object)
        child_field = child_obj.field(rel.field) if child_obj else None
        if child_obj is None or child_field is None:
            continue
        children = engine.store.children(child_obj.name, child_field.name, [record_id])
        if not children:
            continue
        if rel.cascade_delete or (child_obj.name, child_field.name) in PLATFORM_CASCADES:
            for child_id in children:
                found = engine.store.get(child_id)
                if found and not found[1]:
                    delete_tree(engine, child_obj, child_id, found[2], ctx)
        elif (
            (child_field.delete_constraint or "SetNull") == "Restrict"
            or child_field.required
            or (child_obj.name, child_field.name) in PLATFORM_RESTRICTS
        ):
            raise SfError(
                "DELETE_FAILED",
                f"Your attempt to delete {data.get('Name') or record_id} could not be "
                f"completed because it is associated with the following "
                f"{child_obj.plural_label}.: {len(children)}",
                fields=[],
            )
        elif child_field.updateable:
            for child_id in children:
                found = engine.store.get(child_id)
                if found and found[2].get(child_field.name) == record_id:
                    engine.write_fields(
                        child_obj, child_id, found[2], {child_field.name: None}, ctx
                    )
    stamp = format_datetime(engine.clock.now())
    data = dict(data, IsDeleted=True, SystemModstamp=stamp)
    engine.store.mark_deleted(record_id, data, stamp)
