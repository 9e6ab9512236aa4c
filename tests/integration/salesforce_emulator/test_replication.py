"""getUpdated / getDeleted (``sf.Obj.updated()`` / ``.deleted()``) and the SystemModstamp
cursor pattern the polling flows rely on."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def now(harness: Any) -> datetime:
    return datetime.fromisoformat(harness.control("GET", "").json()["now"])


def test_updated_lists_ids_changed_in_the_window(harness: Any, sf: Any) -> None:
    start = now(harness) - timedelta(minutes=5)
    old = sf.Account.create({"Name": "old"})["id"]
    harness.advance(600)
    middle = now(harness)
    fresh = sf.Account.create({"Name": "fresh"})["id"]
    harness.advance(120)
    end = now(harness)
    everything = sf.Account.updated(start, end)
    assert set(everything["ids"]) == {old, fresh}
    recent = sf.Account.updated(middle - timedelta(minutes=1), end)
    assert recent["ids"] == [fresh]
    assert recent["latestDateCovered"] == end.replace(second=0, microsecond=0).strftime(
        "%Y-%m-%dT%H:%M:00.000+0000"
    )
    sf.Account.update(old, {"Phone": "1"})
    harness.advance(120)
    assert set(sf.Account.updated(end - timedelta(minutes=1), now(harness))["ids"]) == {old}


def test_deleted_lists_recycled_records_with_their_date(harness: Any, sf: Any) -> None:
    start = now(harness) - timedelta(minutes=1)
    keep = sf.Account.create({"Name": "keep"})["id"]
    gone = sf.Account.create({"Name": "gone"})["id"]
    sf.Account.delete(gone)
    harness.advance(120)
    result = sf.Account.deleted(start, now(harness))
    assert [r["id"] for r in result["deletedRecords"]] == [gone]
    assert result["deletedRecords"][0]["deletedDate"].endswith("+0000")
    assert set(result) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}
    assert sf.Account.updated(start, now(harness))["ids"] == [keep]


def test_windows_are_checked(harness: Any, sf: Any) -> None:
    current = now(harness)
    with pytest.raises(SalesforceMalformedRequest) as too_old:
        sf.Account.updated(current - timedelta(days=31), current)
    assert too_old.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    with pytest.raises(SalesforceMalformedRequest):
        sf.Account.deleted(current - timedelta(days=16), current)
    with pytest.raises(SalesforceMalformedRequest):
        sf.Account.updated(current, current - timedelta(hours=1))


def test_system_modstamp_cursor_pattern(harness: Any, sf: Any) -> None:
    first = sf.Account.create({"Name": "a"})["id"]
    harness.advance(5)
    second = sf.Account.create({"Name": "b"})["id"]
    [row] = sf.query(f"SELECT SystemModstamp FROM Account WHERE Id = '{first}'")["records"]
    mark = datetime.strptime(row["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    soql = (
        "SELECT Id FROM Account WHERE SystemModstamp > {} ORDER BY SystemModstamp, Id LIMIT 2000"
    ).format(mark.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
    assert [r["Id"] for r in sf.query(soql)["records"]] == [second]
    harness.advance(5)
    sf.Account.update(first, {"Phone": "2"})
    assert [r["Id"] for r in sf.query(soql)["records"]] == [second, first]
