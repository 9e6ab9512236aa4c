"""Create, update, upsert and delete with an org's validation, in an org's order.

An org checks a write in stages and stops at the first stage that fails: the body is
deserialized (unknown fields -> INVALID_FIELD, wrong JSON types -> JSON_PARSER_ERROR),
read-only fields are refused together (INVALID_FIELD_FOR_INSERT_UPDATE), values are checked
one by one (lengths, picklists, numbers, lookups), then required fields together
(REQUIRED_FIELD_MISSING), then unique values (DUPLICATE_VALUE). The engine follows that
order so the error a test sees is the one production would see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from naturhome_sync.sfschema import FieldDef, ObjectDef
from sandbox.salesforce import derived, files
from sandbox.salesforce.body import parse_body
from sandbox.salesforce.clock import Clock
from sandbox.salesforce.config import Behaviour
from sandbox.salesforce.deletes import delete_tree
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.ids import normalize_id
from sandbox.salesforce.orgschema import OrgSchema
from sandbox.salesforce.references import (
    find_by_key,
    lookup_key,
)
from sandbox.salesforce.store import Record, Store
from sandbox.salesforce.values import default_value, format_datetime

_AUDIT = frozenset(
    {
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
    }
)


@dataclass(frozen=True)
class WriteContext:
    """Who writes, through which API version; ``system`` writes (seed data, platform
    actions) may set read-only fields such as CreatedDate."""

    user_id: str
    version: str
    system: bool = False


class MultipleMatches(Exception):
    """An external id matched several records: the API answers 300 with their URLs."""

    def __init__(self, sobject: str, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} {sobject} records match")
        self.sobject = sobject
        self.ids = ids


class Engine:
    def __init__(self, schema: OrgSchema, store: Store, clock: Clock, behaviour: Behaviour):
        self.schema = schema
        self.store = store
        self.clock = clock
        self.behaviour = behaviour

    # -- reads -------------------------------------------------------------------------

    def load(self, obj: ObjectDef, record_id: str) -> Record:
        """The live record ``record_id`` of ``obj`` (the segment was checked as an id)."""
        found = self.store.get(record_id)
        if found is None or found[0] != obj.name:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        if found[1]:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", status=404, fields=[])
        return found[2]

    def find_external(self, obj: ObjectDef, field: FieldDef, value: Any) -> list[str]:
        return find_by_key(self.store, self.behaviour, obj, field, value)

    def external_id_field(self, obj: ObjectDef, name: str) -> FieldDef:
        """The field named after the object in ``/sobjects/Obj/{Field}/{value}``."""
        f = obj.field(name)
        if f is None or not (f.external_id or f.id_lookup or f.name == "Id"):
            raise SfError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {name}",
                status=404,
            )
        return f

    # -- create ------------------------------------------------------------------------

    def create(
        self,
        obj: ObjectDef,
        body: dict[str, Any],
        ctx: WriteContext,
        *,
        record_id: str | None = None,
    ) -> str:
        """Insert one record; ``record_id`` pre-allocated only by the org's own bootstrap."""
        if not obj.createable and not ctx.system:
            raise SfError("INVALID_TYPE", f"entity type cannot be inserted: {obj.label}", fields=[])
        values = parse_body(self, obj, body, ctx, creating=True)
        if values.get("Id") is not None:
            raise SfError("INVALID_FIELD", "cannot specify Id in an insert call", fields=["Id"])
        values.pop("Id", None)
        now = self.clock.now()
        for f in obj.fields.values():
            if f.name not in values and f.name not in _AUDIT:
                default = default_value(f, self.clock.today(), now)
                if default is not None:
                    values[f.name] = default
        if obj.name == "ContentVersion":
            files.prepare_version(self, obj, values, ctx)
        if obj.name == "ContentDocumentLink":
            files.check_new_link(self, values)
        self._check_required(obj, values, None)
        record_id = record_id or self.store.next_id(self.schema.key_prefix(obj))
        stamp = format_datetime(now)
        data: Record = {k: v for k, v in values.items() if not isinstance(v, bytes)}
        for f in obj.fields.values():
            if f.type == "AutoNumber" and data.get(f.name) is None:
                data[f.name] = self._auto_number(obj, f)
        if obj.field("OwnerId") is not None and data.get("OwnerId") is None:
            data["OwnerId"] = ctx.user_id
        data["Id"] = record_id
        for name, value in (
            ("IsDeleted", False),
            ("CreatedDate", stamp),
            ("CreatedById", ctx.user_id),
            ("LastModifiedDate", stamp),
            ("LastModifiedById", ctx.user_id),
            ("SystemModstamp", stamp),
        ):
            if obj.field(name) is not None and not (ctx.system and data.get(name) is not None):
                data[name] = value
        self._compound_name(obj, data)
        derived.apply(self.store, obj, None, data, stamp)
        keys = self._lookup_keys(obj, record_id, data)
        for name, blob in values.items():
            if isinstance(blob, bytes):
                self.store.put_blob(f"{record_id}/{name}", blob)
                data[name] = True
        self.store.insert(obj.name, record_id, data)
        self.store.set_lookup_keys(obj.name, record_id, keys)
        if obj.name == "ContentVersion":
            files.after_version_created(self, record_id, data, ctx)
        return record_id

    # -- update ------------------------------------------------------------------------

    def update(
        self, obj: ObjectDef, record_id: str, body: dict[str, Any], ctx: WriteContext
    ) -> None:
        if not obj.updateable and not ctx.system:
            raise SfError(
                "INSUFFICIENT_ACCESS_OR_READONLY",
                "insufficient access rights on object id",
                fields=[],
            )
        data = self.existing(obj, record_id)
        values = parse_body(self, obj, body, ctx, creating=False)
        given_id = values.pop("Id", None)
        if given_id is not None and normalize_id(str(given_id)) != record_id:
            raise SfError("INVALID_FIELD", "Id in the body does not match the URL", fields=["Id"])
        self.write_fields(obj, record_id, data, values, ctx)

    def write_fields(
        self,
        obj: ObjectDef,
        record_id: str,
        data: Record,
        values: dict[str, Any],
        ctx: WriteContext,
    ) -> None:
        """Apply already-validated ``values`` to a live record and stamp it."""
        merged = dict(data)
        merged.update({k: v for k, v in values.items() if not isinstance(v, bytes)})
        self._check_required(obj, merged, set(values))
        stamp = format_datetime(self.clock.now())
        for name, value in (
            ("LastModifiedDate", stamp),
            ("LastModifiedById", ctx.user_id),
            ("SystemModstamp", stamp),
        ):
            if obj.field(name) is not None and not (ctx.system and name in values):
                merged[name] = value
        self._compound_name(obj, merged)
        derived.apply(self.store, obj, data, merged, stamp)
        keys = self._lookup_keys(obj, record_id, merged)
        self.store.replace(record_id, merged)
        self.store.set_lookup_keys(obj.name, record_id, keys)
        if obj.name == "ContentDocument" and "Title" in values:
            files.document_renamed(self, record_id, merged)

    def existing(self, obj: ObjectDef, record_id: str) -> Record:
        """The live record a PATCH or DELETE targets, with an org's errors otherwise."""
        found = self.store.get(record_id)
        if found is None or found[0] != obj.name:
            other = self.schema.object_of_id(record_id)
            if other is not None and other.name != obj.name:
                raise SfError(
                    "MALFORMED_ID",
                    f"Record ID: id value of incorrect type: {record_id}",
                    fields=["Id"],
                )
            code = self.behaviour.missing_record_error
            message = (
                "The requested resource does not exist"
                if code == "NOT_FOUND"
                else f"invalid cross reference id: {record_id}"
            )
            raise SfError(code, message, status=404, fields=None if code == "NOT_FOUND" else [])
        if found[1]:
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", status=404, fields=[])
        return found[2]

    # -- upsert ------------------------------------------------------------------------

    def upsert(
        self,
        obj: ObjectDef,
        field: FieldDef,
        value: Any,
        body: dict[str, Any],
        ctx: WriteContext,
        *,
        update_only: bool = False,
    ) -> tuple[str, bool]:
        """``(id, created)``; raises :class:`MultipleMatches` for several matches."""
        if field.name == "Id":
            record_id = normalize_id(str(value))
            if record_id is None:
                raise SfError(
                    "MALFORMED_ID", f"Record ID: id value of incorrect type: {value}", fields=["Id"]
                )
            self.update(obj, record_id, body, ctx)
            return record_id, False
        typed = self.external_value(field, value)
        in_body = next((k for k in body if k.lower() == field.name.lower()), None)
        given = body[in_body] if in_body is not None else None
        if given is not None and lookup_key(field, given)[0] != lookup_key(field, typed)[0]:
            raise SfError(
                "INVALID_FIELD",
                f"The value of {field.name} in the body does not match the external id in the URL",
                fields=[field.name],
            )
        matches = self.find_external(obj, field, typed)
        if len(matches) > 1:
            raise MultipleMatches(obj.name, matches)
        if matches:
            self.update(obj, matches[0], {k: v for k, v in body.items() if k != in_body}, ctx)
            return matches[0], False
        if update_only:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        create_body = {k: v for k, v in body.items() if k != in_body}
        create_body[field.name] = typed
        return self.create(obj, create_body, ctx), True

    @staticmethod
    def external_value(field: FieldDef, value: Any) -> Any:
        """An external id from a URL is text; numeric external ids are numbers."""
        if field.type in ("Number", "Int") and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise SfError(
                    "JSON_PARSER_ERROR",
                    f"Cannot deserialize instance of double from VALUE_STRING value {value}",
                    fields=[],
                ) from None
            return int(number) if field.type == "Int" or number.is_integer() else number
        return value

    # -- delete ------------------------------------------------------------------------

    def delete(self, obj: ObjectDef, record_id: str, ctx: WriteContext) -> None:
        if not obj.deletable and not ctx.system:
            raise SfError(
                "INSUFFICIENT_ACCESS_OR_READONLY",
                "insufficient access rights on object id",
                fields=[],
            )
        data = self.existing(obj, record_id)
        delete_tree(self, obj, record_id, data, ctx)

    # -- stages ------------------------------------------------------------------------

    def _check_required(self, obj: ObjectDef, data: Record, touched: set[str] | None) -> None:
        """REQUIRED_FIELD_MISSING listing every empty required field: all of them on create
        (``touched`` None), only the ones the request sets on update."""
        missing = [
            f.name
            for f in obj.fields.values()
            if (f.required or f.is_master_detail)
            and f.createable
            and (touched is None or f.name in touched)
            and data.get(f.name) is None
        ]
        if missing:
            raise SfError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                fields=missing,
            )

    def _lookup_keys(
        self, obj: ObjectDef, record_id: str, data: Record
    ) -> dict[str, tuple[str, str]]:
        """Index keys of ``data``; DUPLICATE_VALUE when a unique value is taken."""
        keys: dict[str, tuple[str, str]] = {}
        for f in obj.fields.values():
            if not (f.external_id or f.unique or f.id_lookup) or f.name == "Id":
                continue
            value = data.get(f.name)
            if value is None:
                continue
            folded, raw = lookup_key(f, value)
            keys[f.name] = (folded, raw)
            if f.unique:
                others = [
                    rid
                    for rid, _ in self.store.lookup(obj.name, f.name, folded)
                    if rid != record_id
                ]
                if others:
                    raise SfError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {f.name} duplicates value on record with id: "
                        f"{others[0]}",
                        fields=[],
                    )
        return keys

    def _auto_number(self, obj: ObjectDef, f: FieldDef) -> str:
        number = self.store.bump_counter(f"auto:{obj.name}.{f.name}")
        pattern = (
            f.display_format or (obj.name_display_format if f.name == "Name" else None) or "{0}"
        )
        start, end = pattern.find("{"), pattern.find("}")
        if start < 0 or end < start:
            return f"{pattern}{number}"
        width = end - start - 1
        return f"{pattern[:start]}{str(number).zfill(width)}{pattern[end + 1 :]}"

    @staticmethod
    def _compound_name(obj: ObjectDef, data: Record) -> None:
        """Contact/User ``Name`` is FirstName + LastName, computed by the platform."""
        name = obj.field("Name")
        if name is None or name.createable or obj.field("LastName") is None:
            return
        parts = [data.get("FirstName"), data.get("LastName")]
        data["Name"] = " ".join(p for p in parts if p) or None
