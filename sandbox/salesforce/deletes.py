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
#: master-detail: files and links go with their document, links, activities and approval
#: history go with their record.
PLATFORM_CASCADES = frozenset(
    {
        ("ContentVersion", "ContentDocumentId"),
        ("ContentDocumentLink", "ContentDocumentId"),
        ("ContentDocumentLink", "LinkedEntityId"),
        ("Task", "WhatId"),
        ("Task", "WhoId"),
        ("ProcessInstance", "TargetObjectId"),
        ("ProcessInstanceWorkitem", "ProcessInstanceId"),
    }
)


def delete_tree(
    engine: Engine, obj: ObjectDef, record_id: str, data: Record, ctx: WriteContext
) -> None:
    """Recycle ``record_id``, its master-detail children (recursively) and its file links;
    clear lookups pointing at it, refuse when a Restrict lookup still points at it."""
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
        elif (child_field.delete_constraint or "SetNull") == "Restrict":
            raise SfError(
                "DELETE_FAILED",
                f"Your attempt to delete {data.get('Name') or record_id} could not be "
                f"completed because it is associated with the following "
                f"{child_obj.plural_label}.: {len(children)}",
                fields=[],
            )
        elif not child_field.required and child_field.createable:
            for child_id in children:
                found = engine.store.get(child_id)
                if found and found[2].get(child_field.name) == record_id:
                    engine.write_fields(
                        child_obj, child_id, found[2], {child_field.name: None}, ctx
                    )
    stamp = format_datetime(engine.clock.now())
    data = dict(data, IsDeleted=True, SystemModstamp=stamp)
    engine.store.mark_deleted(record_id, data, stamp)
