"""The SOQL parser and relative date ranges, called directly."""

from __future__ import annotations

from datetime import date

import pytest

from sandbox.salesforce.errors import SfError
from sandbox.salesforce.soql import ast
from sandbox.salesforce.soql.dates import day_range, takes_argument
from sandbox.salesforce.soql.parser import parse


def test_full_query_shape() -> None:
    query = parse(
        "SELECT Id, Account.Owner.Name, (SELECT Id FROM Contacts WHERE LastName != null LIMIT 5) "
        "FROM Account WHERE (Name LIKE 'A\\%%' OR Rating__c >= -1.5) AND NOT Tier__c IN ('Gold', "
        "'Silver') "
        "ORDER BY Name DESC NULLS LAST, Id LIMIT 10 OFFSET 20"
    )
    assert query.sobject == "Account"
    assert query.limit == 10
    assert query.offset == 20
    assert isinstance(query.select[1], ast.FieldItem)
    assert query.select[1].path.parts == ("Account", "Owner", "Name")
    sub = query.select[2]
    assert isinstance(sub, ast.SubqueryItem)
    assert sub.query.sobject == "Contacts"
    assert sub.query.limit == 5
    assert isinstance(query.where, ast.And)
    either, negated = query.where.items
    assert isinstance(either, ast.Or)
    assert isinstance(negated, ast.Not)
    like = either.items[0]
    assert isinstance(like, ast.Comparison)
    assert like.op == "LIKE"
    assert like.values[0].value == "A\\%%"
    assert isinstance(negated.item, ast.Comparison)
    assert negated.item.op == "IN"
    assert [o.descending for o in query.order] == [True, False]
    assert query.order[0].nulls_first is False
    assert query.order[1].nulls_first is None


@pytest.mark.parametrize(
    ("text", "kind", "value", "n"),
    [
        ("'it\\'s \\\\ \\n'", "string", "it's \\ \n", None),
        ("42", "number", "42", None),
        ("-0.5", "number", "-0.5", None),
        ("2024-01-31", "date", "2024-01-31", None),
        ("2024-01-31T10:00:00Z", "datetime", "2024-01-31T10:00:00Z", None),
        ("2024-01-31T10:00:00.123+01:00", "datetime", "2024-01-31T10:00:00.123+01:00", None),
        ("TRUE", "boolean", "true", None),
        ("null", "null", "null", None),
        ("today", "date_literal", "TODAY", None),
        ("LAST_N_DAYS:30", "date_literal", "LAST_N_DAYS", 30),
    ],
)
def test_literals(text: str, kind: str, value: str, n: int | None) -> None:
    where = parse(f"SELECT Id FROM X WHERE F = {text}").where
    assert isinstance(where, ast.Comparison)
    literal = where.values[0]
    assert (literal.kind, literal.value, literal.n) == (kind, value, n)


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT FROM Account",
        "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
        "SELECT Id FROM Account WHERE Name LIKE 'A%' GROUP BY Name",
        "SELECT Id FROM Account LIMIT -1",
        "SELECT Id FROM Account WHERE Name = 'unterminated",
        "SELECT Id FROM Account WHERE Name = 'x' trailing",
        "SELECT Id FROM Account WHERE CreatedDate = 2024-01-31T10:00:00",
        "SELECT Id FROM Account WHERE Name = 'bad\\q'",
        "DELETE FROM Account",
    ],
)
def test_malformed_queries(soql: str) -> None:
    with pytest.raises(SfError) as error:
        parse(soql)
    assert error.value.code == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:" in error.value.message


def test_error_position_points_at_the_token() -> None:
    with pytest.raises(SfError) as error:
        parse("SELECT Id\nFROM Account\nWHERE Name = 'a' OR Name = 'b' AND Id = null")
    assert error.value.message == (
        "\nWHERE Name = 'a' OR Name = 'b' AND Id = null\n                               ^\n"
        "ERROR at Row:3:Column:32\nunexpected token: 'AND'"
    )


TODAY = date(2026, 3, 18)  # a Wednesday


@pytest.mark.parametrize(
    ("name", "n", "start", "end"),
    [
        ("TODAY", None, date(2026, 3, 18), date(2026, 3, 19)),
        ("YESTERDAY", None, date(2026, 3, 17), date(2026, 3, 18)),
        ("TOMORROW", None, date(2026, 3, 19), date(2026, 3, 20)),
        ("LAST_N_DAYS", 3, date(2026, 3, 15), date(2026, 3, 19)),
        ("NEXT_N_DAYS", 3, date(2026, 3, 19), date(2026, 3, 22)),
        ("N_DAYS_AGO", 2, date(2026, 3, 16), date(2026, 3, 17)),
        ("THIS_WEEK", None, date(2026, 3, 15), date(2026, 3, 22)),
        ("LAST_WEEK", None, date(2026, 3, 8), date(2026, 3, 15)),
        ("THIS_MONTH", None, date(2026, 3, 1), date(2026, 4, 1)),
        ("LAST_MONTH", None, date(2026, 2, 1), date(2026, 3, 1)),
        ("NEXT_MONTH", None, date(2026, 4, 1), date(2026, 5, 1)),
        ("LAST_N_MONTHS", 2, date(2026, 1, 1), date(2026, 3, 1)),
        ("THIS_QUARTER", None, date(2026, 1, 1), date(2026, 4, 1)),
        ("LAST_QUARTER", None, date(2025, 10, 1), date(2026, 1, 1)),
        ("THIS_YEAR", None, date(2026, 1, 1), date(2027, 1, 1)),
        ("LAST_N_YEARS", 2, date(2024, 1, 1), date(2026, 1, 1)),
        ("LAST_90_DAYS", None, date(2025, 12, 18), date(2026, 3, 19)),
    ],
)
def test_relative_date_ranges(name: str, n: int | None, start: date, end: date) -> None:
    assert day_range(name, n, TODAY, week_starts_on_monday=False) == (start, end)


def test_weeks_can_start_on_monday() -> None:
    assert day_range("THIS_WEEK", None, TODAY, week_starts_on_monday=True) == (
        date(2026, 3, 16),
        date(2026, 3, 23),
    )


def test_literal_arguments() -> None:
    assert takes_argument("LAST_N_DAYS") is True
    assert takes_argument("TODAY") is False
    assert takes_argument("SOMEDAY") is None
