"""The sObject resources: rows by id, rows by external id, describe, blobs, getUpdated and
getDeleted, with the statuses of notes §2.4 (201 create, 204 update/delete, 201/200-or-204
upsert, 300 for several external-id matches)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from naturhome_sync.sfschema import ObjectDef
from naturhome_sync.sfschema.describe import describe_global_entry, describe_object
from sandbox.salesforce.dml import MultipleMatches, WriteContext
from sandbox.salesforce.errors import SfError, not_found
from sandbox.salesforce.http_types import RestRequest, RestResponse
from sandbox.salesforce.ids import normalize_id
from sandbox.salesforce.records import record_url, resolve_fields, to_json
from sandbox.salesforce.values import format_datetime, parse_datetime

if TYPE_CHECKING:
    from sandbox.salesforce.org import Org


def method_not_allowed(method: str, allowed: str) -> SfError:
    return SfError(
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are {allowed}",
        status=405,
    )


class SObjects:
    def __init__(self, org: Org) -> None:
        self.org = org

    def handle(self, req: RestRequest, rest: list[str]) -> RestResponse:
        """``rest`` = segments after ``sobjects``."""
        org = self.org
        if not rest:
            if req.method != "GET":
                raise method_not_allowed(req.method, "GET,HEAD")
            return RestResponse(200, org.describe_global(req.version))
        obj = org.schema.sobject_or_404(rest[0])
        ctx = WriteContext(user_id=req.user_id, version=req.version)
        if len(rest) == 1:
            if req.method == "GET":
                entry = describe_global_entry(obj, req.version, org.schema.key_prefix(obj))
                return RestResponse(200, {"objectDescribe": entry, "recentItems": []})
            if req.method == "POST":
                return self._create(obj, req, ctx)
            raise method_not_allowed(req.method, "GET,HEAD,POST")
        second = rest[1]
        if len(rest) == 2 and second == "describe":
            if req.method != "GET":
                raise method_not_allowed(req.method, "GET,HEAD")
            return RestResponse(
                200,
                describe_object(obj, org.schema.schema, req.version, org.schema.key_prefix(obj)),
            )
        if len(rest) == 2 and second in ("updated", "deleted"):
            return self._replication(obj, req, second)
        record_id = normalize_id(second) if obj.field(second) is None else None
        if len(rest) == 2 and record_id is not None:
            return self._row(obj, record_id, req, ctx)
        if len(rest) == 2 and second.lower() == "id" and req.method == "POST":
            return self._create(obj, req, ctx)
        if len(rest) == 3 and record_id is not None:
            return self._blob(obj, record_id, rest[2], req)
        if len(rest) == 3:
            field = org.engine.external_id_field(obj, second)
            return self._by_external_id(obj, field.name, rest[2], req, ctx)
        if len(rest) == 2:
            raise SfError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {second}",
                status=404,
            )
        raise not_found()

    # -- rows ----------------------------------------------------------------------

    def _create(self, obj: ObjectDef, req: RestRequest, ctx: WriteContext) -> RestResponse:
        body = req.json_object(obj.name)
        with self.org.store.atomic():
            record_id = self.org.engine.create(obj, body, ctx)
        return RestResponse(
            201,
            {"id": record_id, "success": True, "errors": []},
            headers={"Location": record_url(req.version, obj.name, record_id)},
        )

    def _row(
        self, obj: ObjectDef, record_id: str, req: RestRequest, ctx: WriteContext
    ) -> RestResponse:
        engine = self.org.engine
        if req.method == "GET":
            data = engine.load(obj, record_id)
            fields_param = req.param("fields")
            fields = resolve_fields(obj, fields_param.split(",")) if fields_param else None
            return RestResponse(200, to_json(obj, record_id, data, req.version, fields))
        if req.method == "PATCH":
            body = req.json_object(obj.name)
            with self.org.store.atomic():
                engine.update(obj, record_id, body, ctx)
            return RestResponse(204)
        if req.method == "DELETE":
            with self.org.store.atomic():
                engine.delete(obj, record_id, ctx)
            return RestResponse(204)
        raise method_not_allowed(req.method, "GET,PATCH,DELETE,HEAD")

    def _blob(self, obj: ObjectDef, record_id: str, name: str, req: RestRequest) -> RestResponse:
        field = obj.field(name)
        if req.method != "GET":
            raise method_not_allowed(req.method, "GET,HEAD")
        if field is None or field.type != "Base64":
            raise not_found()
        self.org.engine.load(obj, record_id)
        data = self.org.store.get_blob(f"{record_id}/{field.name}")
        if data is None:
            raise not_found()
        return RestResponse(200, raw=data, content_type="application/octetstream")

    def _by_external_id(
        self, obj: ObjectDef, field_name: str, value: str, req: RestRequest, ctx: WriteContext
    ) -> RestResponse:
        engine = self.org.engine
        field = engine.external_id_field(obj, field_name)
        try:
            if req.method == "GET":
                matches = engine.find_external(obj, field, engine.external_value(field, value))
                if len(matches) > 1:
                    raise MultipleMatches(obj.name, matches)
                if not matches:
                    raise not_found()
                data = engine.load(obj, matches[0])
                return RestResponse(200, to_json(obj, matches[0], data, req.version))
            if req.method == "PATCH" or (req.method == "POST" and field.name == "Id"):
                body = req.json_object(obj.name)
                update_only = (req.param("updateOnly") or "").lower() == "true"
                with self.org.store.atomic():
                    record_id, created = engine.upsert(
                        obj, field, value, body, ctx, update_only=update_only
                    )
                result = {"id": record_id, "success": True, "errors": [], "created": created}
                if created:
                    return RestResponse(
                        201,
                        result,
                        headers={"Location": record_url(req.version, obj.name, record_id)},
                    )
                if self.org.config.behaviour.upsert_update_status == 204:
                    return RestResponse(204)
                return RestResponse(200, result)
            if req.method == "DELETE":
                matches = engine.find_external(obj, field, engine.external_value(field, value))
                if len(matches) > 1:
                    raise MultipleMatches(obj.name, matches)
                if not matches:
                    raise not_found()
                with self.org.store.atomic():
                    engine.delete(obj, matches[0], ctx)
                return RestResponse(204)
        except MultipleMatches as many:
            return RestResponse(300, [record_url(req.version, obj.name, rid) for rid in many.ids])
        raise method_not_allowed(req.method, "GET,PATCH,DELETE,HEAD,POST")

    # -- getUpdated / getDeleted ---------------------------------------------------

    def _replication(self, obj: ObjectDef, req: RestRequest, kind: str) -> RestResponse:
        if req.method != "GET":
            raise method_not_allowed(req.method, "GET,HEAD")
        start = parse_datetime(req.param("start") or "")
        end = parse_datetime(req.param("end") or "")
        if start is None or end is None:
            raise SfError(
                "INVALID_REPLICATION_DATE", "start and end must be valid dateTimes", fields=[]
            )
        start = start.replace(second=0, microsecond=0)
        end = end.replace(second=0, microsecond=0)
        now = self.org.clock.now()
        window = timedelta(days=30 if kind == "updated" else 15)
        if end <= start:
            raise SfError(
                "INVALID_REPLICATION_DATE", "end date must be after start date", fields=[]
            )
        if start < now - window:
            raise SfError(
                "INVALID_REPLICATION_DATE",
                f"startDate cannot be more than {window.days} days ago",
                fields=[],
            )
        low, high = format_datetime(start), format_datetime(end)
        covered = format_datetime(min(end, now.replace(second=0, microsecond=0)))
        if kind == "updated":
            ids = [
                rid
                for rid, _, data in self.org.store.scan(obj.name, include_deleted=False)
                if low
                <= str(data.get("SystemModstamp") or data.get("LastModifiedDate") or "")
                < high
            ]
            return RestResponse(200, {"ids": ids, "latestDateCovered": covered})
        deleted = self.org.store.deleted_between(obj.name, low, high)
        body: dict[str, Any] = {
            "deletedRecords": [{"id": rid, "deletedDate": at} for rid, at in deleted],
            "earliestDateAvailable": format_datetime(now - window),
            "latestDateCovered": covered,
        }
        return RestResponse(200, body)
