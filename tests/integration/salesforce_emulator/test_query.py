"""SOQL through ``sf.query``: a table of queries with the records they must return, the
shape of rows, and the errors of malformed or misnamed queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from sandbox.salesforce import Behaviour


def emulator_now(harness: Any) -> datetime:
    return datetime.fromisoformat(harness.control("GET", "").json()["now"])


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(harness: Any) -> dict[str, str]:
    now = emulator_now(harness)
    today = now.date()
    records = [
        {
            "attributes": {"type": "Account", "ref": "acme"},
            "Name": "Acme",
            "Naturhome_Id__c": "A-1",
            "Tier__c": "Gold",
            "Rating__c": 4.5,
            "Tags__c": "A;B",
        },
        {
            "attributes": {"type": "Account", "ref": "beta"},
            "Name": "Beta SA",
            "Tier__c": "Silver",
            "Rating__c": 3,
            "Tags__c": "B",
        },
        {"attributes": {"type": "Account", "ref": "gamma"}, "Name": "gamma_co", "Active__c": False},
        {
            "attributes": {"type": "Account", "ref": "delta"},
            "Name": "Delta 100%",
            "Tier__c": "Bronze",
            "Rating__c": 1,
        },
        {
            "attributes": {"type": "Contact", "ref": "c1"},
            "FirstName": "Jeanne",
            "LastName": "Dupont",
            "AccountId": "@acme",
            "Email": "jeanne@example.com",
        },
        {
            "attributes": {"type": "Contact", "ref": "c2"},
            "FirstName": "Luc",
            "LastName": "Martin",
            "AccountId": "@acme",
        },
        {
            "attributes": {"type": "Contact", "ref": "c3"},
            "LastName": "O'Brien",
            "AccountId": "@beta",
        },
        {"attributes": {"type": "Contact", "ref": "c4"}, "LastName": "Orphan"},
        {
            "attributes": {"type": "Opportunity", "ref": "o1"},
            "Name": "Maison Gouvy",
            "AccountId": "@acme",
            "StageName": "Prospecting",
            "Amount": 250000,
            "CloseDate": (today + timedelta(days=10)).isoformat(),
            "Desired_Start__c": today.isoformat(),
            "Submitted_At__c": iso(now - timedelta(days=1)),
        },
        {
            "attributes": {"type": "Opportunity", "ref": "o2"},
            "Name": "Extension",
            "AccountId": "@beta",
            "StageName": "Closed Won",
            "Amount": 50000,
            "CloseDate": (today - timedelta(days=40)).isoformat(),
            "Submitted_At__c": iso(now - timedelta(days=40)),
        },
        {
            "attributes": {"type": "Opportunity", "ref": "o3"},
            "Name": "Renovation",
            "AccountId": "@acme",
            "StageName": "Closed Lost",
            "CloseDate": "2024-01-15",
            "Submitted_At__c": "2024-01-15T10:00:00Z",
        },
    ]
    ids: dict[str, str] = harness.load(*records)["ids"]
    return ids


@pytest.fixture
def data(harness: Any) -> dict[str, str]:
    return seed(harness)


def names(result: dict[str, Any]) -> list[str]:
    return [r["Name"] for r in result["records"]]


QUERIES = [
    ("SELECT Name FROM Account WHERE Name = 'acme'", ["Acme"]),
    (
        "SELECT Name FROM Account WHERE Name != 'Acme' ORDER BY Name",
        ["Beta SA", "Delta 100%", "gamma_co"],
    ),
    (
        "SELECT Name FROM Account WHERE Name <> 'ACME' ORDER BY Name",
        ["Beta SA", "Delta 100%", "gamma_co"],
    ),
    (
        "SELECT Name FROM Account WHERE Tier__c != 'Gold' ORDER BY Name",
        ["Beta SA", "Delta 100%", "gamma_co"],
    ),
    ("SELECT Name FROM Account WHERE Rating__c > 2 ORDER BY Rating__c DESC", ["Acme", "Beta SA"]),
    ("SELECT Name FROM Account WHERE Rating__c <= 3 ORDER BY Rating__c", ["Delta 100%", "Beta SA"]),
    ("SELECT Name FROM Account WHERE Rating__c >= 3 AND Rating__c < 4.5", ["Beta SA"]),
    ("SELECT Name FROM Account WHERE Rating__c = null", ["gamma_co"]),
    (
        "SELECT Name FROM Account WHERE Rating__c != null ORDER BY Name",
        ["Acme", "Beta SA", "Delta 100%"],
    ),
    (
        "SELECT Name FROM Account WHERE Tier__c IN ('Gold', 'silver') ORDER BY Name",
        ["Acme", "Beta SA"],
    ),
    (
        "SELECT Name FROM Account WHERE Tier__c NOT IN ('Gold') ORDER BY Name",
        ["Beta SA", "Delta 100%", "gamma_co"],
    ),
    ("SELECT Name FROM Account WHERE Name LIKE 'a%'", ["Acme"]),
    ("SELECT Name FROM Account WHERE Name LIKE '%SA'", ["Beta SA"]),
    ("SELECT Name FROM Account WHERE Name LIKE '_eta%'", ["Beta SA"]),
    ("SELECT Name FROM Account WHERE Name LIKE '%\\_%'", ["gamma_co"]),
    ("SELECT Name FROM Account WHERE Name LIKE '%100\\%'", ["Delta 100%"]),
    (
        "SELECT Name FROM Account WHERE NOT Name LIKE 'a%' ORDER BY Name",
        ["Beta SA", "Delta 100%", "gamma_co"],
    ),
    (
        "SELECT Name FROM Account WHERE (Tier__c = 'Gold' OR Tier__c = 'Bronze') AND Rating__c > 2",
        ["Acme"],
    ),
    (
        "SELECT Name FROM Account WHERE Tier__c = 'Gold' OR (Tier__c = 'Silver' AND Rating__c = "
        "3) ORDER BY Name",
        ["Acme", "Beta SA"],
    ),
    (
        "SELECT Name FROM Account WHERE NOT (Tier__c = 'Gold' OR Tier__c = null) ORDER BY Name",
        ["Beta SA", "Delta 100%"],
    ),
    ("SELECT Name FROM Account WHERE Active__c = false", ["gamma_co"]),
    (
        "SELECT Name FROM Account WHERE Active__c = TRUE ORDER BY Name",
        ["Acme", "Beta SA", "Delta 100%"],
    ),
    ("SELECT Name FROM Account WHERE Tags__c INCLUDES ('A')", ["Acme"]),
    ("SELECT Name FROM Account WHERE Tags__c INCLUDES ('b') ORDER BY Name", ["Acme", "Beta SA"]),
    ("SELECT Name FROM Account WHERE Tags__c INCLUDES ('A;B', 'C')", ["Acme"]),
    ("SELECT Name FROM Account WHERE Tags__c = 'B;A'", ["Acme"]),
    ("SELECT Name FROM Account WHERE Naturhome_Id__c = 'a-1'", ["Acme"]),
    (
        "SELECT Name FROM Contact WHERE Account.Tier__c = 'Gold' ORDER BY LastName",
        ["Jeanne Dupont", "Luc Martin"],
    ),
    ("SELECT Name FROM Contact WHERE Account.Name = null", ["Orphan"]),
    ("SELECT Name FROM Contact WHERE LastName = 'O\\'Brien'", ["O'Brien"]),
    (
        "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact) ORDER BY Name",
        ["Acme", "Beta SA"],
    ),
    (
        "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Opportunity WHERE IsWon "
        "= true) "
        "ORDER BY Name",
        ["Acme", "Delta 100%", "gamma_co"],
    ),
    ("SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:30", ["Maison Gouvy"]),
    ("SELECT Name FROM Opportunity WHERE CloseDate = LAST_N_DAYS:60", ["Extension"]),
    (
        "SELECT Name FROM Opportunity WHERE CloseDate < TODAY ORDER BY CloseDate",
        ["Renovation", "Extension"],
    ),
    ("SELECT Name FROM Opportunity WHERE CloseDate > TODAY", ["Maison Gouvy"]),
    (
        "SELECT Name FROM Opportunity WHERE CloseDate >= 2024-01-15 AND CloseDate <= 2024-01-15",
        ["Renovation"],
    ),
    ("SELECT Name FROM Opportunity WHERE Desired_Start__c = TODAY", ["Maison Gouvy"]),
    ("SELECT Name FROM Opportunity WHERE Submitted_At__c = YESTERDAY", ["Maison Gouvy"]),
    ("SELECT Name FROM Opportunity WHERE Submitted_At__c = LAST_N_DAYS:7", ["Maison Gouvy"]),
    ("SELECT Name FROM Opportunity WHERE Submitted_At__c < 2024-02-01T00:00:00Z", ["Renovation"]),
    (
        "SELECT Name FROM Opportunity WHERE Submitted_At__c > 2024-01-15T11:00:00+02:00 ORDER BY "
        "Submitted_At__c",
        ["Renovation", "Extension", "Maison Gouvy"],
    ),
    (
        "SELECT Name FROM Opportunity WHERE Submitted_At__c > 2024-01-15T12:00:00+02:00 ORDER BY "
        "Submitted_At__c",
        ["Extension", "Maison Gouvy"],
    ),
    (
        "SELECT Name FROM Opportunity WHERE CreatedDate = TODAY AND CreatedDate = THIS_MONTH "
        "AND CreatedDate = THIS_YEAR AND CreatedDate > LAST_YEAR ORDER BY Name",
        ["Extension", "Maison Gouvy", "Renovation"],
    ),
    ("SELECT Name FROM Opportunity WHERE CreatedDate = LAST_MONTH OR CreatedDate = TOMORROW", []),
    (
        "SELECT Name FROM Opportunity WHERE IsClosed = true ORDER BY Name",
        ["Extension", "Renovation"],
    ),
    ("SELECT Name FROM Account ORDER BY Rating__c", ["gamma_co", "Delta 100%", "Beta SA", "Acme"]),
    (
        "SELECT Name FROM Account ORDER BY Rating__c ASC NULLS LAST",
        ["Delta 100%", "Beta SA", "Acme", "gamma_co"],
    ),
    (
        "SELECT Name FROM Account ORDER BY Rating__c DESC",
        ["Acme", "Beta SA", "Delta 100%", "gamma_co"],
    ),
    (
        "SELECT Name FROM Account ORDER BY Rating__c DESC NULLS FIRST",
        ["gamma_co", "Acme", "Beta SA", "Delta 100%"],
    ),
    (
        "SELECT Name FROM Account ORDER BY Active__c, Name DESC",
        ["gamma_co", "Delta 100%", "Beta SA", "Acme"],
    ),
    ("SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1", ["Beta SA", "Delta 100%"]),
    (
        "SELECT Name FROM Contact ORDER BY Account.Name NULLS LAST, FirstName DESC",
        ["Luc Martin", "Jeanne Dupont", "O'Brien", "Orphan"],
    ),
    ("select name from account where name like 'ACME' limit 1", ["Acme"]),
]


@pytest.mark.parametrize(("soql", "expected"), QUERIES)
def test_query_table(sf: Any, data: dict[str, str], soql: str, expected: list[str]) -> None:
    result = sf.query(soql)
    assert names(result) == expected
    assert result["totalSize"] == len(expected)
    assert result["done"] is True


def test_not_equal_keeps_nulls_unless_switched_off(make_harness: Any) -> None:
    for keep, expected in (
        (True, ["Beta SA", "Delta 100%", "gamma_co"]),
        (False, ["Beta SA", "Delta 100%"]),
    ):
        harness = make_harness(behaviour=Behaviour(null_matches_not_equal=keep))
        seed(harness)
        sf = harness.client()
        assert (
            names(sf.query("SELECT Name FROM Account WHERE Tier__c != 'Gold' ORDER BY Name"))
            == expected
        )
        assert (
            names(sf.query("SELECT Name FROM Account WHERE Tier__c NOT IN ('Gold') ORDER BY Name"))
            == expected
        )


def test_rows_have_attributes_canonical_names_and_nested_parents(
    sf: Any, data: dict[str, str]
) -> None:
    soql = (
        "select name, account.NAME, Account.Owner.Name, ACCOUNT.Tier__c from contact where "
        "lastname = 'Dupont'"
    )
    [row] = sf.query(soql)["records"]
    owner = sf.query("SELECT Id, Name FROM User")["records"][0]
    assert row == {
        "attributes": {
            "type": "Contact",
            "url": f"/services/data/v59.0/sobjects/Contact/{data['c1']}",
        },
        "Name": "Jeanne Dupont",
        "Account": {
            "attributes": {
                "type": "Account",
                "url": f"/services/data/v59.0/sobjects/Account/{data['acme']}",
            },
            "Name": "Acme",
            "Owner": {
                "attributes": {
                    "type": "User",
                    "url": f"/services/data/v59.0/sobjects/User/{owner['Id']}",
                },
                "Name": owner["Name"],
            },
            "Tier__c": "Gold",
        },
    }
    [orphan] = sf.query("SELECT LastName, Account.Name FROM Contact WHERE LastName = 'Orphan'")[
        "records"
    ]
    assert orphan["Account"] is None


def test_child_subqueries(sf: Any, data: dict[str, str]) -> None:
    soql = (
        "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName DESC), "
        "(SELECT Name FROM Opportunities WHERE IsClosed = false) FROM Account ORDER BY Name"
    )
    rows = {r["Name"]: r for r in sf.query(soql)["records"]}
    contacts = rows["Acme"]["Contacts"]
    assert contacts["totalSize"] == 2
    assert contacts["done"] is True
    assert [c["LastName"] for c in contacts["records"]] == ["Martin", "Dupont"]
    assert contacts["records"][0]["attributes"]["type"] == "Contact"
    assert [o["Name"] for o in rows["Acme"]["Opportunities"]["records"]] == ["Maison Gouvy"]
    assert rows["Beta SA"]["Opportunities"] is None
    assert rows["gamma_co"]["Contacts"] is None


def test_custom_child_relationships_and_parent_paths(sf: Any, data: dict[str, str]) -> None:
    invoice = sf.Invoice__c.create({"Opportunity__c": data["o1"], "Total__c": 100})["id"]
    for seq in (2, 1):
        sf.Invoice_Line__c.create({"Name": f"L{seq}", "Invoice__c": invoice, "Sequence__c": seq})
    soql = (
        "SELECT Name, Opportunity__r.Account.Name, (SELECT Name, Sequence__c FROM Invoice_Lines__r "
        "ORDER BY Sequence__c) FROM Invoice__c"
    )
    [row] = sf.query(soql)["records"]
    assert row["Opportunity__r"]["Account"]["Name"] == "Acme"
    assert [(line["Name"], line["Sequence__c"]) for line in row["Invoice_Lines__r"]["records"]] == [
        ("L1", 1.0),
        ("L2", 2.0),
    ]


def test_polymorphic_parents_and_derived_task_fields(sf: Any, data: dict[str, str]) -> None:
    sf.Task.create({"Subject": "Call back", "WhatId": data["o1"], "Status": "Completed"})
    sf.Task.create({"Subject": "Send plan", "WhatId": data["beta"]})
    rows = sf.query(
        "SELECT Subject, What.Name, Account.Name, IsClosed, Status FROM Task ORDER BY Subject"
    )
    assert [
        (r["Subject"], r["What"]["Name"], r["What"]["attributes"]["type"], r["Account"]["Name"])
        for r in rows["records"]
    ] == [
        ("Call back", "Maison Gouvy", "Opportunity", "Acme"),
        ("Send plan", "Beta SA", "Account", "Beta SA"),
    ]
    assert [(r["IsClosed"], r["Status"]) for r in rows["records"]] == [
        (True, "Completed"),
        (False, "Not Started"),
    ]
    [opp] = sf.query(
        f"SELECT (SELECT Subject FROM Tasks) FROM Opportunity WHERE Id = '{data['o1']}'"
    )["records"]
    assert [t["Subject"] for t in opp["Tasks"]["records"]] == ["Call back"]


def test_counts_and_aggregates(sf: Any, data: dict[str, str]) -> None:
    counted = sf.query("SELECT COUNT() FROM Contact WHERE AccountId != null")
    assert counted == {"totalSize": 3, "done": True, "records": []}
    aggregate = sf.query("SELECT COUNT(Id), MAX(Rating__c) best FROM Account")
    assert aggregate["records"] == [
        {"attributes": {"type": "AggregateResult"}, "expr0": 4, "best": 4.5}
    ]


def test_ids_may_be_given_with_15_characters(sf: Any, data: dict[str, str]) -> None:
    soql = format_soql(
        "SELECT Name FROM Account WHERE Id = {} OR Id IN {}", data["acme"][:15], [data["beta"]]
    )
    assert sorted(names(sf.query(soql))) == ["Acme", "Beta SA"]


def test_query_all_includes_deleted_rows(sf: Any, data: dict[str, str]) -> None:
    sf.Contact.delete(data["c4"])
    assert "Orphan" not in names(sf.query("SELECT Name FROM Contact"))
    deleted = sf.query_all(
        "SELECT Name, IsDeleted FROM Contact WHERE IsDeleted = true", include_deleted=True
    )
    assert [(r["Name"], r["IsDeleted"]) for r in deleted["records"]] == [("Orphan", True)]


def test_fields_all_needs_a_limit(sf: Any, data: dict[str, str]) -> None:
    [row] = sf.query("SELECT FIELDS(ALL) FROM Account WHERE Name = 'Acme' LIMIT 1")["records"]
    assert row["Tier__c"] == "Gold"
    assert "CreatedDate" in row
    assert "Naturhome_Id__c" in row


ERRORS = [
    ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"),
    (
        "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
        "MALFORMED_QUERY",
        "unexpected token: 'OR'",
    ),
    ("SELECT Id FROM Account GROUP BY Name", "MALFORMED_QUERY", "unexpected token: 'GROUP'"),
    ("SELECT Id, FROM Account", "MALFORMED_QUERY", "unexpected token"),
    ("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS", "MALFORMED_QUERY", "LAST_N_DAYS"),
    ("SELECT Id FROM Account WHERE CreatedDate = SOMEDAY", "MALFORMED_QUERY", "SOMEDAY"),
    ("SELECT Id FROM Account WHERE Name = 'bad\\q'", "MALFORMED_QUERY", "Illegal escape sequence"),
    (
        "SELECT Id FROM Nope__c",
        "INVALID_TYPE",
        "\nSELECT Id FROM Nope__c\n               ^\nERROR at Row:1:Column:16\nsObject type "
        "'Nope__c' is not "
        "supported. If you are attempting to use a custom object, be sure to append the '__c' "
        "after the entity "
        "name. Please reference your WSDL or the describe call for the appropriate names.",
    ),
    (
        "SELECT Id, Nope__c FROM Account",
        "INVALID_FIELD",
        "\nSELECT Id, Nope__c FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such "
        "column 'Nope__c' on "
        "entity 'Account'. If you are attempting to use a custom field, be sure to append the "
        "'__c' after the "
        "custom field name. Please reference your WSDL or the describe call for the appropriate "
        "names.",
    ),
    (
        "SELECT Foo.Name FROM Contact",
        "INVALID_FIELD",
        "Didn't understand relationship 'Foo' in field path.",
    ),
    (
        "SELECT Id, (SELECT Id FROM Nopes) FROM Account",
        "INVALID_TYPE",
        "Didn't understand relationship 'Nopes' in FROM part of query call.",
    ),
    (
        "SELECT Id FROM Account WHERE Rating__c = '4'",
        "INVALID_FIELD",
        "value of filter criterion for field 'Rating__c' must be of type double and should not be "
        "enclosed in quotes",
    ),
    (
        "SELECT Id FROM Account WHERE Name = 4",
        "INVALID_FIELD",
        "value of filter criterion for field 'Name' must be of type string and should be enclosed "
        "in quotes",
    ),
    (
        "SELECT Id FROM Opportunity WHERE CloseDate = 2024-01-01T00:00:00Z",
        "INVALID_FIELD",
        "value of filter criterion for field 'CloseDate' must be of type date and should not be "
        "enclosed in quotes",
    ),
    (
        "SELECT Id FROM Opportunity WHERE Submitted_At__c = 2024-01-01",
        "INVALID_FIELD",
        "must be of type dateTime",
    ),
    (
        "SELECT Id FROM Account WHERE Id = 'abc'",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid ID field: abc",
    ),
    (
        "SELECT Id FROM Opportunity WHERE Notes__c = 'x'",
        "INVALID_FIELD",
        "field 'Notes__c' can not be filtered in a query call",
    ),
    (
        "SELECT Id FROM Account ORDER BY Tags__c",
        "INVALID_FIELD",
        "field 'Tags__c' can not be sorted in a query call",
    ),
    (
        "SELECT Id FROM Account OFFSET 2001",
        "NUMBER_OUTSIDE_VALID_RANGE",
        "Maximum SOQL offset allowed is 2000",
    ),
    (
        "SELECT Id FROM ContentDocumentLink",
        "MALFORMED_QUERY",
        "Implementation restriction: ContentDocumentLink requires a filter by a single Id on "
        "ContentDocumentId or "
        "LinkedEntityId using the equals operator or multiple Id's using the IN operator.",
    ),
    (
        "SELECT FIELDS(ALL) FROM Account",
        "MALFORMED_QUERY",
        "The SOQL FIELDS function must have a LIMIT of at most 200",
    ),
    ("SELECT COUNT(), Name FROM Account", "MALFORMED_QUERY", "unexpected token"),
    (
        "SELECT Name, COUNT(Id) FROM Account",
        "MALFORMED_QUERY",
        "Field must be grouped or aggregated: Name",
    ),
]


@pytest.mark.parametrize(("soql", "code", "message"), ERRORS)
def test_query_errors(sf: Any, soql: str, code: str, message: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.query(soql)
    assert error.value.status == 400
    [entry] = error.value.content
    assert set(entry) == {"message", "errorCode"}
    assert entry["errorCode"] == code
    assert message in entry["message"]


def test_relative_ranges_start_at_midnight_in_the_org_time_zone(make_harness: Any) -> None:
    harness = make_harness(
        org_timezone="Pacific/Kiritimati"
    )  # UTC+14: its today is often UTC's tomorrow
    sf = harness.client()
    local_today = datetime.now(UTC).astimezone(harness.emulator.org.clock.zone).date()
    sf.Opportunity.create(
        {"Name": "x", "StageName": "Prospecting", "CloseDate": local_today.isoformat()}
    )
    sf.Opportunity.create(
        {
            "Name": "y",
            "StageName": "Prospecting",
            "CloseDate": (local_today - timedelta(days=1)).isoformat(),
        }
    )
    assert names(sf.query("SELECT Name FROM Opportunity WHERE CloseDate = TODAY")) == ["x"]
    assert names(sf.query("SELECT Name FROM Opportunity WHERE CloseDate = YESTERDAY")) == ["y"]
    assert isinstance(local_today, date)


def test_child_rows_count_toward_the_batch(harness: Any) -> None:
    records: list[dict[str, Any]] = []
    for a in range(3):
        records.append(
            {"attributes": {"type": "Account", "ref": f"acct{a}"}, "Name": f"Parent {a}"}
        )
        records += [
            {"attributes": {"type": "Contact"}, "LastName": f"C{a}-{c}", "AccountId": f"@acct{a}"}
            for c in range(150)
        ]
    harness.load(*records)
    sf = harness.client()
    options = {"Sforce-Query-Options": "batchSize=200"}
    page = sf.query(
        "SELECT Name, (SELECT Id FROM Contacts) FROM Account ORDER BY Name", headers=options
    )
    pages = [page]
    while not page["done"]:
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True, headers=options)
        pages.append(page)
    assert [len(p["records"]) for p in pages] == [1, 1, 1]
    assert all(p["records"][0]["Contacts"]["totalSize"] == 150 for p in pages)
