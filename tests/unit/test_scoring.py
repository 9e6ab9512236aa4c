"""Lead scoring: rule kinds, clamping, priorities, the French breakdown, load-time checks."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jobs.scoring import ScoringRules, check_scoring, load_scoring, score, shipped_scoring_file
from naturhome_sync.errors import ConfigurationError
from naturhome_sync.sfschema import Schema, load_schema

TODAY = date(2026, 1, 15)

RULES = """
version: 1
priorities: {P1: 60, P2: 30}
rules:
  - kind: bands
    label: Budget
    field: Budget__c
    unit: €
    bands:
      - {min: 0, points: -10}
      - {min: 150000, points: 5}
      - {min: 400000, points: 25}
  - kind: values
    label: Type de projet
    field: Project_Type__c
    points: {New build: 20, Extension: 10, Renovation: 0}
  - kind: postal_codes
    label: Situation du chantier
    country_field: Site_Country__c
    postal_code_field: Site_Postal_Code__c
    regions:
      - {name: province de Luxembourg, country: BE, ranges: ["6600-6999"], points: 20}
      - {name: Grand-Duché, country: LU, points: 18}
      - {name: Liège, country: BE, ranges: ["4000-4999", "4700"], points: 12}
      - {name: reste de la Belgique, country: BE, points: 4}
  - kind: months_until
    label: Démarrage souhaité
    field: Desired_Start__c
    bands:
      - {max: 3, points: 10}
      - {max: 12, points: 15}
  - kind: completeness
    label: Demande détaillée
    mode: proportional
    points: 10
    fields: [Budget__c, Living_Area_m2__c, Desired_Start__c, Description]
"""


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def write(folder: Path, content: str) -> Path:
    path = folder / "scoring.yaml"
    path.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


@pytest.fixture
def rules(tmp_path: Path, schema: Schema) -> ScoringRules:
    return load_scoring(write(tmp_path, RULES), schema)


def evaluate(rules: ScoringRules, index: int, **fields: Any) -> tuple[int, str] | None:
    """What one rule of RULES gives on its own."""
    return rules.rules[index].evaluate(fields, TODAY)


# --- rule kinds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (Decimal("450000.00"), (25, "+25 Budget de 450 000 € (≥ 400 000 €)")),
        (Decimal("400000"), (25, "+25 Budget de 400 000 € (≥ 400 000 €)")),
        (Decimal("399999.99"), (5, "+5 Budget de 399 999,99 € (≥ 150 000 €)")),
        (250000.0, (5, "+5 Budget de 250 000 € (≥ 150 000 €)")),  # as Salesforce returns it
        ("150000", (5, "+5 Budget de 150 000 € (≥ 150 000 €)")),
        (Decimal("90000"), (-10, "-10 Budget de 90 000 € (≥ 0 €)")),
        (None, None),
        ("", None),
        ("beaucoup", None),
    ],
)
def test_bands(rules: ScoringRules, budget: Any, expected: Any) -> None:
    assert evaluate(rules, 0, Budget__c=budget) == expected


def test_bands_below_the_first_band_give_nothing(tmp_path: Path, schema: Schema) -> None:
    strict = load_scoring(
        write(tmp_path, RULES.replace("{min: 0, points: -10}", "{min: 1, points: 1}")), schema
    )
    assert strict.rules[0].evaluate({"Budget__c": Decimal("0.50")}, TODAY) is None


def test_values_show_the_french_picklist_label(rules: ScoringRules) -> None:
    assert evaluate(rules, 1, Project_Type__c="New build") == (
        20,
        "+20 Type de projet : Construction neuve",
    )
    assert evaluate(rules, 1, Project_Type__c="extension") == (10, "+10 Type de projet : Extension")
    assert evaluate(rules, 1, Project_Type__c="Chalet") is None
    assert evaluate(rules, 1) is None
    # a rule worth 0 points writes no line
    assert score(rules, {"Project_Type__c": "Renovation"}, TODAY).lines == []


@pytest.mark.parametrize(
    ("country", "postal_code", "expected"),
    [
        ("BE", "6670", (20, "+20 Situation du chantier : province de Luxembourg (BE 6670)")),
        ("BE", "B-6600", (20, "+20 Situation du chantier : province de Luxembourg (BE 6600)")),
        ("BE", "4700", (12, "+12 Situation du chantier : Liège (BE 4700)")),
        ("BE", "1000", (4, "+4 Situation du chantier : reste de la Belgique (BE 1000)")),
        ("BE", None, (4, "+4 Situation du chantier : reste de la Belgique (BE)")),
        ("LU", "L-9912", (18, "+18 Situation du chantier : Grand-Duché (LU 9912)")),
        ("lu", "", (18, "+18 Situation du chantier : Grand-Duché (LU)")),
        ("FR", "57000", None),
        (None, "6670", None),
    ],
)
def test_postal_codes_first_matching_region(
    rules: ScoringRules, country: str | None, postal_code: str | None, expected: Any
) -> None:
    assert evaluate(rules, 2, Site_Country__c=country, Site_Postal_Code__c=postal_code) == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2026, 1, 1), "+10 Démarrage souhaité en janvier 2026, dès que possible (≤ 3 mois)"),
        (date(2025, 6, 1), "+10 Démarrage souhaité en juin 2025, dès que possible (≤ 3 mois)"),
        (date(2026, 2, 20), "+10 Démarrage souhaité le 20 février 2026, dans 1 mois (≤ 3 mois)"),
        (date(2026, 4, 15), "+10 Démarrage souhaité le 15 avril 2026, dans 3 mois (≤ 3 mois)"),
        (date(2026, 5, 14), "+10 Démarrage souhaité le 14 mai 2026, dans 3 mois (≤ 3 mois)"),
        (date(2026, 5, 15), "+15 Démarrage souhaité le 15 mai 2026, dans 4 mois (≤ 12 mois)"),
        ("2027-01-01", "+15 Démarrage souhaité en janvier 2027, dans 11 mois (≤ 12 mois)"),
        (date(2027, 3, 1), None),
        ("bientôt", None),
    ],
)
def test_months_until(rules: ScoringRules, start: Any, expected: str | None) -> None:
    outcome = evaluate(rules, 3, Desired_Start__c=start)
    assert (outcome[1] if outcome else None) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"Budget__c": 1, "Living_Area_m2__c": 1, "Desired_Start__c": TODAY, "Description": "x"},
            (10, "+10 Demande détaillée (4 informations sur 4)"),
        ),
        (
            {"Budget__c": 1, "Description": "x", "Living_Area_m2__c": " "},
            (5, "+5 Demande détaillée (2 informations sur 4)"),
        ),
        ({"Description": "x"}, (3, "+3 Demande détaillée (1 information sur 4)")),  # 2.5 -> 3
        ({"Description": ""}, (0, "+0 Demande détaillée (0 informations sur 4)")),
    ],
)
def test_completeness_proportional(
    rules: ScoringRules, fields: dict[str, Any], expected: tuple[int, str]
) -> None:
    assert evaluate(rules, 4, **fields) == expected


def test_completeness_all_or_nothing(tmp_path: Path, schema: Schema) -> None:
    strict = load_scoring(
        write(tmp_path, RULES.replace("mode: proportional", "mode: all_or_nothing")), schema
    )
    full = {
        "Budget__c": 0,
        "Living_Area_m2__c": 100,
        "Desired_Start__c": "2030-01-01",
        "Description": "x",
    }
    assert strict.rules[4].evaluate(full, TODAY) == (
        10,
        "+10 Demande détaillée (4 informations sur 4)",
    )
    partial = {**full, "Description": None}
    assert strict.rules[4].evaluate(partial, TODAY) == (
        0,
        "+0 Demande détaillée (3 informations sur 4)",
    )
    assert not any("Demande détaillée" in line for line in score(strict, partial, TODAY).lines)


# --- totals, clamping, priorities, breakdown --------------------------------------------


def test_hot_lead_is_clamped_to_100_and_p1(rules: ScoringRules) -> None:
    result = score(
        rules,
        {
            "Budget__c": Decimal("650000"),
            "Project_Type__c": "New build",
            "Site_Country__c": "BE",
            "Site_Postal_Code__c": "6670",
            "Desired_Start__c": date(2026, 9, 1),
            "Living_Area_m2__c": Decimal("200"),
            "Description": "Maison passive",
        },
        TODAY,
    )
    # 25 + 20 + 20 + 15 + 10 = 90: not clamped yet
    assert (result.score, result.priority) == (90, "P1")
    assert result.breakdown == "\n".join(
        [
            "+25 Budget de 650 000 € (≥ 400 000 €)",
            "+20 Type de projet : Construction neuve",
            "+20 Situation du chantier : province de Luxembourg (BE 6670)",
            "+15 Démarrage souhaité en septembre 2026, dans 7 mois (≤ 12 mois)",
            "+10 Demande détaillée (4 informations sur 4)",
        ]
    )
    assert result.lines == result.breakdown.split("\n")
    generous = dataclasses.replace(rules, rules=rules.rules[:3] * 2)
    doubled = score(
        generous,
        {
            "Budget__c": 650000,
            "Project_Type__c": "New build",
            "Site_Country__c": "BE",
            "Site_Postal_Code__c": "6670",
        },
        TODAY,
    )
    assert doubled.score == 100  # 130 before clamping
    assert len(doubled.lines) == 6


def test_negative_total_is_clamped_to_zero(rules: ScoringRules) -> None:
    budget_only = dataclasses.replace(rules, rules=rules.rules[:1])
    result = score(budget_only, {"Budget__c": 20000}, TODAY)
    assert (result.score, result.priority, result.lines) == (
        0,
        "P3",
        ["-10 Budget de 20 000 € (≥ 0 €)"],
    )


@pytest.mark.parametrize(
    ("fields", "total", "priority"),
    [
        # budget + type + site + completeness (1 of 4 fields: 3 points)
        ({"Budget__c": 400000, "Project_Type__c": "New build", "Site_Country__c": "LU"}, 66, "P1"),
        ({"Budget__c": 400000, "Project_Type__c": "New build", "Site_Country__c": "BE"}, 52, "P2"),
        ({"Budget__c": 150000, "Project_Type__c": "New build", "Site_Country__c": "BE"}, 32, "P2"),
        ({"Project_Type__c": "New build", "Site_Country__c": "BE"}, 24, "P3"),
    ],
)
def test_priority_thresholds(
    rules: ScoringRules, fields: dict[str, Any], total: int, priority: str
) -> None:
    result = score(rules, fields, TODAY)
    assert (result.score, result.priority) == (total, priority), result.lines


def test_threshold_is_inclusive(tmp_path: Path, schema: Schema) -> None:
    exact = load_scoring(
        write(tmp_path, RULES.replace("{P1: 60, P2: 30}", "{P1: 28, P2: 20}")), schema
    )
    assert score(exact, {"Budget__c": 400000}, TODAY).score == 28  # 25 + 3 for completeness
    assert score(exact, {"Budget__c": 400000}, TODAY).priority == "P1"
    assert score(exact, {"Project_Type__c": "New build"}, TODAY).priority == "P2"
    assert score(exact, {"Project_Type__c": "Extension"}, TODAY).priority == "P3"


def test_empty_request_scores_zero_without_breakdown(rules: ScoringRules) -> None:
    result = score(rules, {}, TODAY)
    assert (result.score, result.priority, result.breakdown, result.lines) == (0, "P3", "", [])
    assert result.fields() == {"Score__c": 0, "Priority__c": "P3", "Score_Breakdown__c": None}


def test_breakdown_fits_the_field(rules: ScoringRules) -> None:
    assert rules.breakdown_max_length == 32768  # read from the schema
    tiny = dataclasses.replace(rules, breakdown_max_length=20)
    result = score(tiny, {"Budget__c": 450000, "Project_Type__c": "New build"}, TODAY)
    assert result.breakdown == "+25 Budget de 450 0…"
    assert len(result.lines) == 3
    assert result.fields()["Score_Breakdown__c"] == result.breakdown


# --- shipped rules -----------------------------------------------------------------------------


def test_shipped_rules_load_and_rank_sensibly(schema: Schema) -> None:
    shipped = load_scoring(shipped_scoring_file(), schema)
    assert check_scoring(shipped_scoring_file(), schema) == []
    dream = {
        "Budget__c": Decimal("650000"),
        "Project_Type__c": "New build",
        "Site_Country__c": "LU",
        "Site_Postal_Code__c": "L-9910",
        "Desired_Start__c": date(2026, 9, 1),
        "Living_Area_m2__c": Decimal("210"),
        "Description": "x",
        "Site_Street__c": "x",
        "Site_City__c": "Troisvierges",
    }
    vague = {
        "Project_Type__c": "Renovation",
        "Site_Country__c": "BE",
        "Site_Postal_Code__c": "1000",
    }
    assert score(shipped, dream, TODAY).priority == "P1"
    assert score(shipped, dream, TODAY).score == 100
    assert score(shipped, vague, TODAY).priority == "P3"


# --- load-time checks ----------------------------------------------------------------------------


def replaced(old: str, new: str) -> str:
    assert old in RULES, old
    return RULES.replace(old, new, 1)


BROKEN: list[tuple[str, str, str | None, str]] = [
    ("yaml", "rules: [\n", None, "invalid YAML"),
    (
        "unknown kind",
        replaced("kind: completeness", "kind: completude"),
        "rules[4].kind",
        "expected a kind: bands, values, months_until, postal_codes, completeness",
    ),
    (
        "unknown field",
        replaced("field: Budget__c", "field: Budget"),
        "rules[0].field",
        "'Budget' is not a field of Opportunity",
    ),
    (
        "wrong field type",
        replaced("field: Budget__c", "field: Site_City__c"),
        "rules[0].field",
        "Site_City__c is a Text field; expected Currency, Int, Number, Percent",
    ),
    (
        "months on a non-date",
        replaced("field: Desired_Start__c", "field: Budget__c"),
        "rules[3].field",
        "Budget__c is a Currency field; expected Date",
    ),
    (
        "bands not ordered",
        replaced("{min: 400000, points: 25}", "{min: 100000, points: 25}"),
        "rules[0].bands[2].min",
        "bands must be in increasing order of min: 100000 comes after 150000",
    ),
    (
        "month bands not ordered",
        replaced("{max: 12, points: 15}", "{max: 3, points: 15}"),
        "rules[3].bands[1].max",
        "bands must be in increasing order of max",
    ),
    (
        "months not whole",
        replaced("{max: 12, points: 15}", "{max: 12.5, points: 15}"),
        "rules[3].bands[1].max",
        "expected a positive whole number of months",
    ),
    (
        "band without points",
        replaced("{min: 150000, points: 5}", "{min: 150000}"),
        "rules[0].bands[1]",
        "expected exactly min: and points:",
    ),
    (
        "points not integers",
        replaced("{min: 150000, points: 5}", "{min: 150000, points: 5.5}"),
        "rules[0].bands[1].points",
        "points must be a whole number",
    ),
    (
        "points as text",
        replaced("New build: 20", "New build: '20'"),
        "rules[1].points.New build",
        "points must be a whole number",
    ),
    (
        "points as boolean",
        replaced("points: 10\n", "points: true\n"),
        "rules[4].points",
        "points must be a whole number",
    ),
    (
        "value not in picklist",
        replaced("New build: 20", "Neubau: 20"),
        "rules[1].points.Neubau",
        "'Neubau' is not a value of Project_Type__c",
    ),
    (
        "region country not in picklist",
        replaced("country: LU,", "country: NL,"),
        "rules[2].regions[1].country",
        "'NL' is not a site country",
    ),
    (
        "bad range",
        replaced('["6600-6999"]', '["6999-6600"]'),
        "rules[2].regions[0].ranges[0]",
        "expected 6600-6999 or 6670",
    ),
    (
        "region without name",
        replaced("{name: Grand-Duché, ", "{"),
        "rules[2].regions[1].name",
        "expected a French label",
    ),
    (
        "thresholds inverted",
        replaced("{P1: 60, P2: 30}", "{P1: 30, P2: 60}"),
        "priorities.P1",
        "P1 (30) must be above P2 (60)",
    ),
    (
        "thresholds equal",
        replaced("{P1: 60, P2: 30}", "{P1: 30, P2: 30}"),
        "priorities.P1",
        "must be above P2",
    ),
    (
        "threshold out of range",
        replaced("{P1: 60, P2: 30}", "{P1: 160, P2: 30}"),
        "priorities.P1",
        "expected a whole score between 1 and 100",
    ),
    (
        "missing P2",
        replaced("{P1: 60, P2: 30}", "{P1: 60}"),
        "priorities",
        "expected P1: and P2: minimum scores",
    ),
    (
        "completeness field unknown",
        replaced("Desired_Start__c, Description]", "Start__c, Description]"),
        "rules[4].fields[2]",
        "'Start__c' is not a field of Opportunity",
    ),
    (
        "completeness mode",
        replaced("mode: proportional", "mode: partial"),
        "rules[4].mode",
        "expected proportional or all_or_nothing",
    ),
    (
        "unknown rule key",
        replaced("unit: €", "units: €"),
        "rules[0].units",
        "unknown key for a bands rule",
    ),
    (
        "missing label",
        replaced("    label: Type de projet\n", ""),
        "rules[1].label",
        "expected a French label",
    ),
    ("no rules", "version: 1\npriorities: {P1: 60, P2: 30}\n", "rules", "expected a list of rules"),
    ("version", replaced("version: 1", "version: 3"), "version", "expected version: 1"),
]


@pytest.mark.parametrize(
    ("content", "key", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_load_refuses_with_file_key_and_reason(
    tmp_path: Path, schema: Schema, content: str, key: str | None, message: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigurationError) as caught:
        load_scoring(path, schema)
    assert caught.value.source == str(path)
    assert caught.value.key == key
    assert message in str(caught.value)


def test_check_scoring_lists_every_problem(tmp_path: Path, schema: Schema) -> None:
    content = replaced("field: Budget__c", "field: Budget").replace("New build: 20", "Neubau: 20")
    problems = check_scoring(write(tmp_path, content), schema)
    assert [p.key for p in problems] == ["rules[0].field", "rules[1].points.Neubau"]
