"""REST describe JSON generated from the schema model.

Two consumers need exactly the shape a real org answers (notes §2.12): the emulator serves
it on ``/sobjects`` and ``/sobjects/<Obj>/describe``, and ``doctor`` diffs a real org's
describe with ours. Keeping the generator here, next to the model, means both compare the
same thing. Values an org computes from things outside this model (layouts, record types
beyond Master, user permissions) are given their plain-org defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from naturhome_sync.sfschema.model import FieldDef, ObjectDef, Schema

_SOAP_TYPES: Mapping[str, str] = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
    "base64": "xsd:base64Binary",
}
_STRING_TYPES = frozenset(
    {"id", "reference", "string", "email", "phone", "url", "textarea", "picklist",
     "multipicklist", "combobox"}
)  # fmt: skip
_NUMBER_TYPES = frozenset({"double", "currency", "percent"})
_LONG_TEXT = frozenset({"LongTextArea", "Html"})
#: A record type id every org reports for objects without record types.
MASTER_RECORD_TYPE_ID = "012000000000000AAA"
#: Objects whose records can be merged in the UI/API.
_MERGEABLE = frozenset({"Account", "Contact", "Lead", "Case"})


def _version(api_version: str) -> str:
    return api_version.removeprefix("v")


def _filterable(field: FieldDef) -> bool:
    return field.type not in _LONG_TEXT and field.describe_type != "base64"


def _sortable(field: FieldDef) -> bool:
    return _filterable(field) and field.describe_type not in ("multipicklist", "textarea")


def _groupable(field: FieldDef) -> bool:
    return _sortable(field) and field.describe_type not in (*_NUMBER_TYPES, "datetime", "time")


def _extra_type_info(field: FieldDef) -> str | None:
    if field.type == "Html":
        return "richtextarea"
    if field.describe_type == "textarea":
        return "plaintextarea"
    return None


def _default_value(field: FieldDef) -> tuple[Any, str | None]:
    """(defaultValue, defaultValueFormula) as describe reports them."""
    if field.type == "Checkbox":
        return field.default_value == "true", None
    if field.picklist_values or field.default_value is None:
        return None, None
    return None, field.default_value


def describe_field(field: FieldDef) -> dict[str, Any]:
    """One entry of a describe's ``fields`` list."""
    kind = field.describe_type
    is_string = kind in _STRING_TYPES
    length = field.max_length or (18 if kind in ("id", "reference") else 0)
    length = length if is_string else 0
    is_int = kind == "int"
    numeric = kind in _NUMBER_TYPES
    default_value, default_formula = _default_value(field)
    polymorphic = len(field.reference_to) > 1
    return {
        "aggregatable": kind not in ("boolean", "multipicklist", "textarea", "base64"),
        "aiPredictionField": False,
        "autoNumber": field.type == "AutoNumber",
        "byteLength": length * 3 if kind not in ("id", "reference") else length,
        "calculated": field.calculated,
        "calculatedFormula": field.formula if field.calculated else None,
        "cascadeDelete": field.is_master_detail,
        "caseSensitive": field.case_sensitive,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": field.createable,
        "custom": field.custom,
        "defaultValue": default_value,
        "defaultValueFormula": default_formula,
        "defaultedOnCreate": field.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": (field.precision or 9) if is_int else 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": field.external_id,
        "extraTypeInfo": _extra_type_info(field),
        "filterable": _filterable(field),
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": _groupable(field),
        "highScaleNumber": False,
        "htmlFormatted": field.type == "Html",
        "idLookup": field.id_lookup or field.name == "Id",
        "inlineHelpText": field.help_text,
        "label": field.label,
        "length": length,
        "mask": None,
        "maskType": None,
        "name": field.name,
        "nameField": field.name_field,
        "namePointing": polymorphic,
        "nillable": field.nillable,
        "permissionable": field.custom and field.nillable and not field.is_master_detail,
        "picklistValues": [
            {
                "active": v.active,
                "defaultValue": v.default,
                "label": v.label,
                "validFor": None,
                "value": v.value,
            }
            for v in field.picklist_values
        ],
        "polymorphicForeignKey": polymorphic,
        "precision": (field.precision or 0) if numeric else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship_name,
        "relationshipOrder": field.relationship_order if field.is_master_detail else None,
        "restrictedDelete": field.delete_constraint == "Restrict",
        "restrictedPicklist": field.restricted,
        "scale": (field.scale or 0) if numeric else 0,
        "searchPrefilterable": False,
        "soapType": _SOAP_TYPES.get(kind, "xsd:string"),
        "sortable": _sortable(field),
        "type": kind,
        "unique": field.unique,
        "updateable": field.updateable,
        "writeRequiresMasterRead": False,
    }


def _urls(name: str, api_version: str) -> dict[str, str]:
    base = f"/services/data/v{_version(api_version)}/sobjects/{name}"
    return {
        "rowTemplate": f"{base}/{{ID}}",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "describe": f"{base}/describe",
        "sobject": base,
    }


def describe_global_entry(
    obj: ObjectDef, api_version: str, key_prefix: str | None = None
) -> dict[str, Any]:
    """The entry for ``obj`` in ``GET /sobjects`` (also ``objectDescribe`` of ``GET /sobjects/X``).

    ``key_prefix`` overrides ``obj.key_prefix``: custom objects get theirs from the emulator.
    """
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": key_prefix or obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.plural_label,
        "layoutable": True,
        "mergeable": obj.name in _MERGEABLE,
        "mruEnabled": True,
        "name": obj.name,
        "queryable": obj.queryable,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": obj.deletable,
        "updateable": obj.updateable,
        "urls": _urls(obj.name, api_version),
    }


def describe_object(
    obj: ObjectDef, schema: Schema, api_version: str, key_prefix: str | None = None
) -> dict[str, Any]:
    """``GET /sobjects/<obj>/describe``: object properties, fields, child relationships."""
    version = _version(api_version)
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    result = describe_global_entry(obj, api_version, key_prefix)
    result["urls"] = {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "listviews": f"{base}/listviews",
        "describe": f"{base}/describe",
        "quickActions": f"{base}/quickActions",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }
    result.update(
        actionOverrides=[],
        childRelationships=[
            {
                "cascadeDelete": rel.cascade_delete,
                "childSObject": rel.child_object,
                "deprecatedAndHidden": False,
                "field": rel.field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": rel.relationship_name,
                "restrictedDelete": _restricted_delete(schema, rel.child_object, rel.field),
            }
            for rel in schema.child_relationships(obj.name)
        ],
        compactLayoutable=True,
        defaultImplementation=None,
        fields=[describe_field(f) for f in obj.fields.values()],
        implementedBy=None,
        implementsInterfaces=None,
        listviewable=None,
        lookupLayoutable=None,
        namedLayoutInfos=[],
        networkScopeFieldName=None,
        recordTypeInfos=[
            {
                "active": True,
                "available": True,
                "defaultRecordTypeMapping": True,
                "developerName": "Master",
                "master": True,
                "name": "Master",
                "recordTypeId": MASTER_RECORD_TYPE_ID,
                "urls": {"layout": f"{base}/describe/layouts/{MASTER_RECORD_TYPE_ID}"},
            }
        ],
        searchLayoutable=True,
        sobjectDescribeOption="FULL",
        supportedScopes=[{"label": f"All {obj.plural_label}", "name": "everything"}],
    )
    return dict(sorted(result.items()))


def _restricted_delete(schema: Schema, child_object: str, field_name: str) -> bool:
    field = schema.field(child_object, field_name)
    return field is not None and field.delete_constraint == "Restrict"


def describe_global(
    schema: Schema,
    api_version: str | None = None,
    key_prefixes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``GET /sobjects``: every object, sorted by name as an org lists them.

    ``api_version`` defaults to the project's ``sourceApiVersion`` (59.0 if unknown);
    ``key_prefixes`` supplies the prefixes the emulator assigned to custom objects.
    """
    version = api_version or schema.api_version or "59.0"
    prefixes = key_prefixes or {}
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [
            describe_global_entry(obj, version, prefixes.get(obj.name))
            for obj in sorted(schema.objects.values(), key=lambda o: o.name.lower())
        ],
    }
