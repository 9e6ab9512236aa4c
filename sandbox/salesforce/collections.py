"""sObject Collections (``/composite/sobjects``): up to 200 records a call, one API call.

A well-formed call answers 200 with one result per record, in input order; failures carry
``statusCode`` errors. With ``allOrNone`` every record is still checked (each failing one
shows its own error) and then nothing is committed: the records that would have succeeded
answer ``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from naturhome_sync.sfschema import ObjectDef
from sandbox.salesforce.dml import MultipleMatches, WriteContext
from sandbox.salesforce.errors import SfError, not_found
from sandbox.salesforce.http_types import RestRequest, RestResponse
from sandbox.salesforce.ids import normalize_id
from sandbox.salesforce.records import resolve_fields, to_json
from sandbox.salesforce.sobjects import method_not_allowed

if TYPE_CHECKING:
    from sandbox.salesforce.org import Org

MAX_RECORDS = 200
MAX_RETRIEVE_IDS = 2000
_ROLLED_BACK = SfError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    fields=[],
)


class _Rollback(Exception):
    pass


def _too_many(limit: int) -> SfError:
    return SfError(
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {limit} records into this call",
    )


class Collections:
    def __init__(self, org: Org) -> None:
        self.org = org

    def handle(self, req: RestRequest, rest: list[str]) -> RestResponse:
        """``rest`` = segments after ``composite/sobjects``."""
        ctx = WriteContext(user_id=req.user_id, version=req.version)
        if not rest:
            if req.method == "POST":
                return self._write(req, ctx, self._create)
            if req.method == "PATCH":
                return self._write(req, ctx, self._update)
            if req.method == "DELETE":
                return self._delete(req, ctx)
            raise method_not_allowed(req.method, "POST,PATCH,DELETE")
        obj = self.org.schema.sobject_or_404(rest[0])
        if len(rest) == 1:
            if req.method not in ("GET", "POST"):
                raise method_not_allowed(req.method, "GET,POST")
            return self._retrieve(obj.name, req)
        if len(rest) == 2:
            if req.method != "PATCH":
                raise method_not_allowed(req.method, "PATCH")
            field = self.org.engine.external_id_field(obj, rest[1])
            return self._write(req, ctx, lambda rec, c: self._upsert(obj.name, field.name, rec, c))
        raise not_found()

    # -- the all-or-none loop ------------------------------------------------------

    def _write(
        self,
        req: RestRequest,
        ctx: WriteContext,
        operation: Callable[[dict[str, Any], WriteContext], dict[str, Any]],
    ) -> RestResponse:
        body = req.json()
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise SfError(
                "JSON_PARSER_ERROR", "The request body must contain a records list", fields=[]
            )
        if len(records) > MAX_RECORDS:
            raise _too_many(MAX_RECORDS)
        all_or_none = bool(body.get("allOrNone")) or req.all_or_none_override
        return RestResponse(200, self.run(records, all_or_none, lambda rec: operation(rec, ctx)))

    def run(
        self,
        items: list[Any],
        all_or_none: bool,
        operation: Callable[[Any], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Apply ``operation`` to each item, each in its own savepoint, inside one outer
        savepoint that ``allOrNone`` rolls back when any item failed. An operation marks
        results of records that existed before with ``_existed`` (their rolled-back result
        keeps the id)."""
        store = self.org.store
        results: list[dict[str, Any]] = []
        existed: list[bool] = []
        try:
            with store.atomic():
                for item in items:
                    try:
                        with store.atomic():
                            result = operation(item)
                    except SfError as error:
                        result = _failure(item, error)
                    existed.append(bool(result.pop("_existed", False)))
                    results.append(result)
                if all_or_none and any(not r["success"] for r in results):
                    raise _Rollback
        except _Rollback:
            results = [
                _rolled_back(r, keep_id) if r["success"] else r
                for r, keep_id in zip(results, existed, strict=True)
            ]
        return results

    # -- operations ----------------------------------------------------------------

    def _create(self, record: Any, ctx: WriteContext) -> dict[str, Any]:
        obj = self._record_type(record)
        record_id = self.org.engine.create(obj, record, ctx)
        return {"id": record_id, "success": True, "errors": []}

    def _update(self, record: Any, ctx: WriteContext) -> dict[str, Any]:
        if not isinstance(record, dict):
            raise SfError("JSON_PARSER_ERROR", "Each record must be an object", fields=[])
        key = next((k for k in record if k.lower() == "id"), None)
        raw_id = record.get(key) if key else None
        record_id = normalize_id(str(raw_id)) if raw_id else None
        if record_id is None:
            raise SfError("MISSING_ARGUMENT", "Id not specified in an update call", fields=[])
        declared = (
            record.get("attributes", {}).get("type")
            if isinstance(record.get("attributes"), dict)
            else None
        )
        obj = (
            self.org.schema.sobject_or_invalid_type(declared)
            if declared
            else self.org.schema.object_of_id(record_id)
        )
        if obj is None:
            raise SfError("MALFORMED_ID", f"malformed id {raw_id}", fields=[])
        body = {k: v for k, v in record.items() if k != key}
        self.org.engine.update(obj, record_id, body, ctx)
        return {"id": record_id, "success": True, "errors": [], "_existed": True}

    def _upsert(
        self, sobject: str, field_name: str, record: Any, ctx: WriteContext
    ) -> dict[str, Any]:
        if not isinstance(record, dict):
            raise SfError("JSON_PARSER_ERROR", "Each record must be an object", fields=[])
        obj = self.org.schema.sobject_or_404(sobject)
        field = self.org.engine.external_id_field(obj, field_name)
        key = next((k for k in record if k.lower() == field.name.lower()), None)
        if key is None or record.get(key) in (None, ""):
            raise SfError("MISSING_ARGUMENT", f"{field.name} not specified", fields=[field.name])
        body = {k: v for k, v in record.items() if k != key}
        try:
            record_id, created = self.org.engine.upsert(obj, field, record[key], body, ctx)
        except MultipleMatches as many:
            raise SfError(
                "DUPLICATE_EXTERNAL_ID",
                f"{field.label}: more than one record found for external id field: "
                f"[{', '.join(many.ids)}]",
                fields=[],
            ) from None
        return {
            "id": record_id,
            "success": True,
            "errors": [],
            "created": created,
            "_existed": not created,
        }

    def _delete(self, req: RestRequest, ctx: WriteContext) -> RestResponse:
        ids = [i for i in (req.param("ids") or "").split(",") if i]
        if not ids:
            raise SfError("MISSING_ARGUMENT", "ids parameter is required", fields=[])
        if len(ids) > MAX_RECORDS:
            raise _too_many(MAX_RECORDS)
        all_or_none = (req.param("allOrNone") or "").lower() == "true" or req.all_or_none_override

        def delete(raw: Any) -> dict[str, Any]:
            record_id = normalize_id(str(raw))
            obj = self.org.schema.object_of_id(record_id) if record_id else None
            if record_id is None or obj is None:
                raise SfError("MALFORMED_ID", f"malformed id {raw}", fields=[])
            self.org.engine.delete(obj, record_id, ctx)
            return {"id": record_id, "success": True, "errors": [], "_existed": True}

        return RestResponse(200, self.run(ids, all_or_none, delete))

    def _retrieve(self, sobject: str, req: RestRequest) -> RestResponse:
        obj = self.org.schema.sobject_or_404(sobject)
        if req.method == "POST":
            body = req.json()
            ids = list(body.get("ids") or []) if isinstance(body, dict) else []
            names = list(body.get("fields") or []) if isinstance(body, dict) else []
        else:
            ids = [i for i in (req.param("ids") or "").split(",") if i]
            names = [n for n in (req.param("fields") or "").split(",") if n]
        if not ids:
            raise SfError("MISSING_ARGUMENT", "ids parameter is required", fields=[])
        if len(ids) > MAX_RETRIEVE_IDS:
            raise _too_many(MAX_RETRIEVE_IDS)
        fields = resolve_fields(obj, names) if names else None
        out: list[dict[str, Any] | None] = []
        for raw in ids:
            record_id = normalize_id(str(raw))
            found = self.org.store.get(record_id) if record_id else None
            if record_id is None or found is None or found[0] != obj.name or found[1]:
                out.append(None)
            else:
                out.append(to_json(obj, record_id, found[2], req.version, fields))
        return RestResponse(200, out)

    def _record_type(self, record: Any) -> ObjectDef:
        if not isinstance(record, dict):
            raise SfError("JSON_PARSER_ERROR", "Each record must be an object", fields=[])
        attributes = record.get("attributes")
        declared = attributes.get("type") if isinstance(attributes, dict) else None
        if not declared:
            raise SfError("INVALID_TYPE", "Must send a concrete entity type.", fields=[])
        return self.org.schema.sobject_or_invalid_type(str(declared))


def _failure(item: Any, error: SfError) -> dict[str, Any]:
    result: dict[str, Any] = {"success": False, "errors": [error.per_record()]}
    if isinstance(item, str):
        result = {"id": normalize_id(item) or item, **result}
    elif isinstance(item, dict):
        key = next((k for k in item if k.lower() == "id"), None)
        if key and item.get(key):
            result = {"id": normalize_id(str(item[key])) or item[key], **result}
    return result


def _rolled_back(result: dict[str, Any], keep_id: bool) -> dict[str, Any]:
    rolled: dict[str, Any] = {"success": False, "errors": [_ROLLED_BACK.per_record()]}
    if "created" in result:
        rolled["created"] = False
    return {"id": result["id"], **rolled} if keep_id else rolled
