"""``POST /__sandbox/load``: seed records from JSON, for demo data sets and test fixtures.

Format (records are created in order, all or nothing)::

    {"records": [
      {"attributes": {"type": "Account", "ref": "acme"}, "Name": "Acme"},
      {"attributes": {"type": "Contact"}, "LastName": "Doe", "AccountId": "@acme"},
      {"attributes": {"type": "Opportunity", "ref": "opp1",
                      "upsertOn": "HubSpot_Submission_Id__c"},
       "HubSpot_Submission_Id__c": "S-1", "Account": {"Naturhome_Id__c": "A-1"}, ...}
    ]}

- ``"@name"`` as a field value is the id of the record whose ``attributes.ref`` is ``name``,
  in this load or an earlier one (refs are remembered per state directory); ``"@@x"`` is the
  literal text ``@x``.
- A nested object under a relationship name resolves by external id, as in the REST API.
- ``upsertOn`` makes the record an upsert on that external id, so a data set can be loaded
  twice without duplicates.
- Records go through the same validation as API writes, except that read-only fields
  (CreatedDate, LastModifiedDate...) may be set, so histories can be back-dated. Users get
  the administrator profile and locale defaults unless given.

Answers ``{"ids": {ref: id}, "records": [{"ref", "type", "id", "created"}]}``; a refused
record answers 400 with its error and ``index``, and nothing is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.salesforce.dml import WriteContext
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.users import create_user

if TYPE_CHECKING:
    from sandbox.salesforce.org import Org


class LoadError(Exception):
    def __init__(self, index: int, error: SfError) -> None:
        super().__init__(error.message)
        self.index = index
        self.error = error

    def body(self) -> list[dict[str, Any]]:
        entry = self.error.top_level()[0]
        entry["index"] = self.index
        return [entry]


def load(org: Org, payload: Any) -> dict[str, Any]:
    records = payload.get("records") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        raise LoadError(-1, SfError("JSON_PARSER_ERROR", 'expected {"records": [...]}', fields=[]))
    ctx = WriteContext(user_id=org.user_id, version=org.default_version, system=True)
    refs: dict[str, str] = {}
    results: list[dict[str, Any]] = []
    with org.store.atomic():
        for index, record in enumerate(records):
            try:
                results.append(_one(org, record, refs, ctx))
            except SfError as error:
                raise LoadError(index, error) from None
        for name, record_id in refs.items():
            org.store.set_meta(f"ref:{name}", record_id)
    return {"ids": refs, "records": results}


def _one(org: Org, record: Any, refs: dict[str, str], ctx: WriteContext) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("attributes"), dict):
        raise SfError("INVALID_TYPE", "Must send a concrete entity type.", fields=[])
    attributes = record["attributes"]
    obj = org.schema.sobject_or_invalid_type(str(attributes.get("type", "")))
    body = {k: _resolve(org, v, refs) for k, v in record.items() if k != "attributes"}
    upsert_on = attributes.get("upsertOn")
    created = True
    if upsert_on:
        field = org.engine.external_id_field(obj, str(upsert_on))
        key = next((k for k in body if k.lower() == field.name.lower()), None)
        if key is None:
            raise SfError("MISSING_ARGUMENT", f"{field.name} not specified", fields=[field.name])
        value = body.pop(key)
        if obj.name == "User" and not org.engine.find_external(obj, field, value):
            # A new user gets the defaults of the user-creation form, as without upsertOn.
            record_id = create_user(org.engine, {**body, field.name: value}, ctx)
        else:
            record_id, created = org.engine.upsert(obj, field, value, body, ctx)
    elif obj.name == "User":
        record_id = create_user(org.engine, body, ctx)
    else:
        record_id = org.engine.create(obj, body, ctx)
    ref = attributes.get("ref")
    if ref:
        refs[str(ref)] = record_id
    return {"ref": ref, "type": obj.name, "id": record_id, "created": created}


def _resolve(org: Org, value: Any, refs: dict[str, str]) -> Any:
    if not isinstance(value, str) or not value.startswith("@"):
        return value
    if value.startswith("@@"):
        return value[1:]
    name = value[1:]
    found = refs.get(name) or org.store.meta(f"ref:{name}")
    if found is None:
        raise SfError("INVALID_FIELD", f"unknown reference {value}", fields=[])
    return found
