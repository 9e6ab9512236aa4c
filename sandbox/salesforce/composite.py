"""Composite (``/composite``, 25 subrequests) and Composite Graph (``/composite/graph``).

Subrequests run through the same router as standalone calls. ``@{ref.path}`` references in
a later url or body are replaced from earlier responses (``@{acct.id}``,
``@{q.records[0].Id}``). With ``allOrNone`` (and always inside a graph) the first failure
rolls everything back: the failing subrequest keeps its error, every other one answers 400
``PROCESSING_HALTED``. Without it, independent subrequests commit and those referring to a
failed one answer ``PROCESSING_HALTED``. The whole call is one API call.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sandbox.salesforce.errors import SfError
from sandbox.salesforce.http_types import RestRequest, RestResponse, error_response, split_path

if TYPE_CHECKING:
    from sandbox.salesforce.org import Org

MAX_SUBREQUESTS = 25
MAX_QUERY_OR_COLLECTION = 5
MAX_GRAPH_NODES = 500
MAX_GRAPHS = 75
MAX_FAILED_GRAPHS = 14
ROLLED_BACK = (
    "The transaction was rolled back since another operation in the same transaction failed."
)
_REFERENCE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_REFERENCE = re.compile(r"@\{([A-Za-z][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_PATH_STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
_VERSIONED = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")


class _Halt(Exception):
    """A reference points at a failed or missing subrequest."""


class _Rollback(Exception):
    pass


def _halted(message: str = ROLLED_BACK) -> list[dict[str, str]]:
    return [{"errorCode": "PROCESSING_HALTED", "message": message}]


class Composite:
    def __init__(self, org: Org) -> None:
        self.org = org

    # -- /composite ----------------------------------------------------------------

    def composite(self, req: RestRequest) -> RestResponse:
        body = req.json()
        subrequests = body.get("compositeRequest") if isinstance(body, dict) else None
        if not isinstance(subrequests, list) or not subrequests:
            raise SfError(
                "JSON_PARSER_ERROR", "compositeRequest must be a non-empty list", fields=[]
            )
        if len(subrequests) > MAX_SUBREQUESTS:
            raise SfError(
                "INVALID_BATCH_REQUEST",
                f"Composite request can contain at most {MAX_SUBREQUESTS} subrequests",
            )
        self._validate(subrequests, count_limits=True)
        all_or_none = bool(body.get("allOrNone"))
        responses = self._run(subrequests, req, all_or_none=all_or_none)
        return RestResponse(200, {"compositeResponse": responses})

    # -- /composite/graph ----------------------------------------------------------

    def graph(self, req: RestRequest) -> RestResponse:
        body = req.json()
        graphs = body.get("graphs") if isinstance(body, dict) else None
        if not isinstance(graphs, list) or not graphs:
            raise SfError("JSON_PARSER_ERROR", "graphs must be a non-empty list", fields=[])
        if len(graphs) > MAX_GRAPHS:
            raise SfError(
                "INVALID_BATCH_REQUEST", f"A payload can contain at most {MAX_GRAPHS} graphs"
            )
        nodes = 0
        for graph in graphs:
            requests = graph.get("compositeRequest") if isinstance(graph, dict) else None
            if not isinstance(requests, list) or not requests or not graph.get("graphId"):
                raise SfError(
                    "JSON_PARSER_ERROR",
                    "each graph needs a graphId and a compositeRequest",
                    fields=[],
                )
            nodes += len(requests)
            self._validate(requests, count_limits=False)
            for sub in requests:
                if "/sobjects/" not in str(sub.get("url", "")):
                    raise SfError(
                        "INVALID_BATCH_REQUEST",
                        f"Unsupported graph node url: {sub.get('url')}. "
                        "Only sObject resources are allowed",
                    )
        if nodes > MAX_GRAPH_NODES:
            raise SfError(
                "INVALID_BATCH_REQUEST", f"A payload can contain at most {MAX_GRAPH_NODES} nodes"
            )
        failed = 0
        results = []
        for graph in graphs:
            requests = graph["compositeRequest"]
            if failed >= MAX_FAILED_GRAPHS:
                halted = [self._entry(sub, 400, _halted()) for sub in requests]
                results.append(self._graph_result(graph, False, halted))
                continue
            responses = self._run(requests, req, all_or_none=True)
            ok = all(r["httpStatusCode"] < 400 for r in responses)
            failed += 0 if ok else 1
            results.append(self._graph_result(graph, ok, responses))
        return RestResponse(200, {"graphs": results})

    @staticmethod
    def _graph_result(
        graph: dict[str, Any], ok: bool, responses: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "graphId": graph["graphId"],
            "graphResponse": {"compositeResponse": responses},
            "isSuccessful": ok,
        }

    # -- shared machinery ----------------------------------------------------------

    def _validate(self, subrequests: list[Any], *, count_limits: bool) -> None:
        seen: set[str] = set()
        heavy = 0
        for sub in subrequests:
            if not isinstance(sub, dict) or not sub.get("method") or not sub.get("url"):
                raise SfError(
                    "JSON_PARSER_ERROR", "each subrequest needs a method and a url", fields=[]
                )
            ref = str(sub.get("referenceId", ""))
            if not _REFERENCE_ID.match(ref) or ref in seen:
                raise SfError(
                    "INVALID_BATCH_REQUEST",
                    f"Invalid referenceId '{ref}': it must be unique, start with a letter and "
                    "contain only letters, digits and underscores",
                )
            seen.add(ref)
            path = urlsplit(str(sub["url"])).path
            if re.search(r"/(query|queryAll)/?$|/composite/sobjects", path):
                heavy += 1
        if count_limits and heavy > MAX_QUERY_OR_COLLECTION:
            raise SfError(
                "INVALID_BATCH_REQUEST",
                f"A composite request can contain at most {MAX_QUERY_OR_COLLECTION} query or "
                "sObject Collections subrequests",
            )

    def _run(
        self, subrequests: list[dict[str, Any]], req: RestRequest, *, all_or_none: bool
    ) -> list[dict[str, Any]]:
        done: dict[str, tuple[int, Any]] = {}
        responses: list[dict[str, Any]] = []
        store = self.org.store
        try:
            with store.atomic():
                for sub in subrequests:
                    ref = str(sub["referenceId"])
                    try:
                        url = _substitute(str(sub["url"]), done)
                        body = _substitute_json(sub.get("body"), done)
                    except _Halt as halt:
                        status, payload = 400, _halted(str(halt))
                        headers: dict[str, str] = {}
                    else:
                        try:
                            sub_req = self._request(sub, url, body, req, all_or_none)
                        except SfError as error:
                            response = error_response(error)
                        else:
                            response = self._dispatch(sub_req, with_savepoint=not all_or_none)
                            if all_or_none and _collection_failed(sub_req, response):
                                response.status = 400
                        status, payload, headers = response.status, response.body, response.headers
                    done[ref] = (status, payload)
                    responses.append(self._entry(sub, status, payload, headers))
                    if all_or_none and status >= 400:
                        raise _Rollback
        except _Rollback:
            failed_ref = responses[-1]["referenceId"]
            for entry in responses:
                if entry["referenceId"] != failed_ref:
                    entry.update(body=_halted(), httpHeaders={}, httpStatusCode=400)
            for sub in subrequests[len(responses) :]:
                responses.append(self._entry(sub, 400, _halted()))
        return responses

    def _dispatch(self, sub_req: RestRequest, with_savepoint: bool) -> RestResponse:
        try:
            if with_savepoint:
                with self.org.store.atomic():
                    response = self.org.rest.dispatch(sub_req)
                    if response.status >= 400:
                        raise _Rollback
                    return response
            return self.org.rest.dispatch(sub_req)
        except SfError as error:
            return error_response(error)
        except _Rollback:
            return response

    def _request(
        self, sub: dict[str, Any], url: str, body: Any, parent: RestRequest, all_or_none: bool
    ) -> RestRequest:
        parts = urlsplit(url)
        match = _VERSIONED.match(parts.path)
        if match is None:
            raise SfError("NOT_FOUND", f"Invalid subrequest url: {url}", status=404)

        headers = {k.lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()}
        return RestRequest(
            method=str(sub["method"]).upper(),
            segments=split_path(
                match.group(2) or "", plus_is_space=self.org.config.behaviour.plus_in_path_is_space
            ),
            query_string=parts.query,
            headers=headers,
            body=json.dumps(body).encode() if body is not None else b"",
            version=match.group(1),
            user_id=parent.user_id,
            all_or_none_override=all_or_none,
        )

    @staticmethod
    def _entry(
        sub: dict[str, Any], status: int, body: Any, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        return {
            "body": body,
            "httpHeaders": dict(headers or {}),
            "httpStatusCode": status,
            "referenceId": sub.get("referenceId"),
        }


def _collection_failed(req: RestRequest, response: RestResponse) -> bool:
    """A collections subrequest answers 200 even when records failed."""
    if "sobjects" not in req.segments[:2] or req.segments[:1] != ["composite"]:
        return False
    return isinstance(response.body, list) and any(
        isinstance(r, dict) and r.get("success") is False for r in response.body
    )


def _lookup(expression: str, done: dict[str, tuple[int, Any]]) -> Any:
    match = _REFERENCE.fullmatch(expression)
    if match is None:
        raise _Halt(f"Invalid reference specified: {expression}")
    ref, path = match.group(1), match.group(2)
    if ref not in done or done[ref][0] >= 400:
        raise _Halt(
            f"Invalid reference specified. No value for {ref}{path} found in {ref}. "
            f"Provided referenceId ('{ref}') must be a successful subrequest"
        )
    value = done[ref][1]
    for name, index in _PATH_STEP.findall(path):
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            raise _Halt(
                f"Invalid reference specified. No value for {ref}{path} found in {ref}."
            ) from None
    return value


def _substitute(text: str, done: dict[str, tuple[int, Any]]) -> str:
    return _REFERENCE.sub(lambda m: str(_lookup(m.group(0), done)), text)


def _substitute_json(value: Any, done: dict[str, tuple[int, Any]]) -> Any:
    if isinstance(value, str):
        if _REFERENCE.fullmatch(value):
            return _lookup(value, done)
        return _substitute(value, done)
    if isinstance(value, list):
        return [_substitute_json(v, done) for v in value]
    if isinstance(value, dict):
        return {k: _substitute_json(v, done) for k, v in value.items()}
    return value
