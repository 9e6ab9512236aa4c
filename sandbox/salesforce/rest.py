"""Routes ``/services/data/vXX.X/...`` to the resources, with their minimum API versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.salesforce.collections import Collections
from sandbox.salesforce.composite import Composite
from sandbox.salesforce.dml import WriteContext
from sandbox.salesforce.errors import SfError, not_found
from sandbox.salesforce.http_types import RestRequest, RestResponse
from sandbox.salesforce.ids import normalize_id
from sandbox.salesforce.query import batch_size
from sandbox.salesforce.sobjects import SObjects, method_not_allowed

if TYPE_CHECKING:
    from sandbox.salesforce.org import Org

#: First API version of each resource (older versions answer 404 like an org).
_MIN_VERSION = {
    "composite/sobjects": 42.0,
    "composite/graph": 50.0,
    "composite": 34.0,
    "process": 30.0,
    "queryAll": 29.0,
}
_SEASONS = ("Winter", "Spring", "Summer")


def release_label(version: float) -> str:
    """``59.0`` -> ``Winter '24`` (three releases a year since Winter '24 = 59.0)."""
    steps = int(version) - 59
    return f"{_SEASONS[steps % 3]} '{24 + steps // 3:02d}"


def versions(max_version: str) -> list[dict[str, str]]:
    top = int(float(max_version))
    return [
        {"label": release_label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(20, top + 1)
    ]


def path_pattern(method: str, segments: list[str]) -> str:
    """``PATCH /services/data/vXX.X/sobjects/Opportunity/{id}``: a call's stats bucket."""
    out = list(segments)
    for i, part in enumerate(out):
        if i >= 2 and out[i - 2] == "sobjects" and out[0] != "composite":
            out[i] = "{id}" if normalize_id(part) else part
        if i >= 3 and out[i - 3] == "sobjects" and out[0] != "composite" and out[i - 1] != "{id}":
            out[i] = "{value}"
        if i == 1 and out[0] in ("query", "queryAll"):
            out[i] = "{locator}"
    return f"{method} /services/data/vXX.X/" + "/".join(out)


class Rest:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.sobjects = SObjects(org)
        self.collections = Collections(org)
        self.composite = Composite(org)

    def dispatch(self, req: RestRequest) -> RestResponse:
        segs = req.segments
        version = float(req.version)
        if not segs:
            if req.method != "GET":
                raise method_not_allowed(req.method, "GET,HEAD")
            return RestResponse(200, self._resources(req.version))
        head = segs[0]
        key = "/".join(segs[:2]) if head == "composite" and len(segs) > 1 else head
        if version < _MIN_VERSION.get(key, 20.0):
            raise not_found()
        if head == "sobjects":
            return self.sobjects.handle(req, segs[1:])
        if head in ("query", "queryAll"):
            return self._query(req, include_deleted=head == "queryAll")
        if head == "limits" and len(segs) == 1:
            if req.method != "GET":
                raise method_not_allowed(req.method, "GET,HEAD")
            return RestResponse(200, self.org.usage.limits())
        if head == "composite":
            return self._composite(req, segs[1:])
        if segs == ["process", "approvals"]:
            return self._approvals(req)
        raise not_found()

    def _query(self, req: RestRequest, *, include_deleted: bool) -> RestResponse:
        if req.method != "GET":
            raise method_not_allowed(req.method, "GET,HEAD")
        queries = self.org.queries
        if len(req.segments) == 2:
            page = queries.more(req.segments[1], version=req.version, user_id=req.user_id)
            return RestResponse(200, page)
        if len(req.segments) > 2:
            raise not_found()
        soql = req.param("q")
        if soql is None:
            raise SfError("MALFORMED_QUERY", "A query string has to be specified")
        page = queries.run(
            soql,
            version=req.version,
            include_deleted=include_deleted,
            batch=batch_size(req.header("Sforce-Query-Options")),
            user_id=req.user_id,
        )
        return RestResponse(200, page)

    def _composite(self, req: RestRequest, rest: list[str]) -> RestResponse:
        if not rest:
            if req.method != "POST":
                raise method_not_allowed(req.method, "POST")
            return self.composite.composite(req)
        if rest[0] == "sobjects":
            return self.collections.handle(req, rest[1:])
        if rest == ["graph"]:
            if req.method != "POST":
                raise method_not_allowed(req.method, "POST")
            return self.composite.graph(req)
        raise not_found()

    def _approvals(self, req: RestRequest) -> RestResponse:
        if req.method == "GET":
            return RestResponse(200, self.org.approvals.definitions())
        if req.method != "POST":
            raise method_not_allowed(req.method, "GET,HEAD,POST")
        body = req.json()
        ctx = WriteContext(user_id=req.user_id, version=req.version)
        if self.org.config.behaviour.approval_errors == "per_request":
            return RestResponse(200, self.org.approvals.run(body, ctx))
        with self.org.store.atomic():
            return RestResponse(200, self.org.approvals.run(body, ctx))

    @staticmethod
    def _resources(version: str) -> dict[str, Any]:
        base = f"/services/data/v{version}"
        names = [
            "sobjects",
            "query",
            "queryAll",
            "composite",
            "limits",
            "process",
            "search",
            "recent",
            "tooling",
        ]
        return {name: f"{base}/{name}" for name in names}
