"""Composite and Composite Graph requests: build them, read their answers.

A Composite call carries up to 25 subrequests and a Graph up to 500 nodes, each for the
price of one API call; later subrequests use earlier results through references such as
``@{newAccount.id}``. That is how a new client (account, contact, opportunity, task, file)
costs one round trip.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from connectors.salesforce_errors import error_for, first_error, record_error
from connectors.salesforce_values import encode_record
from naturhome_sync.errors import SyncError


@dataclass(frozen=True)
class SubRequest:
    method: str
    path: str  # relative to /services/data/vXX.X/
    reference_id: str
    body: Mapping[str, Any] | None = None

    def to_json(self, api_version: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "method": self.method,
            "url": f"/services/data/v{api_version}/{self.path}",
            "referenceId": self.reference_id,
        }
        if self.body is not None:
            data["body"] = dict(self.body)
        return data

    def ref(self, path: str = "id") -> str:
        """A reference to this subrequest's result, for later subrequests."""
        return f"@{{{self.reference_id}.{path}}}"


def create(object_name: str, values: Mapping[str, Any], ref: str) -> SubRequest:
    return SubRequest("POST", f"sobjects/{object_name}", ref, encode_record(values))


def update(object_name: str, record_id: str, values: Mapping[str, Any], ref: str) -> SubRequest:
    return SubRequest("PATCH", f"sobjects/{object_name}/{record_id}", ref, encode_record(values))


def upsert(
    object_name: str, external_field: str, external_id: str, values: Mapping[str, Any], ref: str
) -> SubRequest:
    body = {k: v for k, v in encode_record(values).items() if k != external_field}
    path = f"sobjects/{object_name}/{external_field}/{quote(str(external_id), safe='')}"
    return SubRequest("PATCH", path, ref, body)


#: ``@{ref.path}`` references to earlier subrequests, resolved by Salesforce in the url.
_REFERENCE = re.compile(r"@\{[^}]*\}")


def query(soql: str, ref: str) -> SubRequest:
    """A SOQL query subrequest. References stay literal: Salesforce finds them in the url
    as ``@{...}``, so percent-encoding them would send the reference text itself."""
    parts: list[str] = []
    last = 0
    for match in _REFERENCE.finditer(soql):
        parts += [quote_plus(soql[last : match.start()]), match.group(0)]
        last = match.end()
    parts.append(quote_plus(soql[last:]))
    return SubRequest("GET", f"query?q={''.join(parts)}", ref)


@dataclass(frozen=True)
class SubResponse:
    reference_id: str
    status: int
    body: Any
    location: str | None = None

    @property
    def ok(self) -> bool:
        return self.status < 300

    @property
    def id(self) -> str | None:
        if isinstance(self.body, Mapping) and self.body.get("id"):
            return str(self.body["id"])
        if self.location:
            return self.location.rstrip("/").rsplit("/", 1)[-1]
        return None

    @property
    def created(self) -> bool:
        return self.status == 201 or bool(
            isinstance(self.body, Mapping) and self.body.get("created")
        )

    @property
    def records(self) -> list[dict[str, Any]]:
        if isinstance(self.body, Mapping):
            return list(self.body.get("records") or [])
        return []

    def error(self) -> SyncError | None:
        """This subrequest's failure; for a collection, its first failed record's."""
        if self.ok:
            if isinstance(self.body, list):
                for item in self.body:
                    if isinstance(item, Mapping) and item.get("success") is False:
                        return record_error(item.get("errors") or [], record=self.reference_id)
            return None
        code, message, fields = first_error(self.body)
        return error_for(
            code, self.status, f"{self.reference_id}: {message}", details={"fields": fields}
        )


@dataclass
class CompositeResult:
    responses: dict[str, SubResponse] = field(default_factory=dict)

    def __getitem__(self, reference_id: str) -> SubResponse:
        return self.responses[reference_id]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.responses.values())

    def root_error(self) -> SyncError | None:
        """The failure that caused the others (not the PROCESSING_HALTED consequences)."""
        errors = [e for r in self.responses.values() if (e := r.error()) is not None]
        for error in errors:
            if error.code not in ("PROCESSING_HALTED", "ALL_OR_NONE_OPERATION_ROLLED_BACK"):
                return error
        return errors[0] if errors else None

    def raise_for_errors(self) -> None:
        error = self.root_error()
        if error is not None:
            raise error


def _responses(items: Sequence[Mapping[str, Any]]) -> dict[str, SubResponse]:
    result: dict[str, SubResponse] = {}
    for item in items:
        headers = item.get("httpHeaders") or {}
        result[str(item["referenceId"])] = SubResponse(
            reference_id=str(item["referenceId"]),
            status=int(item["httpStatusCode"]),
            body=item.get("body"),
            location=headers.get("Location"),
        )
    return result


def parse_composite(answer: Any, _requests: Sequence[SubRequest]) -> CompositeResult:
    return CompositeResult(_responses((answer or {}).get("compositeResponse") or []))


@dataclass
class GraphResult:
    graphs: dict[str, tuple[bool, CompositeResult]] = field(default_factory=dict)

    def __getitem__(self, graph_id: str) -> CompositeResult:
        return self.graphs[graph_id][1]

    def successful(self, graph_id: str) -> bool:
        return self.graphs[graph_id][0]

    def raise_for_errors(self) -> None:
        for ok, result in self.graphs.values():
            if not ok:
                error = result.root_error()
                if error is not None:
                    raise error


def parse_graph(answer: Any, _graphs: Mapping[str, Sequence[SubRequest]]) -> GraphResult:
    result = GraphResult()
    for graph in (answer or {}).get("graphs") or []:
        responses = _responses((graph.get("graphResponse") or {}).get("compositeResponse") or [])
        result.graphs[str(graph["graphId"])] = (
            bool(graph.get("isSuccessful")),
            CompositeResult(responses),
        )
    return result
