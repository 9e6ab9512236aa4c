"""The Salesforce schema contract (``salesforce/``) as typed objects.

``load_schema()`` is the usual entry point: the standard objects the service uses, with
the SFDX project's custom objects, fields, standard value sets and permission sets on top.
"""

from naturhome_sync.sfschema.loader import clear_schema_cache, load_schema, merge_project
from naturhome_sync.sfschema.model import (
    ChildRelationship,
    FieldDef,
    ObjectDef,
    PermissionSetDef,
    PicklistValue,
    Schema,
)
from naturhome_sync.sfschema.reader import load_sfdx_project
from naturhome_sync.sfschema.standard import standard_objects

__all__ = [
    "ChildRelationship",
    "FieldDef",
    "ObjectDef",
    "PermissionSetDef",
    "PicklistValue",
    "Schema",
    "clear_schema_cache",
    "load_schema",
    "load_sfdx_project",
    "merge_project",
    "standard_objects",
]
