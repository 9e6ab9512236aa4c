"""sObject Collections, Composite and Composite Graph through ``sf.restful``: success
shapes, per-record errors, allOrNone rollbacks, references, limits, one API call each."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": (
        "Record rolled back because not all records were valid and the request was using "
        "AllOrNone header"
    ),
    "fields": [],
}
HALTED = [
    {
        "errorCode": "PROCESSING_HALTED",
        "message": (
            "The transaction was rolled back since another operation in the same transaction "
            "failed."
        ),
    }
]


def accounts(*names: str) -> list[dict[str, Any]]:
    return [{"attributes": {"type": "Account"}, "Name": n} for n in names]


def count(sf: Any, sobject: str = "Account") -> int:
    return int(sf.query(f"SELECT COUNT() FROM {sobject}")["totalSize"])


def api_used(harness: Any) -> int:
    return int(harness.stats()["api_usage"]["used"])


# -- collections -------------------------------------------------------------------------------


def test_collection_create_without_all_or_none_commits_the_good_records(sf: Any) -> None:
    records = [*accounts("A", "B"), {"attributes": {"type": "Account"}, "Phone": "1"}]
    results = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": False, "records": records}
    )
    assert [r["success"] for r in results] == [True, True, False]
    assert results[2] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Name]",
                "fields": ["Name"],
            }
        ],
    }
    assert results[0]["id"].startswith("001")
    assert results[0]["errors"] == []
    assert count(sf) == 2


def test_collection_create_all_or_none_rolls_everything_back(sf: Any) -> None:
    records = [*accounts("A"), {"attributes": {"type": "Account"}, "Phone": "1"}, *accounts("C")]
    results = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )
    assert results[0] == {"success": False, "errors": [ROLLED_BACK]}
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[2] == {"success": False, "errors": [ROLLED_BACK]}
    assert count(sf) == 0


def test_collection_mixed_types_and_unknown_type(sf: Any) -> None:
    records = [
        *accounts("A"),
        {"attributes": {"type": "Contact"}, "LastName": "Doe"},
        {"attributes": {"type": "Nope__c"}, "Name": "x"},
        {"Name": "no type"},
    ]
    results = sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert [r["success"] for r in results] == [True, True, False, False]
    assert results[2]["errors"][0]["statusCode"] == "INVALID_TYPE"
    assert results[3]["errors"][0] == {
        "statusCode": "INVALID_TYPE",
        "message": "Must send a concrete entity type.",
        "fields": [],
    }


def test_collection_update_upsert_retrieve_delete(sf: Any) -> None:
    created = sf.restful("composite/sobjects", method="POST", json={"records": accounts("A", "B")})
    ids = [r["id"] for r in created]
    updates = [
        {"attributes": {"type": "Account"}, "id": ids[0], "Phone": "1"},
        {"id": ids[1], "Phone": "2"},
    ]
    assert sf.restful("composite/sobjects", method="PATCH", json={"records": updates}) == [
        {"id": ids[0], "success": True, "errors": []},
        {"id": ids[1], "success": True, "errors": []},
    ]
    upserts = [
        {"attributes": {"type": "Account"}, "Naturhome_Id__c": "U-1", "Name": "U1"},
        {"attributes": {"type": "Account"}, "Naturhome_Id__c": "U-1", "Name": "U1 again"},
        {"attributes": {"type": "Account"}, "Name": "no key"},
    ]
    results = sf.restful(
        "composite/sobjects/Account/Naturhome_Id__c", method="PATCH", json={"records": upserts}
    )
    assert results[0]["created"] is True
    assert results[1]["created"] is False
    assert results[0]["id"] == results[1]["id"]
    assert results[2]["success"] is False
    retrieved = sf.restful(
        "composite/sobjects/Account",
        params={"ids": f"{ids[0]},{ids[1]},001Nh00000ZZZZZAAA", "fields": "Name,Phone"},
    )
    assert [r and (r["Name"], r["Phone"]) for r in retrieved] == [("A", "1"), ("B", "2"), None]
    posted = sf.restful(
        "composite/sobjects/Account", method="POST", json={"ids": ids[:1], "fields": ["Name"]}
    )
    assert posted[0]["attributes"]["type"] == "Account"
    assert list(posted[0]) == [
        "attributes",
        "Name",
    ]
    deleted = sf.restful(
        "composite/sobjects", method="DELETE", params={"ids": ",".join(ids), "allOrNone": "false"}
    )
    assert deleted == [{"id": i, "success": True, "errors": []} for i in ids]
    assert count(sf) == 1


def test_collection_update_all_or_none_keeps_ids_in_rolled_back_results(sf: Any) -> None:
    ids = [
        r["id"]
        for r in sf.restful(
            "composite/sobjects", method="POST", json={"records": accounts("A", "B")}
        )
    ]
    updates = [
        {"attributes": {"type": "Account"}, "id": ids[0], "Name": "A2"},
        {"attributes": {"type": "Account"}, "id": ids[1], "Name": None},
    ]
    results = sf.restful(
        "composite/sobjects", method="PATCH", json={"allOrNone": True, "records": updates}
    )
    assert results[0] == {"id": ids[0], "success": False, "errors": [ROLLED_BACK]}
    assert results[1]["id"] == ids[1]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.Account.get(ids[0])["Name"] == "A"


def test_collections_refuse_more_than_200_records(sf: Any) -> None:
    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.restful(
            "composite/sobjects",
            method="POST",
            json={"records": accounts(*[str(i) for i in range(201)])},
        )
    assert error.value.content == [
        {
            "message": "record limit reached. cannot submit more than 200 records into this call",
            "errorCode": "EXCEEDED_ID_LIMIT",
        }
    ]


def test_a_collection_call_is_one_api_call(harness: Any, sf: Any) -> None:
    before = api_used(harness)
    sf.restful(
        "composite/sobjects",
        method="POST",
        json={"records": accounts(*[f"A{i}" for i in range(200)])},
    )
    assert api_used(harness) == before + 1
    assert count(sf) == 200


# -- composite ---------------------------------------------------------------------------------


def test_composite_references_ids_and_query_results(harness: Any, sf: Any) -> None:
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Acme"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "ctc",
                "body": {"LastName": "Doe", "AccountId": "@{acct.id}"},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/query/?q=SELECT+Id,Name+FROM+Contact"
                "+WHERE+AccountId='@{acct.id}'",
                "referenceId": "q",
            },
            {
                "method": "PATCH",
                "url": "/services/data/v59.0/sobjects/Contact/@{q.records[0].Id}",
                "referenceId": "upd",
                "body": {"FirstName": "Jane"},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Contact/@{ctc.id}?fields=Name",
                "referenceId": "read",
            },
        ],
    }
    before = api_used(harness)
    responses = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert api_used(harness) == before + 1
    assert [r["httpStatusCode"] for r in responses] == [201, 201, 200, 204, 200]
    assert [r["referenceId"] for r in responses] == ["acct", "ctc", "q", "upd", "read"]
    account_id = responses[0]["body"]["id"]
    assert responses[0]["httpHeaders"] == {
        "Location": f"/services/data/v59.0/sobjects/Account/{account_id}"
    }
    assert responses[3]["body"] is None
    assert responses[4]["body"]["Name"] == "Jane Doe"


def test_composite_all_or_none_failure_halts_and_rolls_back(sf: Any) -> None:
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "ok",
                "body": {"Name": "A"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "bad",
                "body": {"Phone": "1"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "later",
                "body": {"Name": "C"},
            },
        ],
    }
    responses = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert responses[0] == {
        "body": HALTED,
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": "ok",
    }
    assert responses[1]["httpStatusCode"] == 400
    assert responses[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert responses[2] == {
        "body": HALTED,
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": "later",
    }
    assert count(sf) == 0


def test_composite_without_all_or_none_halts_only_dependants(sf: Any) -> None:
    body = {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "bad",
                "body": {"Phone": "1"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "child",
                "body": {"LastName": "x", "AccountId": "@{bad.id}"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "ok",
                "body": {"Name": "Fine"},
            },
        ],
    }
    responses = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in responses] == [400, 400, 201]
    assert responses[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert "bad" in responses[1]["body"][0]["message"]
    assert count(sf) == 1
    assert count(sf, "Contact") == 0


def test_composite_can_carry_collections_and_outer_all_or_none_wins(sf: Any) -> None:
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/composite/sobjects",
                "referenceId": "many",
                "body": {
                    "allOrNone": False,
                    "records": [*accounts("A"), {"attributes": {"type": "Account"}}],
                },
            },
        ],
    }
    responses = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert responses[0]["httpStatusCode"] == 400
    assert count(sf) == 0


def test_composite_limits_and_reference_ids(sf: Any) -> None:
    too_many = [
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{i}"}
        for i in range(26)
    ]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": too_many})
    queries = [
        {
            "method": "GET",
            "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Account",
            "referenceId": f"q{i}",
        }
        for i in range(6)
    ]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": queries})
    duplicate = [
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "same"},
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "same"},
    ]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": duplicate})


# -- graph -------------------------------------------------------------------------------------


def _graph(graph_id: str, invoice_total: Any) -> dict[str, Any]:
    return {
        "graphId": graph_id,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": f"Acct {graph_id}"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Invoice__c",
                "referenceId": "inv",
                "body": {"Account__c": "@{acct.id}", "Total__c": invoice_total},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Invoice_Line__c",
                "referenceId": "line",
                "body": {"Name": "L1", "Invoice__c": "@{inv.id}", "Amount__c": 10},
            },
        ],
    }


def test_graph_each_graph_is_all_or_nothing(harness: Any, sf: Any) -> None:
    before = api_used(harness)
    result = sf.restful(
        "composite/graph", method="POST", json={"graphs": [_graph("g1", 100), _graph("g2", "oops")]}
    )
    assert api_used(harness) == before + 1
    first, second = result["graphs"]
    assert first["graphId"] == "g1"
    assert first["isSuccessful"] is True
    assert [r["httpStatusCode"] for r in first["graphResponse"]["compositeResponse"]] == [
        201,
        201,
        201,
    ]
    assert second["isSuccessful"] is False
    codes = [r["body"][0]["errorCode"] for r in second["graphResponse"]["compositeResponse"]]
    assert codes == ["PROCESSING_HALTED", "JSON_PARSER_ERROR", "PROCESSING_HALTED"]
    assert [r["Name"] for r in sf.query("SELECT Name FROM Account")["records"]] == ["Acct g1"]
    assert count(sf, "Invoice_Line__c") == 1


def test_graph_limits(sf: Any) -> None:
    big = {
        "graphs": [
            {
                "graphId": "g",
                "compositeRequest": [
                    {
                        "method": "POST",
                        "url": "/services/data/v59.0/sobjects/Account",
                        "referenceId": f"a{i}",
                        "body": {"Name": "x"},
                    }
                    for i in range(501)
                ],
            }
        ]
    }
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/graph", method="POST", json=big)
    not_sobject = {
        "graphs": [
            {
                "graphId": "g",
                "compositeRequest": [
                    {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "l"}
                ],
            }
        ]
    }
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/graph", method="POST", json=not_sobject)


def test_resources_need_their_minimum_api_version(harness: Any, sf: Any) -> None:
    old = sf.session.post(
        f"{harness.url}/services/data/v41.0/composite/sobjects",
        json={"records": []},
        headers=sf.headers,
    )
    assert old.status_code == 404
    graph = sf.session.post(
        f"{harness.url}/services/data/v49.0/composite/graph", json={}, headers=sf.headers
    )
    assert graph.status_code == 404
