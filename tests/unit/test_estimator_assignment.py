"""The pure core of estimator assignment: ``plan()`` and the records ``writes()`` sends."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from jobs.estimator_assignment import Dossier, Estimator, Plan, plan, writes


def dossier(
    id_: str,
    *,
    score: float = 50,
    country: str | None = "BE",
    created: str = "2026-03-01T08:00:00.000+0000",
    priority: str = "P2",
) -> Dossier:
    return Dossier(
        id=id_, name=f"Dossier {id_}", score=score, priority=priority,
        site_country=country, created=created,
    )  # fmt: skip


def estimator(id_: str, countries: str = "BE", capacity: int = 5, load: int = 0) -> Estimator:
    return Estimator(
        id=id_,
        name=f"Estimator {id_}",
        countries=frozenset(countries.split(";")) if countries else frozenset(),
        capacity=capacity,
        load=load,
    )


def given(result: Plan) -> dict[str, str]:
    """Dossier id -> estimator id of a plan."""
    return {a.dossier.id: a.estimator.id for a in result.assignments}


# -- order ---------------------------------------------------------------------------------------


def test_highest_score_first_then_oldest_then_id() -> None:
    dossiers = [
        dossier("c", score=70),
        dossier("b2", score=90, created="2026-03-02T08:00:00.000+0000"),
        dossier("b1", score=90, created="2026-03-01T08:00:00.000+0000"),
        dossier("a2", score=40, created="2026-01-01T08:00:00.000+0000"),
        dossier("a1", score=40, created="2026-01-01T08:00:00.000+0000"),  # same time: by id
    ]
    result = plan(dossiers, [estimator("e", capacity=5)])
    assert [a.dossier.id for a in result.assignments] == ["b1", "b2", "c", "a1", "a2"]


def test_when_capacity_runs_out_the_lower_priorities_wait() -> None:
    result = plan(
        [dossier("low", score=10), dossier("high", score=90), dossier("mid", score=50)],
        [estimator("e", capacity=2)],
    )
    assert given(result) == {"high": "e", "mid": "e"}
    assert [(d.id, why) for d, why in result.waiting] == [("low", "no capacity")]


# -- who -----------------------------------------------------------------------------------------


def test_fewest_open_dossiers_first_then_most_room_then_name() -> None:
    estimators = [
        estimator("busy", capacity=10, load=3),
        estimator("small", capacity=3, load=1),
        estimator("large", capacity=9, load=1),
    ]
    result = plan([dossier(str(n), score=100 - n) for n in range(4)], estimators)
    # 1/1/3: tie between small and large on load -> large (8 free vs 2) -> large 2;
    # small 1 -> small 2; then large 2 vs small 2: large has more room -> large 3;
    # then busy 3, small 2, large 3 -> small.
    assert given(result) == {"0": "large", "1": "small", "2": "large", "3": "small"}


def test_a_complete_tie_is_broken_by_name_so_runs_are_repeatable() -> None:
    assert given(plan([dossier("d")], [estimator("b"), estimator("a")])) == {"d": "a"}
    assert given(plan([dossier("d")], [estimator("a"), estimator("b")])) == {"d": "a"}


def test_loads_are_updated_as_dossiers_are_given() -> None:
    estimators = [estimator("e", capacity=5, load=2)]
    plan([dossier("1"), dossier("2")], estimators)
    assert estimators[0].load == 4


# -- who cannot ------------------------------------------------------------------------------


def test_a_dossier_without_a_country_waits() -> None:
    result = plan([dossier("d", country=None)], [estimator("e", countries="BE;LU;FR;DE")])
    assert result.assignments == []
    assert [(d.id, why) for d, why in result.waiting] == [("d", "site country unknown")]


def test_a_country_nobody_covers_waits_with_that_reason() -> None:
    result = plan([dossier("d", country="DE")], [estimator("e", countries="BE;LU")])
    assert [(d.id, why) for d, why in result.waiting] == [("d", "no estimator covers DE")]


def test_zero_capacity_or_full_load_takes_nothing() -> None:
    estimators = [
        estimator("zero", capacity=0),
        estimator("full", capacity=2, load=2),
        estimator("over", capacity=1, load=3),  # capacity lowered after assignment
    ]
    result = plan([dossier("d")], estimators)
    assert result.assignments == []
    assert [(d.id, why) for d, why in result.waiting] == [("d", "no capacity")]
    assert [e.load for e in estimators] == [0, 2, 3]


def test_an_estimator_without_countries_gets_nothing() -> None:
    result = plan([dossier("d")], [estimator("e", countries="")])
    assert [(d.id, why) for d, why in result.waiting] == [("d", "no estimator covers BE")]


def test_no_estimators_at_all() -> None:
    result = plan([dossier("a"), dossier("b")], [])
    assert result.assignments == []
    assert len(result.waiting) == 2


# -- many ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_many_dossiers_never_exceed_capacity_and_go_by_priority(seed: int) -> None:
    rng = random.Random(seed)
    countries = ["BE", "LU", "FR", "DE"]
    estimators = [
        estimator(
            f"e{n}",
            countries=";".join(rng.sample(countries, rng.randint(1, 3))),
            capacity=rng.randint(0, 12),
            load=rng.randint(0, 6),
        )
        for n in range(8)
    ]
    initial = {e.id: e.load for e in estimators}
    capacity = {e.id: e.capacity for e in estimators}
    dossiers = [
        dossier(
            f"d{n:03}",
            score=rng.randint(0, 100),
            country=rng.choice([*countries, None]),
            created=f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T08:00:00.000+0000",
        )
        for n in range(300)
    ]

    result = plan(dossiers, estimators)

    assert len(result.assignments) + len(result.waiting) == 300
    given_to = Counter(a.estimator.id for a in result.assignments)
    for e in estimators:
        assert e.load == initial[e.id] + given_to[e.id]
        assert given_to[e.id] <= max(0, capacity[e.id] - initial[e.id])
    # Nobody who waited for lack of capacity outranks an assigned dossier of their country:
    # capacity only ever runs out, so the best dossiers of a country were served first.
    rank = {
        d.id: i for i, d in enumerate(sorted(dossiers, key=lambda d: (-d.score, d.created, d.id)))
    }
    for waiting, why in result.waiting:
        if why != "no capacity":
            continue
        rivals = [
            a for a in result.assignments
            if a.dossier.site_country == waiting.site_country
            and rank[a.dossier.id] > rank[waiting.id]
        ]  # fmt: skip
        assert rivals == [], (waiting, why)


# -- writes --------------------------------------------------------------------------------------


def test_the_write_is_one_update_collection_and_one_task_upsert_collection() -> None:
    result = plan([dossier("006A", priority="P1", score=90)], [estimator("005E")])
    now = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)

    update, upsert = writes(result.assignments, now, "Europe/Brussels")

    assert (update.method, update.path) == ("PATCH", "composite/sobjects")
    assert update.body == {
        "allOrNone": True,
        "records": [
            {
                "attributes": {"type": "Opportunity"},
                "id": "006A",
                "Estimator__c": "005E",
                "Assigned_At__c": "2026-03-01T12:30:15.000Z",
                "StageName": "Quote In Progress",
            }
        ],
    }
    assert (upsert.method, upsert.path) == ("PATCH", "composite/sobjects/Task/Naturhome_Key__c")
    assert upsert.body is not None
    [task] = upsert.body["records"]
    assert task["Subject"] == "[P1] Devis à préparer : Dossier 006A"
    assert task["OwnerId"] == "005E"
    assert task["WhatId"] == "006A"
    assert task["Naturhome_Key__c"] == "assignment:006A:005E"
    assert task["ActivityDate"] == "2026-03-03"


def test_due_dates_count_from_the_estimators_day_not_utcs() -> None:
    """23:30 UTC on 1 March is already 2 March in Brussels: a P1 is due on 4 March."""
    result = plan([dossier("d", priority="P1")], [estimator("e")])
    late_evening_utc = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)

    update, upsert = writes(result.assignments, late_evening_utc, "Europe/Brussels")

    assert upsert.body is not None and update.body is not None
    assert upsert.body["records"][0]["ActivityDate"] == "2026-03-04"
    assert update.body["records"][0]["Assigned_At__c"] == "2026-03-01T23:30:00.000Z"


def test_an_unknown_priority_is_treated_as_the_lowest() -> None:
    result = plan([dossier("d", priority="P9")], [estimator("e")])
    _, upsert = writes(result.assignments, datetime(2026, 3, 1, 9, tzinfo=UTC), "UTC")
    assert upsert.body is not None
    task = upsert.body["records"][0]
    assert task["Subject"].startswith("[P3] ")
    assert (task["Priority"], task["ActivityDate"]) == ("Low", "2026-03-11")
