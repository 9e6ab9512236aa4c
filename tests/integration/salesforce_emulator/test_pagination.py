"""Query batches over more than 2,000 rows: ``nextRecordsUrl`` locators, ``batchSize``,
child rows counting toward a batch, locator expiry. The rows are seeded once per module."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

ROWS = 2050
LOCATOR_URL = re.compile(r"^/services/data/v59\.0/(query|queryAll)/01g[A-Za-z0-9]{15}-(\d+)$")


@pytest.fixture(scope="module")
def loaded(module_harness: Any) -> Iterator[Any]:
    harness = module_harness
    harness.load(
        *[
            {"attributes": {"type": "Account"}, "Name": f"Bulk {i:05d}", "Rating__c": i % 10}
            for i in range(ROWS)
        ]
    )
    return harness


def test_first_page_has_2000_rows_and_a_locator(loaded: Any) -> None:
    sf = loaded.client()
    page = sf.query("SELECT Id, Name FROM Account ORDER BY Name")
    assert page["totalSize"] == ROWS
    assert page["done"] is False
    assert len(page["records"]) == 2000
    match = LOCATOR_URL.match(page["nextRecordsUrl"])
    assert match
    assert match.group(1) == "query"
    assert match.group(2) == "2000"
    rest = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] is True
    assert "nextRecordsUrl" not in rest
    assert [r["Name"] for r in rest["records"]] == [f"Bulk {i:05d}" for i in range(2000, ROWS)]


def test_query_all_iter_walks_every_page_with_one_call_per_page(loaded: Any) -> None:
    sf = loaded.client()
    loaded.control("DELETE", "/stats")
    names = [r["Name"] for r in sf.query_all_iter("SELECT Name FROM Account ORDER BY Name DESC")]
    assert names == [f"Bulk {i:05d}" for i in reversed(range(ROWS))]
    calls = loaded.stats()["calls"]
    assert calls["GET /services/data/vXX.X/query"] == 1
    assert calls["GET /services/data/vXX.X/query/{locator}"] == 1


def test_batch_size_header_sets_the_page_size_with_a_floor_of_200(loaded: Any) -> None:
    sf = loaded.client()
    options = {"Sforce-Query-Options": "batchSize=500"}
    page = sf.query("SELECT Id FROM Account", headers=options)
    assert len(page["records"]) == 500
    assert page["nextRecordsUrl"].endswith("-500")
    sizes = [len(page["records"])]
    while not page["done"]:
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True, headers=options)
        sizes.append(len(page["records"]))
    assert sizes == [500, 500, 500, 500, 50]
    small = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=10"})
    assert len(small["records"]) == 200


def test_limit_applies_before_paging_and_counts_need_no_paging(loaded: Any) -> None:
    sf = loaded.client()
    limited = sf.query("SELECT Id FROM Account LIMIT 2010")
    assert limited["totalSize"] == 2010
    assert len(limited["records"]) == 2000
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == ROWS
    assert sf.query("SELECT COUNT() FROM Account WHERE Rating__c = 3")["totalSize"] == 205


def test_query_all_locators_page_through_query_all(loaded: Any) -> None:
    sf = loaded.client()
    page = sf.query("SELECT Id FROM Account", include_deleted=True)
    match = LOCATOR_URL.match(page["nextRecordsUrl"])
    assert match
    assert match.group(1) == "queryAll"
    assert len(list(sf.query_all_iter("SELECT Id FROM Account", include_deleted=True))) == ROWS


def test_locators_expire_after_15_minutes_without_use(loaded: Any) -> None:
    sf = loaded.client()
    page = sf.query("SELECT Id FROM Account")
    loaded.advance(16 * 60)
    try:
        with pytest.raises(SalesforceMalformedRequest) as error:
            sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
        assert error.value.content == [
            {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
        ]
    finally:
        loaded.control("DELETE", "/clock")


def test_locators_are_a_snapshot_of_the_query(loaded: Any) -> None:
    sf = loaded.client()
    page = sf.query("SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk 0204%' ORDER BY Name",
                    headers={"Sforce-Query-Options": "batchSize=200"})  # fmt: skip
    assert page["done"] is True
    assert page["totalSize"] == 10
    first = sf.query("SELECT Id FROM Account ORDER BY Name")
    sf.Account.delete(first["records"][-1]["Id"])
    try:
        rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
        assert len(rest["records"]) == ROWS - 2000
    finally:
        sf.Account.create({"Name": "Bulk 01999", "Rating__c": 9})
