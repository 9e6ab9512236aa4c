"""The ``estimator_assignment`` flow against the Salesforce emulator over HTTP.

Each test seeds its own org (users with ``Is_Estimator__c``, countries and capacities;
opportunities in *Quote Requested* with scores, countries and creation dates) through
``/__sandbox/load``, runs the flow through the inbox like the scheduler would, and reads back
what Salesforce holds. API calls are counted by the emulator (logins are not API calls).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import Engine

from connectors.salesforce import SalesforceClient
from naturhome_sync.runtime import Runtime
from naturhome_sync.store.locks import KeyLocks
from naturhome_sync.worker import Outcome
from sandbox.salesforce import EmulatorConfig, SalesforceEmulator

DOMAIN = "naturhome.example"


@pytest.fixture
def emulator(tmp_path: Any) -> Iterator[SalesforceEmulator]:
    """A fresh org per test (users survive the emulator's reset, so a reset is not enough)."""
    running = SalesforceEmulator(EmulatorConfig(state_dir=tmp_path / "salesforce"))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def runtime(settings_factory: Any, emulator: SalesforceEmulator) -> Iterator[Runtime]:
    credentials = emulator.config.credentials
    settings = settings_factory(
        salesforce={
            "auth": "soap",
            "username": credentials.username,
            "password": credentials.password,
            "security_token": credentials.security_token,
            "emulator_url": emulator.base_url,
        }
    )
    rt = Runtime(settings)
    rt.upgrade()
    yield rt
    rt.close()


@pytest.fixture
def salesforce(runtime: Runtime) -> SalesforceClient:
    return runtime.services.salesforce


def estimator(
    ref: str,
    name: str,
    countries: str | None,
    capacity: int | None,
    *,
    active: bool = True,
    is_estimator: bool = True,
) -> dict[str, Any]:
    first, last = name.split(" ", 1)
    username = f"{first.lower()}.{last.lower()}@{DOMAIN}"
    return {
        "attributes": {"type": "User", "ref": ref},
        "Username": username,
        "FirstName": first,
        "LastName": last,
        "Email": username,
        "Alias": ref[:8],
        "IsActive": active,
        "Is_Estimator__c": is_estimator,
        "Estimator_Capacity__c": capacity,
        "Estimator_Countries__c": countries,
    }


def dossier(
    ref: str,
    *,
    country: str | None = "BE",
    score: float | None = 50,
    priority: str | None = "P2",
    created: str = "2026-03-01T08:00:00Z",
    stage: str = "Quote Requested",
    estimator: str | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "attributes": {"type": "Opportunity", "ref": ref},
        "Name": f"Dossier {ref}",
        "StageName": stage,
        "CloseDate": "2026-12-31",
        "Site_Country__c": country,
        "Score__c": score,
        "Priority__c": priority,
        "CreatedDate": created,
    }
    if estimator:
        record["Estimator__c"] = f"@{estimator}"
    return record


def load(emulator: SalesforceEmulator, *records: dict[str, Any]) -> dict[str, str]:
    response = requests.post(
        f"{emulator.base_url}/__sandbox/load", json={"records": list(records)}, timeout=30
    )
    assert response.status_code == 200, response.text
    ids: dict[str, str] = response.json()["ids"]
    return ids


def api_used(emulator: SalesforceEmulator) -> int:
    used: int = requests.get(f"{emulator.base_url}/__sandbox/stats", timeout=5).json()["api_usage"][
        "used"
    ]
    return used


def run(runtime: Runtime, emulator: SalesforceEmulator) -> tuple[Outcome, int]:
    """Run the flow once through the inbox; the outcome and the API calls it cost."""
    before = api_used(emulator)
    outcome = runtime.run_flow("estimator_assignment")
    assert outcome.status == "done", outcome.error
    return outcome, api_used(emulator) - before


def assignments(salesforce: SalesforceClient) -> dict[str, str | None]:
    """Dossier name -> estimator id (None: not assigned)."""
    rows = salesforce.query("SELECT Name, Estimator__c FROM Opportunity")
    return {row["Name"]: row["Estimator__c"] for row in rows}


def tasks(salesforce: SalesforceClient) -> list[dict[str, Any]]:
    rows = salesforce.query(
        "SELECT Subject, OwnerId, WhatId, Priority, Status, ActivityDate, Naturhome_Key__c "
        "FROM Task ORDER BY Subject"
    )
    return [{k: v for k, v in row.items() if k != "attributes"} for row in rows]


# -- who gets what -------------------------------------------------------------------------------


def test_highest_score_first_then_oldest_until_capacity_is_full(
    emulator: SalesforceEmulator, runtime: Runtime, salesforce: SalesforceClient
) -> None:
    ids = load(
        emulator,
        estimator("marc", "Marc Lejeune", "BE;LU", 2),
        dossier("low", score=40, created="2026-01-01T08:00:00Z"),
        dossier("high_new", score=90, created="2026-03-02T08:00:00Z"),
        dossier("high_old", score=90, created="2026-03-01T08:00:00Z"),
        dossier("mid", score=70, created="2026-01-15T08:00:00Z"),
    )

    outcome, calls = run(runtime, emulator)

    assert outcome.counters == {"assigned": 2, "waiting": 2}
    assert assignments(salesforce) == {
        "Dossier high_old": ids["marc"],
        "Dossier high_new": ids["marc"],
        "Dossier mid": None,
        "Dossier low": None,
    }
    assert outcome.summary is not None
    assert "Dossier mid waits: no capacity" in outcome.summary
    assert "Dossier low waits: no capacity" in outcome.summary
    assert calls == 2


def test_a_dossier_goes_only_to_an_estimator_covering_its_country(
    emulator: SalesforceEmulator, runtime: Runtime, salesforce: SalesforceClient
) -> None:
    ids = load(
        emulator,
        estimator("marc", "Marc Lejeune", "BE", 5),
        estimator("sophie", "Sophie Weber", "LU", 5),
        estimator("julien", "Julien Collard", "FR", 5),
        dossier("be", country="BE", score=90),
        dossier("lu", country="LU", score=80),
        dossier("fr", country="FR", score=70),
        dossier("de", country="DE", score=60),
        dossier("nowhere", country=None, score=99),
    )

    outcome, _ = run(runtime, emulator)

    assert assignments(salesforce) == {
        "Dossier be": ids["marc"],
        "Dossier lu": ids["sophie"],
        "Dossier fr": ids["julien"],
        "Dossier de": None,
        "Dossier nowhere": None,
    }
    assert outcome.counters == {"assigned": 3, "waiting": 2}
    assert outcome.summary is not None
    assert "Dossier de waits: no estimator covers DE" in outcome.summary
    assert "Dossier nowhere waits: site country unknown" in outcome.summary


def test_the_estimator_with_the_fewest_open_dossiers_gets_the_next_one(
    emulator: SalesforceEmulator, runtime: Runtime, salesforce: SalesforceClient
) -> None:
    """Open = Quote Requested or Quote In Progress; quotes sent and closed deals weigh nothing."""
    ids = load(
        emulator,
        estimator("marc", "Marc Lejeune", "BE", 10),
        estimator("julien", "Julien Collard", "BE", 12),
        dossier("marc_open", stage="Quote In Progress", estimator="marc"),
        *(dossier(f"marc_sent_{n}", stage="Quote Sent", estimator="marc") for n in range(3)),
        dossier("marc_won", stage="Closed Won", estimator="marc"),
        dossier("julien_open_1", stage="Quote In Progress", estimator="julien"),
        dossier("julien_open_2", stage="Quote Requested", estimator="julien"),
        dossier("first", score=90),
        dossier("second", score=80),
        dossier("third", score=70),
    )

    outcome, _ = run(runtime, emulator)

    # Open: Marc 1, Julien 2 -> Marc. Then 2 each: the one with more room left (Julien, 12
    # seats) -> Julien. Then Marc 2, Julien 3 -> Marc. Counting quotes sent or won deals
    # would have given Marc 5 and everything to Julien.
    assert outcome.counters == {"assigned": 3, "waiting": 0}
    result = assignments(salesforce)
    assert result["Dossier first"] == ids["marc"]
    assert result["Dossier second"] == ids["julien"]
    assert result["Dossier third"] == ids["marc"]


def test_capacity_is_never_exceeded_and_existing_load_counts(
    emulator: SalesforceEmulator, runtime: Runtime, salesforce: SalesforceClient
) -> None:
    ids = load(
        emulator,
        estimator("marc", "Marc Lejeune", "BE", 3),
        estimator("julien", "Julien Collard", "BE", 1),
        estimator("nadia", "Nadia Kremer", "BE", 0),
        estimator("anne", "Anne Schmit", "BE", 10, active=False),
        estimator("luc", "Luc Hoffmann", "BE", 10, is_estimator=False),
        estimator("paul", "Paul Dumont", "BE", None),
        *(dossier(f"marc_open_{n}", stage="Quote In Progress", estimator="marc") for n in range(2)),
        dossier("julien_open", stage="Quote In Progress", estimator="julien"),
        *(dossier(f"new_{n}", score=90 - n) for n in range(4)),
    )

    outcome, _ = run(runtime, emulator)

    assert outcome.counters == {"assigned": 1, "waiting": 3}
    new = {name: who for name, who in assignments(salesforce).items() if "new_" in name}
    assert new == {
        "Dossier new_0": ids["marc"],
        "Dossier new_1": None,
        "Dossier new_2": None,
        "Dossier new_3": None,
    }
    load_of = salesforce.query(
        "SELECT Estimator__c FROM Opportunity WHERE StageName IN "
        "('Quote Requested', 'Quote In Progress') AND Estimator__c != null"
    )
    per_estimator = {
        who: sum(1 for r in load_of if r["Estimator__c"] == who) for who in ids.values()
    }
    assert per_estimator[ids["marc"]] == 3  # its capacity, no more
    assert per_estimator[ids["julien"]] == 1


# -- what is written -----------------------------------------------------------------------------


def test_an_assignment_sets_stage_estimator_time_and_creates_one_task(
    emulator: SalesforceEmulator, runtime: Runtime, salesforce: SalesforceClient
) -> None:
    ids = load(
        emulator,
        estimator("marc", "Marc Lejeune", "BE;LU", 5),
        dossier("p1", score=90, priority="P1"),
        dossier("p2", score=60, priority="P2"),
        dossier("none", score=20, priority=None),
    )
    before = datetime.now(UTC).replace(microsecond=0)

    run(runtime, emulator)

    rows = salesforce.query(
        "SELECT Name, StageName, Estimator__c, Assigned_At__c FROM Opportunity ORDER BY Name"
    )
    assert {r["StageName"] for r in rows} == {"Quote In Progress"}
    assert {r["Estimator__c"] for r in rows} == {ids["marc"]}
    for row in rows:
        assigned_at = datetime.strptime(row["Assigned_At__c"], "%Y-%m-%dT%H:%M:%S.%f%z")
        assert before <= assigned_at <= datetime.now(UTC)
    today = datetime.now(ZoneInfo(runtime.settings.timezone)).date()  # the estimators' day
    assert tasks(salesforce) == [
        {
            "Subject": "[P1] Devis à préparer : Dossier p1",
            "OwnerId": ids["marc"],
            "WhatId": ids["p1"],
            "Priority": "High",
            "Status": "Not Started",
            "ActivityDate": (today + timedelta(days=2)).isoformat(),
            "Naturhome_Key__c": f"assignment:{ids['p1']}:{ids['marc']}",
        },
        {
            "Subject": "[P2] Devis à préparer : Dossier p2",
            "OwnerId": ids["marc"],
            "WhatId": ids["p2"],
            "Priority": "Normal",
            "Status": "Not Started",
            "ActivityDate": (today + timedelta(days=5)).isoformat(),
            "Naturhome_Key__c": f"assignment:{ids['p2']}:{ids['marc']}",
        },
        {
            "Subject": "[P3] Devis à préparer : Dossier none",
            "OwnerId": ids["marc"],
            "WhatId": ids["none"],
            "Priority": "Low",
            "Status": "Not Started",
            "ActivityDate": (today + timedelta(days=10)).isoformat(),
            "Naturhome_Key__c": f"assignment:{ids['none']}:{ids['marc']}",
        },
    ]


def test_two_calls_per_run_and_a_second_run_changes_nothing(
    emulator: SalesforceEmulator, runtime: Runtime, salesforce: SalesforceClient
) -> None:
    load(
        emulator,
        estimator("marc", "Marc Lejeune", "BE", 20),
        estimator("sophie", "Sophie Weber", "LU", 20),
        *(dossier(f"be_{n}", country="BE", score=n) for n in range(12)),
        *(dossier(f"lu_{n}", country="LU", score=n) for n in range(12)),
    )

    first, first_calls = run(runtime, emulator)
    after_first = (assignments(salesforce), tasks(salesforce))
    second, second_calls = run(runtime, emulator)

    assert first.counters == {"assigned": 24, "waiting": 0}
    assert first_calls == 2  # one Composite read (3 queries), one Composite write
    assert second.counters == {"assigned": 0, "waiting": 0}
    assert second_calls == 1
    assert (assignments(salesforce), tasks(salesforce)) == after_first
    assert len(after_first[1]) == 24


def test_a_run_with_nothing_to_do_costs_one_call(
    emulator: SalesforceEmulator, runtime: Runtime
) -> None:
    load(emulator, estimator("marc", "Marc Lejeune", "BE", 5))

    outcome, calls = run(runtime, emulator)

    assert outcome.counters == {"assigned": 0, "waiting": 0}
    assert calls == 1


def test_a_dossier_put_back_in_the_queue_does_not_get_a_second_task(
    emulator: SalesforceEmulator, runtime: Runtime, salesforce: SalesforceClient
) -> None:
    """An operator un-assigns a dossier; the next run gives it back without a duplicate Task."""
    ids = load(emulator, estimator("marc", "Marc Lejeune", "BE", 5), dossier("d", priority="P1"))
    run(runtime, emulator)
    salesforce.update(
        "Opportunity", ids["d"], {"Estimator__c": None, "StageName": "Quote Requested"}
    )

    outcome, calls = run(runtime, emulator)

    assert outcome.counters == {"assigned": 1, "waiting": 0}
    assert calls == 2
    assert [t["Naturhome_Key__c"] for t in tasks(salesforce)] == [
        f"assignment:{ids['d']}:{ids['marc']}"
    ]


def test_waiting_dossiers_stay_untouched_and_are_taken_once_capacity_frees_up(
    emulator: SalesforceEmulator, runtime: Runtime, salesforce: SalesforceClient
) -> None:
    ids = load(
        emulator,
        estimator("marc", "Marc Lejeune", "BE", 1),
        dossier("busy", stage="Quote In Progress", estimator="marc"),
        dossier("waiting", priority="P1"),
    )
    waiting, _ = run(runtime, emulator)
    assert waiting.counters == {"assigned": 0, "waiting": 1}
    assert tasks(salesforce) == []

    salesforce.update("Opportunity", ids["busy"], {"StageName": "Quote Sent"})
    freed, _ = run(runtime, emulator)

    assert freed.counters == {"assigned": 1, "waiting": 0}
    assert assignments(salesforce)["Dossier waiting"] == ids["marc"]


def test_a_dry_run_plans_without_writing(
    emulator: SalesforceEmulator, runtime: Runtime, salesforce: SalesforceClient
) -> None:
    load(emulator, estimator("marc", "Marc Lejeune", "BE", 5), dossier("d"))
    before = api_used(emulator)

    result = runtime.dry_run("estimator_assignment")

    assert result.counters == {"assigned": 1, "waiting": 0}
    assert api_used(emulator) - before == 1
    assert assignments(salesforce) == {"Dossier d": None}
    assert tasks(salesforce) == []


def test_a_write_refused_once_is_retried_without_half_writes(
    emulator: SalesforceEmulator, runtime: Runtime, salesforce: SalesforceClient
) -> None:
    """The org is busy once (row lock) on the write: retried, and nothing is written twice."""
    ids = load(emulator, estimator("marc", "Marc Lejeune", "BE", 5), dossier("a"), dossier("b"))
    fault = {"method": "POST", "path": "/composite$", "errorCode": "UNABLE_TO_LOCK_ROW"}
    response = requests.post(
        f"{emulator.base_url}/__sandbox/faults", json={**fault, "times": 1, "after": 1}, timeout=5
    )
    assert response.status_code in (200, 201), response.text

    outcome, calls = run(runtime, emulator)

    assert outcome.counters == {"assigned": 2, "waiting": 0}
    assert calls == 3  # read, refused write, write
    assert set(assignments(salesforce).values()) == {ids["marc"]}
    assert len(tasks(salesforce)) == 2


# -- overlapping runs ----------------------------------------------------------------------------


class WatchedLocks(KeyLocks):
    """The runtime's key locks, noting when each run asks for one (before it gets it)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.asked_at: list[datetime] = []
        self._note = threading.Lock()

    @contextmanager
    def hold(self, key: str, *, timeout: float = 120.0) -> Iterator[None]:
        with self._note:
            self.asked_at.append(datetime.now(UTC))
        with super().hold(key, timeout=timeout):
            yield


def faults_left(emulator: SalesforceEmulator) -> list[Any]:
    faults: list[Any] = requests.get(f"{emulator.base_url}/__sandbox/faults", timeout=5).json()[
        "faults"
    ]
    return faults


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def parse_stamp(value: str) -> datetime:
    """``2026-03-01T08:00:00.123+0000`` (Salesforce's date-time) as an aware datetime."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_overlapping_runs_assign_each_dossier_once_within_capacity(
    emulator: SalesforceEmulator, settings_factory: Any, database_url: str
) -> None:
    """A tick and a manual run (or two ticks on two workers) at the same time.

    The org holds the first run's write 2 s before carrying it out; meanwhile a new dossier
    arrives and the second run starts. Without the lock the second run plans from the loads
    the first one has not written yet: a dossier gets two estimators (two Tasks) and one
    estimator more than his capacity. With it, the second run waits and reads what the first
    one wrote. The org's timestamps show the overlap really happened: the second run asked
    for the lock before the first write was carried out.
    """
    credentials = emulator.config.credentials
    runtime = Runtime(
        settings_factory(
            database_url,
            salesforce={
                "auth": "soap",
                "username": credentials.username,
                "password": credentials.password,
                "security_token": credentials.security_token,
                "emulator_url": emulator.base_url,
            },
        )
    )
    runtime.upgrade()
    locks = WatchedLocks(runtime.engine)
    runtime.key_locks = locks
    salesforce = runtime.services.salesforce
    ids = load(
        emulator,
        estimator("marc", "Marc Lejeune", "BE", 2),
        estimator("julien", "Julien Collard", "BE", 2),
        *(dossier(f"d{n}", score=100 - 10 * n) for n in (1, 2, 3)),
    )
    held_write = {"method": "POST", "path": "/composite$", "after": 1, "times": 1}
    response = requests.post(
        f"{emulator.base_url}/__sandbox/faults", json={**held_write, "latency_ms": 2000}, timeout=5
    )
    assert response.status_code in (200, 201), response.text
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(runtime.run_flow, "estimator_assignment")
            # The fault is used up when the write arrives: from then on the org holds it.
            wait_until(lambda: faults_left(emulator) == [], "the first run's write is held")
            ids.update(load(emulator, dossier("d0", score=99)))
            second = pool.submit(runtime.run_flow, "estimator_assignment")
            outcomes = [first.result(timeout=30), second.result(timeout=30)]

        assert [o.status for o in outcomes] == ["done", "done"], [o.error for o in outcomes]
        assert sum(o.counters["assigned"] for o in outcomes) == 4
        task_rows = tasks(salesforce)
        per_dossier = Counter(str(t["WhatId"]) for t in task_rows)
        assert per_dossier == {ids[f"d{n}"]: 1 for n in range(4)}  # one estimator each
        assigned = assignments(salesforce)
        assert sorted(Counter(assigned.values()).values()) == [2, 2]  # capacity 2 each
        for row in task_rows:  # each Task went to the estimator the dossier holds
            name = next(n for n, i in ids.items() if i == row["WhatId"])
            assert assigned[f"Dossier {name}"] == row["OwnerId"]
        # And the overlap did happen (else the above proves nothing): the second run asked
        # for the lock before the org carried out the first write.
        written = salesforce.query("SELECT LastModifiedDate FROM Opportunity")
        first_write = min(parse_stamp(row["LastModifiedDate"]) for row in written)
        assert len(locks.asked_at) == 2
        assert locks.asked_at[1] < first_write, "no overlap: the first write landed first"
    finally:
        runtime.close()
