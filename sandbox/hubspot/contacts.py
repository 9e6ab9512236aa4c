"""CRM v3 contacts, as hubspot-api-client 12 calls them.

Covered: get by id or by a unique property (``idProperty=email``), create, update, archive,
batch read (``idProperty`` supported, at most 100 inputs) and search (``filterGroups``,
``sorts``, ``limit``/``after``, the 10,000-result ceiling). Search is eventually consistent:
a contact created or changed less than ``search_delay_s`` ago is not returned yet, as on
HubSpot where the index lags the write by a few seconds (the emulator hides such a record
altogether rather than serving its previous version).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.hubspot.config import DEFAULT_RETURNED_PROPERTIES, READ_ONLY_CONTACT_PROPERTIES
from sandbox.hubspot.errors import (
    HubSpotApiError,
    object_not_found,
    property_errors,
    validation_error,
)
from sandbox.hubspot.gateway import json_body
from sandbox.hubspot.runtime import EmulatorRuntime
from sandbox.hubspot.search import matches_filter_groups, search_page, validate_search
from sandbox.hubspot.store import ContactRow

BATCH_LIMIT = 100
ALWAYS_RETURNED = ("createdate", "hs_object_id", "lastmodifieddate")


def iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def all_properties(row: ContactRow) -> dict[str, str]:
    """Stored properties plus the ones HubSpot computes."""
    return {
        **row.properties,
        "hs_object_id": str(row.id),
        "createdate": iso(row.created_ms),
        "lastmodifieddate": iso(row.updated_ms),
    }


def render_contact(
    runtime: EmulatorRuntime, row: ContactRow, requested: list[str] | None
) -> dict[str, Any]:
    values = all_properties(row)
    if requested:
        known = set(runtime.config.contact_properties)
        names = [*ALWAYS_RETURNED, *(name for name in requested if name in known)]
    else:
        names = list(DEFAULT_RETURNED_PROPERTIES)
    properties: dict[str, str | None] = {}
    for name in dict.fromkeys(names):
        value = values.get(name)
        if value is None and runtime.config.omit_empty_properties:
            continue
        properties[name] = None if value is None else runtime.render(value)
    record: dict[str, Any] = {
        "id": str(row.id),
        "properties": properties,
        "createdAt": iso(row.created_ms),
        "updatedAt": iso(row.updated_ms),
        "archived": row.archived,
    }
    if row.archived:
        record["archivedAt"] = iso(row.updated_ms)
    return record


def requested_properties(request: Request) -> list[str]:
    """``properties=a&properties=b`` (the generated client) and ``properties=a,b`` alike."""
    names: list[str] = []
    for raw in request.query_params.getlist("properties"):
        names += [name.strip() for name in raw.split(",") if name.strip()]
    return names


def _archived_flag(request: Request) -> bool:
    return request.query_params.get("archived", "false").lower() == "true"


def find_contact(
    runtime: EmulatorRuntime, identifier: str, id_property: str | None, archived: bool
) -> ContactRow | None:
    if id_property in (None, "", "hs_object_id"):
        row = runtime.store.contact(int(identifier)) if identifier.isdigit() else None
    elif id_property == "email":
        if archived:
            email = identifier.strip().lower()
            matches = [c for c in runtime.store.contacts() if c.archived and _email(c) == email]
            row = matches[-1] if matches else None
        else:
            row = runtime.store.live_contact_by_email(identifier)
    else:
        raise validation_error(f"Unable to find unique property {id_property} for CONTACT.")
    if row is None or row.archived != archived:
        return None
    return row


def _email(row: ContactRow) -> str:
    return row.properties.get("email", "").strip().lower()


def check_writable(runtime: EmulatorRuntime, properties: Any) -> dict[str, str]:
    """Validate a ``properties`` object the way HubSpot does and turn values into strings."""
    if not isinstance(properties, dict):
        raise validation_error("Invalid input JSON: properties must be an object")
    known = set(runtime.config.contact_properties)
    problems: list[tuple[str, str, str]] = []
    clean: dict[str, str] = {}
    for name, value in properties.items():
        if name not in known:
            problems.append((name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
        elif name in READ_ONLY_CONTACT_PROPERTIES:
            problems.append(
                (
                    name,
                    "READ_ONLY_VALUE",
                    f"{name} is a read only property; its value cannot be set.",
                )
            )
        elif isinstance(value, dict | list):
            problems.append((name, "INVALID_OPTION", f"{value!r} is not a valid value for {name}"))
        elif isinstance(value, bool):
            clean[name] = "true" if value else "false"
        else:
            clean[name] = "" if value is None else str(value)
    if problems:
        raise property_errors(runtime.config.portal_id, problems)
    return clean


def apply_properties(
    runtime: EmulatorRuntime, row: ContactRow | None, changes: dict[str, str], now_ms: int
) -> ContactRow:
    """Create or update a contact; an empty string clears a property, as on HubSpot."""
    email = changes.get("email", "").strip().lower()
    if email:
        holder = runtime.store.live_contact_by_email(email)
        if holder is not None and (row is None or holder.id != row.id):
            raise HubSpotApiError(
                409, f"Contact already exists. Existing ID: {holder.id}", "CONFLICT"
            )
    merged = dict(row.properties) if row else {}
    for name, value in changes.items():
        if value == "":
            merged.pop(name, None)
        else:
            merged[name] = value
    if row is None:
        return runtime.store.insert_contact(merged, now_ms)
    return runtime.store.save_contact(row.id, merged, now_ms)


async def get_contact(request: Request) -> Response:
    runtime: EmulatorRuntime = request.app.state.runtime
    identifier = request.path_params["contact_id"]
    row = find_contact(
        runtime, identifier, request.query_params.get("idProperty"), _archived_flag(request)
    )
    if row is None:
        raise object_not_found(identifier)
    return JSONResponse(render_contact(runtime, row, requested_properties(request)))


async def create_contact(request: Request) -> Response:
    runtime: EmulatorRuntime = request.app.state.runtime
    payload = json_body(await request.body())
    if not isinstance(payload, dict):
        raise validation_error("Invalid input JSON: expected an object")
    changes = check_writable(runtime, payload.get("properties", {}))
    row = apply_properties(runtime, None, changes, runtime.now_ms())
    return JSONResponse(render_contact(runtime, row, list(row.properties)), status_code=201)


async def update_contact(request: Request) -> Response:
    runtime: EmulatorRuntime = request.app.state.runtime
    identifier = request.path_params["contact_id"]
    payload = json_body(await request.body())
    if not isinstance(payload, dict) or "properties" not in payload:
        raise validation_error("Invalid input JSON: properties is required")
    row = find_contact(runtime, identifier, request.query_params.get("idProperty"), False)
    if row is None:
        raise object_not_found(identifier)
    changes = check_writable(runtime, payload["properties"])
    row = apply_properties(runtime, row, changes, runtime.now_ms())
    return JSONResponse(render_contact(runtime, row, list(row.properties)))


async def archive_contact(request: Request) -> Response:
    runtime: EmulatorRuntime = request.app.state.runtime
    identifier = request.path_params["contact_id"]
    row = find_contact(runtime, identifier, None, False)
    if row is not None:
        runtime.store.archive_contact(row.id, runtime.now_ms())
    return Response(status_code=204)


async def batch_read(request: Request) -> Response:
    runtime: EmulatorRuntime = request.app.state.runtime
    started = runtime.now_ms()
    payload = json_body(await request.body())
    inputs = payload.get("inputs") if isinstance(payload, dict) else None
    if not isinstance(inputs, list) or not all(
        isinstance(item, dict) and "id" in item for item in inputs
    ):
        raise validation_error("Invalid input JSON: inputs must be a list of {id}")
    if len(inputs) > BATCH_LIMIT:
        raise validation_error(
            f"Batch input limit exceeded. Max {BATCH_LIMIT} inputs, but got {len(inputs)}."
        )
    id_property = payload.get("idProperty")
    properties = [str(name) for name in payload.get("properties") or []]
    results, missing = [], []
    for item in inputs:
        identifier = str(item["id"])
        row = find_contact(runtime, identifier, id_property, _archived_flag(request))
        if row is None:
            missing.append(identifier)
        else:
            results.append(render_contact(runtime, row, properties))
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso(started),
        "completedAt": iso(runtime.now_ms()),
    }
    if not missing:
        return JSONResponse(body)
    body["numErrors"] = 1
    body["errors"] = [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": "Could not get some CONTACT objects, they may be deleted or not exist."
            " Check that ids are valid.",
            "context": {"ids": missing},
            "errors": [],
            "links": {},
        }
    ]
    return JSONResponse(body, status_code=207)


async def search(request: Request) -> Response:
    runtime: EmulatorRuntime = request.app.state.runtime
    payload = json_body(await request.body())
    query = validate_search(payload)
    horizon = runtime.now_ms() - round(runtime.config.search_delay_s * 1000)
    indexed = [
        row for row in runtime.store.contacts() if not row.archived and row.updated_ms <= horizon
    ]
    hits = [
        row
        for row in indexed
        if matches_filter_groups(all_properties(row), query.filter_groups, query.text)
    ]
    page, total, next_after = search_page(hits, query, all_properties)
    requested = query.properties or list(DEFAULT_RETURNED_PROPERTIES)
    body: dict[str, Any] = {
        "total": total,
        "results": [render_contact(runtime, row, requested) for row in page],
    }
    if next_after is not None:
        body["paging"] = {"next": {"after": next_after}}
    return JSONResponse(body)


ROUTES = [
    Route("/crm/v3/objects/contacts/search", search, methods=["POST"]),
    Route("/crm/v3/objects/contacts/batch/read", batch_read, methods=["POST"]),
    Route("/crm/v3/objects/contacts", create_contact, methods=["POST"]),
    Route("/crm/v3/objects/contacts/{contact_id}", get_contact, methods=["GET"]),
    Route("/crm/v3/objects/contacts/{contact_id}", update_contact, methods=["PATCH"]),
    Route("/crm/v3/objects/contacts/{contact_id}", archive_contact, methods=["DELETE"]),
]
