"""The whole schema: the built-in standard objects with the SFDX project merged on top.

This is what the emulator validates against, what mapping checks consult and what
``doctor`` compares with a real org. Reading it costs a few tens of milliseconds, but the
emulator and the checks ask for it constantly, so it is cached per folder.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from naturhome_sync.errors import ConfigurationError
from naturhome_sync.paths import shipped_dir
from naturhome_sync.sfschema.model import FieldDef, ObjectDef, PicklistValue, Schema
from naturhome_sync.sfschema.reader import load_sfdx_project
from naturhome_sync.sfschema.standard import STANDARD_VALUE_SET_FIELDS, standard_objects

#: Polymorphic standard references that reach custom objects too: (object, field, which).
#: "activities" = custom objects with enableActivities, "all" = every custom object.
_POLYMORPHIC = (
    ("Task", "WhatId", "activities"),
    ("ContentDocumentLink", "LinkedEntityId", "all"),
    ("ContentVersion", "FirstPublishLocationId", "all"),
)


def _with_fields(obj: ObjectDef, fields: dict[str, FieldDef]) -> ObjectDef:
    return replace(obj, fields=MappingProxyType(fields))


def _apply_value_set(field: FieldDef, values: tuple[PicklistValue, ...]) -> FieldDef:
    default = next((v.value for v in values if v.default), None)
    if default is None and field.default_value in {v.value for v in values}:
        default = field.default_value
    return replace(field, picklist_values=values, default_value=default)


def _widen(field: FieldDef, targets: Iterable[str]) -> FieldDef:
    extra = [t for t in targets if t not in field.reference_to]
    return replace(field, reference_to=(*field.reference_to, *extra)) if extra else field


def merge_project(base: dict[str, ObjectDef], project: Schema) -> Schema:
    """``project`` on top of ``base``: project fields win, value sets are applied.

    Raises ``ConfigurationError`` when the project adds fields to a standard object the
    base does not know, since the result would lack its Id and standard fields.
    """
    objects = dict(base)
    by_lower = {name.lower(): name for name in objects}
    for obj in project.objects.values():
        if obj.custom:
            objects[obj.name] = obj
            continue
        base_name = by_lower.get(obj.name.lower())
        if base_name is None:
            raise ConfigurationError(
                f"fields are added to the standard object {obj.name}, which the built-in "
                "base (naturhome_sync/sfschema/standard.py) does not define",
                key=obj.name,
            )
        merged = dict(objects[base_name].fields)
        merged.update(obj.fields)
        objects[base_name] = _with_fields(objects[base_name], merged)

    for set_name, values in project.standard_value_sets.items():
        for target in STANDARD_VALUE_SET_FIELDS.get(set_name, ()):
            object_name, field_name = target.split(".")
            if object_name in objects and field_name in objects[object_name].fields:
                fields = dict(objects[object_name].fields)
                fields[field_name] = _apply_value_set(fields[field_name], values)
                objects[object_name] = _with_fields(objects[object_name], fields)

    customs = sorted(name for name, obj in objects.items() if obj.custom)
    with_activities = [name for name in customs if objects[name].enable_activities]
    for object_name, field_name, which in _POLYMORPHIC:
        if object_name in objects and field_name in objects[object_name].fields:
            fields = dict(objects[object_name].fields)
            targets = with_activities if which == "activities" else customs
            fields[field_name] = _widen(fields[field_name], targets)
            objects[object_name] = _with_fields(objects[object_name], fields)

    return Schema(
        objects=MappingProxyType(objects),
        permission_sets=project.permission_sets,
        standard_value_sets=project.standard_value_sets,
        api_version=project.api_version,
    )


@functools.lru_cache(maxsize=16)
def _load_cached(resolved_dir: str) -> Schema:
    return merge_project(standard_objects(), load_sfdx_project(Path(resolved_dir)))


def load_schema(salesforce_dir: Path | None = None) -> Schema:
    """Standard objects plus the SFDX project at ``salesforce_dir`` (default: the shipped one).

    The result is cached per resolved folder and shared between callers, so treat it as
    read-only (its mappings are read-only views). Call ``clear_schema_cache()`` after
    editing the files of a folder already loaded.
    """
    folder = Path(salesforce_dir) if salesforce_dir is not None else shipped_dir("salesforce")
    return _load_cached(str(folder.resolve()))


def clear_schema_cache() -> None:
    """Forget every schema loaded so far (tests that rewrite a project folder need this)."""
    _load_cached.cache_clear()
