"""Upserts through sObject Collections: one chunk of up to 200 records per API call.

Each record's result is read back in input order and its error mapped like any other, so
one bad record fails alone (unless ``allOrNone``). With ``skip_unchanged`` the chunk is read
first (one query) and records whose values the org already holds are not sent: a write that
would change nothing but LastModifiedDate still costs API calls and wakes the org's
automations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.salesforce_errors import record_error
from connectors.salesforce_results import RecordResult
from connectors.salesforce_values import encode_record, same_value, soql_quote

if TYPE_CHECKING:
    from connectors.salesforce import SalesforceClient

COLLECTION_LIMIT = 200


def upsert_chunk(
    client: SalesforceClient,
    object_name: str,
    external_field: str,
    chunk: list[Mapping[str, Any]],
    offset: int,
    *,
    all_or_none: bool,
    skip_unchanged: bool,
) -> list[RecordResult]:
    """Upsert ``chunk`` (≤ 200 records, the ``offset``-th onwards of the caller's list)."""
    encoded = [encode_record(r) for r in chunk]
    skipped: dict[int, str] = {}
    if skip_unchanged:
        skipped = unchanged(client, object_name, external_field, encoded)
    to_send = [i for i in range(len(encoded)) if i not in skipped]
    outcome: dict[int, RecordResult] = {
        i: RecordResult(index=offset + i, success=True, id=rid, created=False, skipped=True)
        for i, rid in skipped.items()
    }
    if to_send:
        body = {
            "allOrNone": all_or_none,
            "records": [{"attributes": {"type": object_name}, **encoded[i]} for i in to_send],
        }
        answer = client.restful(
            f"composite/sobjects/{object_name}/{external_field}", "PATCH", json=body
        )
        for i, item in zip(to_send, answer or [], strict=True):
            ext = str(encoded[i].get(external_field, ""))
            if item.get("success"):
                outcome[i] = RecordResult(
                    index=offset + i,
                    success=True,
                    id=item.get("id"),
                    created=bool(item.get("created")),
                )
            else:
                error = record_error(item.get("errors") or [], record=f"{object_name} {ext}")
                error.external_id = ext
                outcome[i] = RecordResult(index=offset + i, success=False, error=error)
    return [outcome[i] for i in range(len(encoded))]


def unchanged(
    client: SalesforceClient, object_name: str, external_field: str, encoded: list[dict[str, Any]]
) -> dict[int, str]:
    """Index -> existing id of the records whose values the org already holds."""
    keys = [str(r[external_field]) for r in encoded if r.get(external_field)]
    if not keys:
        return {}
    # A parent given by external id ({"Plan__r": {"Plan_Key__c": "P-1"}}) is read back
    # through the relationship (Plan__r.Plan_Key__c).
    fields = sorted(
        {path for r in encoded for name, value in r.items() for path in _paths(name, value)}
        | {"Id", external_field}
    )
    soql = (
        f"SELECT {', '.join(fields)} FROM {object_name} WHERE {external_field} IN "
        f"({', '.join(soql_quote(k) for k in keys)})"
    )
    existing = {str(row[external_field]).lower(): row for row in client.query(soql)}
    result: dict[int, str] = {}
    for i, record in enumerate(encoded):
        row = existing.get(str(record.get(external_field, "")).lower())
        if row and all(_same_value(row.get(k), v) for k, v in record.items()):
            result[i] = str(row["Id"])
    return result


def _paths(name: str, value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [f"{name}.{field_name}" for field_name in value]
    return [name]


def _same_value(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, Mapping):  # a parent by external id: compare its key fields
        parent = current if isinstance(current, Mapping) else {}
        return bool(parent) and all(same_value(v, parent.get(k)) for k, v in wanted.items())
    return same_value(wanted, current)
