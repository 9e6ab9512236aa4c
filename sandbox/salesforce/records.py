"""Records as the API shows them: ``attributes`` first, canonical field names, explicit nulls."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from naturhome_sync.sfschema import FieldDef, ObjectDef
from sandbox.salesforce.errors import SfError

Record = dict[str, Any]


def record_url(version: str, sobject: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{sobject}/{record_id}"


def attributes(version: str, sobject: str, record_id: str | None) -> dict[str, str]:
    attrs = {"type": sobject}
    if record_id:
        attrs["url"] = record_url(version, sobject, record_id)
    return attrs


def field_value(obj: ObjectDef, f: FieldDef, record_id: str, data: Record, version: str) -> Any:
    """The API value of one stored field (blob fields answer the URL to download them)."""
    if f.name == "Id":
        return record_id
    if f.type == "Base64":
        return f"{record_url(version, obj.name, record_id)}/{f.name}" if data.get(f.name) else None
    return data.get(f.name)


def resolve_fields(obj: ObjectDef, names: Iterable[str]) -> list[FieldDef]:
    """Fields named in a ``fields=`` parameter; an unknown one is INVALID_FIELD."""
    found: list[FieldDef] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        f = obj.field(name)
        if f is None:
            raise SfError(
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{obj.name}'. If you are attempting to "
                "use a custom field, be sure to append the '__c' after the custom field name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
            )
        found.append(f)
    return found


def to_json(
    obj: ObjectDef,
    record_id: str,
    data: Record,
    version: str,
    fields: list[FieldDef] | None = None,
) -> Record:
    """The record as ``GET /sobjects/Obj/{id}`` answers it."""
    out: Record = {"attributes": attributes(version, obj.name, record_id)}
    for f in fields if fields is not None else obj.fields.values():
        out[f.name] = field_value(obj, f, record_id, data, version)
    return out
