"""The first stages of a write: deserialize the body, refuse read-only fields, check
each value (lengths, picklists, numbers, lookups) and resolve nested external-id
references, stopping at the first stage that fails as an org does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naturhome_sync.sfschema import FieldDef, ObjectDef
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.references import check_reference, resolve_nested
from sandbox.salesforce.values import deserialize, validate

if TYPE_CHECKING:
    from sandbox.salesforce.dml import Engine, WriteContext


def parse_body(
    engine: Engine, obj: ObjectDef, body: dict[str, Any], ctx: WriteContext, *, creating: bool
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    read_only: list[str] = []
    nested: list[tuple[FieldDef, Any]] = []
    for key, raw in body.items():
        if key == "attributes":
            continue
        f = obj.field(key)
        if f is None:
            lookup = engine.schema.parent_field(obj, key)
            if lookup is not None and isinstance(raw, dict):
                nested.append((lookup, raw))
                continue
            raise SfError(
                "INVALID_FIELD",
                f"No such column '{key}' on sobject of type {obj.name}",
                fields=[],
            )
        if f.name == "Id":
            values["Id"] = raw
            continue
        values[f.name] = deserialize(f, raw)
        writable = f.createable if creating else f.updateable
        if not writable and not ctx.system:
            read_only.append(f.name)
    if read_only:
        raise SfError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(read_only)}. Please check the "
            "security settings of this field and verify that it is read/write for your "
            "profile or permission set.",
            fields=read_only,
        )
    for name, value in list(values.items()):
        f = obj.field(name)
        if f is None or name == "Id" or value is None:
            continue
        if f.is_reference or f.type == "Lookup":
            values[name] = check_reference(engine.schema, engine.store, engine.behaviour, f, value)
        elif not isinstance(value, bytes):
            values[name] = validate(f, value)
    for lookup, raw in nested:
        values[lookup.name] = resolve_nested(
            engine.schema, engine.store, engine.behaviour, lookup, raw
        )
    return values
