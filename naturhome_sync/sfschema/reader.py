"""Read an SFDX project (``salesforce/``) into the typed schema model.

The same folder is deployed to real orgs and read here, so the emulator, the mapping checks
and ``doctor`` can never drift from what is deployed. The reader is strict: anything it
cannot turn into a faithful model stops with a ``ConfigurationError`` naming the file and
the element, because a silently half-read schema would let the emulator accept writes a
real org refuses. Deploy rules that do not affect the model (label lengths, a missing
checkbox default...) are the linter's job (``lint.py``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from naturhome_sync.errors import ConfigurationError
from naturhome_sync.sfschema import metadata_xml as mx
from naturhome_sync.sfschema.model import (
    FieldDef,
    ObjectDef,
    PermissionSetDef,
    PicklistValue,
    Schema,
)
from naturhome_sync.sfschema.standard import system_fields

#: Field types the reader understands (Metadata API ``<type>`` values).
FIELD_TYPES = frozenset(
    {
        "Text", "TextArea", "LongTextArea", "Html", "Email", "Phone", "Url",
        "Number", "Currency", "Percent", "Checkbox", "Date", "DateTime", "Time",
        "Picklist", "MultiselectPicklist", "Lookup", "MasterDetail", "AutoNumber", "Summary",
    }
)  # fmt: skip

#: Lengths the platform fixes for types whose files carry none (as describe reports them).
_FIXED_LENGTHS = {
    "TextArea": 255,
    "Email": 80,
    "Phone": 40,
    "Url": 255,
    "Picklist": 255,
    "MultiselectPicklist": 4099,
    "AutoNumber": 30,
}
_FORMULA_TEXT_LENGTH = 1300
_PERMISSION_FLAGS = {
    "allowCreate": "create",
    "allowRead": "read",
    "allowEdit": "edit",
    "allowDelete": "delete",
    "viewAllRecords": "viewAll",
    "modifyAllRecords": "modifyAll",
}


def _root(path: Path, expected: str) -> mx.Element:
    _, root = mx.parse_file(path)
    if not mx.in_metadata_namespace(root) or mx.local_name(root.tag) != expected:
        raise ConfigurationError(
            f'root element must be <{expected} xmlns="{mx.METADATA_NS}">',
            source=str(path),
            key=mx.local_name(root.tag),
        )
    return mx.Element(path, root)


def _picklist_values(doc: mx.Element, multi: bool) -> tuple[tuple[PicklistValue, ...], bool]:
    value_set = doc.sub("valueSet")
    if value_set is None:
        raise doc.error("valueSet", "a picklist needs a valueSet")
    if value_set.text("valueSetName") is not None:
        raise doc.error("valueSetName", "global value sets are not supported by the schema reader")
    definition = value_set.sub("valueSetDefinition")
    if definition is None:
        raise doc.error("valueSetDefinition", "a picklist needs its values")
    values: list[PicklistValue] = []
    for raw in mx.children(definition.element, "value"):
        values.append(_picklist_value(mx.Element(doc.path, raw)))
    if not values:
        raise doc.error("valueSetDefinition", "a picklist needs at least one value")
    if not multi and sum(v.default for v in values) > 1:
        raise doc.error("default", "a picklist can have only one default value")
    return tuple(values), value_set.boolean("restricted")


def _field_attrs(doc: mx.Element, type_: str, name: str) -> dict[str, Any]:
    """Type-specific attributes of a field, checked for what the model needs."""
    attrs: dict[str, Any] = {"length": _FIXED_LENGTHS.get(type_)}
    if type_ == "Text":
        attrs["length"] = doc.required_integer("length")
    elif type_ in ("LongTextArea", "Html"):
        attrs["length"] = doc.required_integer("length")
        attrs["visible_lines"] = doc.required_integer("visibleLines")
    elif type_ in ("Number", "Currency", "Percent"):
        attrs["precision"] = doc.required_integer("precision")
        attrs["scale"] = doc.required_integer("scale")
    elif type_ == "Checkbox":
        attrs["default_value"] = "true" if doc.boolean("defaultValue") else "false"
        attrs["defaulted_on_create"] = True
    elif type_ in ("Picklist", "MultiselectPicklist"):
        values, restricted = _picklist_values(doc, type_ == "MultiselectPicklist")
        attrs.update(picklist_values=values, restricted=restricted)
        attrs["default_value"] = next((v.value for v in values if v.default), None)
        attrs["defaulted_on_create"] = attrs["default_value"] is not None
        attrs["visible_lines"] = doc.integer("visibleLines")
    elif type_ in ("Lookup", "MasterDetail"):
        target = doc.required_text("referenceTo")
        child = doc.text("relationshipName")
        attrs.update(
            length=18,
            reference_to=(target,),
            relationship_name=name[:-3] + "__r" if name.endswith("__c") else name,
            child_relationship_name=f"{child}__r" if child else None,
            relationship_label=doc.text("relationshipLabel"),
            delete_constraint=doc.text("deleteConstraint"),
        )
        if type_ == "MasterDetail":
            reparentable = doc.boolean("reparentableMasterDetail")
            attrs.update(
                required=True,
                relationship_order=doc.integer("relationshipOrder") or 0,
                reparentable=reparentable,
                updateable=reparentable,
            )
    elif type_ == "AutoNumber":
        attrs.update(
            display_format=doc.required_text("displayFormat"),
            createable=False,
            updateable=False,
            defaulted_on_create=True,
            never_null=True,
        )
    if type_ not in ("Checkbox", "Picklist", "MultiselectPicklist") and doc.text("defaultValue"):
        attrs["default_value"] = doc.text("defaultValue")
        attrs["defaulted_on_create"] = True
    return attrs


def read_field(path: Path) -> FieldDef:
    """One ``.field-meta.xml`` file as a FieldDef (Summary types resolved by the caller)."""
    doc = _root(path, "CustomField")
    name = doc.required_text("fullName")
    expected = mx.component_name(path, mx.FIELD_SUFFIX)
    if name != expected:
        raise doc.error("fullName", f"{name!r} does not match the file name {expected!r}")
    type_ = doc.required_text("type")
    if type_ not in FIELD_TYPES:
        raise doc.error("type", f"unsupported field type {type_!r}")
    formula = doc.text("formula")
    attrs = _field_attrs(doc, type_, name) if formula is None or type_ != "Text" else {}
    if formula is not None:
        if type_ == "Text":
            attrs["length"] = _FORMULA_TEXT_LENGTH
        attrs.update(formula=formula, calculated=True, createable=False, updateable=False)
        attrs.pop("default_value", None)
        attrs["defaulted_on_create"] = False
    if type_ == "Summary":
        attrs.update(calculated=True, createable=False, updateable=False)
        attrs["formula"] = "{} {}".format(
            doc.required_text("summaryOperation"), doc.text("summarizedField") or ""
        ).strip()
    attrs.setdefault("required", doc.boolean("required"))
    external_id = doc.boolean("externalId")
    unique = doc.boolean("unique")
    return FieldDef(
        name=name,
        label=doc.required_text("label"),
        type=type_,
        external_id=external_id,
        unique=unique,
        case_sensitive=doc.boolean("caseSensitive"),
        id_lookup=external_id or unique,
        custom=True,
        description=doc.text("description"),
        help_text=doc.text("inlineHelpText"),
        **attrs,
    )


def _resolve_summary(
    field: FieldDef, path: Path, fields_by_object: dict[str, dict[str, FieldDef]]
) -> FieldDef:
    """A roll-up takes the type of what it sums (count: a whole number)."""
    operation, _, summarized = (field.formula or "").partition(" ")
    if operation == "count" or not summarized:
        return replace(field, type="Number", precision=18, scale=0)
    obj_name, _, field_name = summarized.partition(".")
    source = fields_by_object.get(obj_name, {}).get(field_name)
    if source is None:
        raise ConfigurationError(
            f"{summarized!r} is not a field of the project",
            source=str(path),
            key="summarizedField",
        )
    return replace(field, type=source.type, precision=source.precision, scale=source.scale)


def _name_field(doc: mx.Element, path: Path) -> FieldDef:
    name_doc = doc.sub("nameField")
    if name_doc is None:
        raise doc.error("nameField", "a custom object needs a nameField")
    label = name_doc.required_text("label")
    kind = name_doc.required_text("type")
    if kind == "Text":
        return FieldDef(
            name="Name", label=label, type="Text", length=80, required=True,
            name_field=True, id_lookup=True,
        )  # fmt: skip
    if kind == "AutoNumber":
        return FieldDef(
            name="Name", label=label, type="AutoNumber", length=30, name_field=True,
            id_lookup=True, createable=False, updateable=False, defaulted_on_create=True,
            never_null=True, display_format=name_doc.required_text("displayFormat"),
        )  # fmt: skip
    raise ConfigurationError(
        f"name field type must be Text or AutoNumber, not {kind!r}",
        source=str(path),
        key="nameField",
    )


def _read_object(path: Path, fields: dict[str, FieldDef]) -> ObjectDef:
    doc = _root(path, "CustomObject")
    name = mx.component_name(path, mx.OBJECT_SUFFIX)
    if path.parent.name != name:
        raise doc.error("", f"object file must sit in a folder named {name!r}")
    sharing = doc.text("sharingModel")
    activities = doc.boolean("enableActivities")
    name_field = _name_field(doc, path)
    all_fields = system_fields(owner=sharing != "ControlledByParent", activities=activities)
    ordered = {"Id": all_fields.pop("Id")}
    if "OwnerId" in all_fields:
        ordered["OwnerId"] = all_fields.pop("OwnerId")
    ordered.update(IsDeleted=all_fields.pop("IsDeleted"), Name=name_field)
    ordered.update(all_fields)
    ordered.update(fields)
    return ObjectDef(
        name=name,
        label=doc.required_text("label"),
        plural_label=doc.required_text("pluralLabel"),
        custom=True,
        fields=MappingProxyType(ordered),
        sharing_model=sharing,
        enable_activities=activities,
        name_field_type=name_field.type,
        name_display_format=name_field.display_format,
        description=doc.text("description"),
    )


def _read_value_set(path: Path) -> tuple[PicklistValue, ...]:
    doc = _root(path, "StandardValueSet")
    values: list[PicklistValue] = []
    for raw in mx.children(doc.element, "standardValue"):
        entry = mx.Element(path, raw)
        values.append(
            _picklist_value(
                entry,
                closed=entry.boolean("closed"),
                won=entry.boolean("won"),
                probability=entry.integer("probability"),
            )
        )
    if not values:
        raise doc.error("standardValue", "a standard value set needs at least one value")
    return tuple(values)


def _picklist_value(entry: mx.Element, **extra: Any) -> PicklistValue:
    """One ``<value>`` of a field's value set or ``<standardValue>`` of a standard set."""
    name = entry.required_text("fullName")
    return PicklistValue(
        value=name,
        label=entry.text("label") or name,
        default=entry.boolean("default"),
        active=entry.boolean("isActive", default=True),
        **extra,
    )


def _read_permission_set(path: Path) -> PermissionSetDef:
    doc = _root(path, "PermissionSet")
    objects: dict[str, frozenset[str]] = {}
    for raw in mx.children(doc.element, "objectPermissions"):
        entry = mx.Element(path, raw)
        flags = frozenset(v for k, v in _PERMISSION_FLAGS.items() if entry.boolean(k))
        objects[entry.required_text("object")] = flags
    fields: dict[str, tuple[bool, bool]] = {}
    for raw in mx.children(doc.element, "fieldPermissions"):
        entry = mx.Element(path, raw)
        fields[entry.required_text("field")] = (
            entry.boolean("readable"),
            entry.boolean("editable"),
        )
    name = mx.component_name(path, mx.PERMISSION_SET_SUFFIX)
    return PermissionSetDef(
        name=name,
        label=doc.text("label") or name,
        object_permissions=MappingProxyType(objects),
        field_permissions=MappingProxyType(fields),
    )


def load_sfdx_project(project_dir: Path) -> Schema:
    """The project's own objects, fields, value sets and permission sets.

    Standard objects appear with only the custom fields the project adds to them
    (``custom=False``, no system fields); ``load_schema`` merges them onto the built-in
    standard base and applies the standard value sets.
    """
    files = mx.find_project_files(Path(project_dir))
    fields_by_object: dict[str, dict[str, FieldDef]] = {}
    summaries: list[tuple[str, Path]] = []
    for path in files.field_files:
        if path.parent.name != "fields":
            raise ConfigurationError(
                "field files must sit in objects/<Object>/fields/", source=str(path)
            )
        field = read_field(path)
        object_name = mx.field_object_name(path)
        fields_by_object.setdefault(object_name, {})[field.name] = field
        if field.type == "Summary":
            summaries.append((object_name, path))
    for object_name, path in summaries:
        fields = fields_by_object[object_name]
        name = mx.component_name(path, mx.FIELD_SUFFIX)
        fields[name] = _resolve_summary(fields[name], path, fields_by_object)

    objects: dict[str, ObjectDef] = {}
    for path in files.object_files:
        obj = _read_object(path, fields_by_object.pop(path.parent.name, {}))
        if obj.name in objects:
            raise ConfigurationError("object defined twice", source=str(path), key=obj.name)
        objects[obj.name] = obj
    for name, fields in fields_by_object.items():
        if name.endswith("__c"):
            raise ConfigurationError(
                f"custom object {name} has fields but no {name}{mx.OBJECT_SUFFIX}",
                source=str(files.project_dir),
                key=name,
            )
        objects[name] = ObjectDef(
            name=name, label=name, plural_label=name, custom=False,
            fields=MappingProxyType(dict(fields)),
        )  # fmt: skip

    value_sets = {
        mx.component_name(p, mx.VALUE_SET_SUFFIX): _read_value_set(p) for p in files.value_set_files
    }
    permission_sets = {}
    for path in files.permission_set_files:
        permission_set = _read_permission_set(path)
        permission_sets[permission_set.name] = permission_set
    return Schema(
        objects=MappingProxyType(objects),
        permission_sets=MappingProxyType(permission_sets),
        standard_value_sets=MappingProxyType(value_sets),
        api_version=files.api_version,
    )
