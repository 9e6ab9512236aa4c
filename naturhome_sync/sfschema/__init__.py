"""The Salesforce schema contract (``salesforce/``) as typed objects."""

from naturhome_sync.sfschema.model import (
    ChildRelationship,
    FieldDef,
    ObjectDef,
    PermissionSetDef,
    PicklistValue,
    Schema,
)

__all__ = [
    "ChildRelationship",
    "FieldDef",
    "ObjectDef",
    "PermissionSetDef",
    "PicklistValue",
    "Schema",
]
