"""Dead letters mirrored into Salesforce as Integration_Error__c, end to end.

A probe event (plugin ``naturhome_sync.testing``) dies in a real runtime (SQLite and
PostgreSQL); the worker enqueues the mirror event; the ``integration_errors`` flow upserts
the record through the real connector into the emulator (shipped schema) over HTTP. A
replay that succeeds resolves it. Records are read back through simple-salesforce itself,
not through the code under test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from connectors.salesforce_transport import emulator_session
from jobs.integration_errors import event_key
from naturhome_sync.runtime import Runtime
from naturhome_sync.settings import Settings
from naturhome_sync.store.inbox import NewEvent
from naturhome_sync.store.tables import inbox_events
from sandbox.salesforce import EmulatorConfig, SalesforceEmulator

UPSERT_PATH = "/sobjects/Integration_Error__c/Event_Id__c/"
FIELDS = (
    "Id, Event_Id__c, Category__c, Flow__c, Source__c, Message__c, Attempts__c, "
    "Occurred_At__c, Resolved__c, Record_Id__c, External_Id__c"
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(EmulatorConfig(state_dir=tmp_path_factory.mktemp("sf"))) as emu:
        yield emu


class Org:
    """The emulated org seen from outside: control endpoints and a plain simple-salesforce."""

    def __init__(self, emulator: SalesforceEmulator) -> None:
        self.url = emulator.base_url
        self.credentials = emulator.config.credentials
        self.http = requests.Session()
        self.http.post(f"{self.url}/__sandbox/reset", timeout=10).raise_for_status()
        creds = self.credentials
        self.sf = Salesforce(
            username=creds.username,
            password=creds.password,
            security_token=creds.security_token,
            session=emulator_session(self.url),
            version="59.0",
            object_pairs_hook=dict,
        )

    def errors_of(self, runtime: Runtime, event_id: int) -> list[dict[str, Any]]:
        key = event_key(runtime, event_id)
        soql = f"SELECT {FIELDS} FROM Integration_Error__c WHERE Event_Id__c = '{key}'"
        records: list[dict[str, Any]] = self.sf.query_all(soql)["records"]
        return records

    def fault(self, **spec: Any) -> None:
        self.http.post(f"{self.url}/__sandbox/faults", json=spec, timeout=10).raise_for_status()

    def calls(self, method: str, part: str) -> int:
        stats = self.http.get(f"{self.url}/__sandbox/stats", timeout=10).json()["calls"]
        return sum(n for k, n in stats.items() if k.startswith(method) and part in k)


@pytest.fixture
def org(emulator: SalesforceEmulator) -> Org:
    return Org(emulator)


@pytest.fixture
def runtime(
    database_url: str, settings_factory: Callable[..., Settings], org: Org
) -> Iterator[Runtime]:
    creds = org.credentials
    salesforce = {
        "auth": "client_credentials",
        "domain": "naturhome.my",
        "consumer_key": creds.consumer_key,
        "consumer_secret": creds.consumer_secret,
        "emulator_url": org.url,
        "retry_attempts": 2,
        "retry_max_wait_s": 0,
    }
    rt = Runtime(settings_factory(database_url, salesforce=salesforce))
    rt.upgrade()
    yield rt
    rt.close()


def enqueue_probe(runtime: Runtime, key: str, **payload: Any) -> int:
    event = NewEvent(source="testing", kind="probe", flow="probe", dedupe_key=key, payload=payload)
    return runtime.inbox.enqueue(event).event_id


def drain(runtime: Runtime, timeout: float = 10) -> list[tuple[str, str]]:
    """Run a worker until nothing is pending; (flow, outcome) of each attempt."""
    worker = runtime.new_worker()
    outcomes: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = worker.run_once()
        if outcome is not None:
            outcomes.append((outcome.flow, outcome.status))
            continue
        if runtime.inbox.depth_by_status()["pending"] == 0:
            return outcomes
        time.sleep(0.01)
    raise AssertionError(f"events still pending after {timeout}s: {outcomes}")


def fix_payload(runtime: Runtime, event_id: int, payload: dict[str, Any]) -> None:
    """What an operator does before a replay: correct the event's input."""
    with runtime.engine.begin() as conn:
        conn.execute(
            inbox_events.update().where(inbox_events.c.id == event_id).values(payload=payload)
        )


def sf_datetime(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_a_dead_event_is_mirrored_and_resolved_by_a_successful_replay(
    runtime: Runtime, org: Org
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    event_id = enqueue_probe(runtime, "bad-input", fail="permanent_data")
    assert drain(runtime) == [("probe", "dead"), ("integration_errors", "done")]
    (record,) = org.errors_of(runtime, event_id)
    assert record["Category__c"] == "permanent_data"
    assert (record["Flow__c"], record["Source__c"]) == ("probe", "testing")
    assert record["Message__c"] == "probe asked to fail (permanent_data) on attempt 1"
    assert record["Attempts__c"] == 1.0
    assert before <= sf_datetime(record["Occurred_At__c"]) <= datetime.now(UTC)
    assert record["Resolved__c"] is False

    fix_payload(runtime, event_id, {"note": "fixed by the operator"})
    assert runtime.inbox.replay([event_id], by="test") == [event_id]
    assert drain(runtime) == [("probe", "done"), ("integration_errors", "done")]
    (resolved,) = org.errors_of(runtime, event_id)
    assert resolved["Id"] == record["Id"]
    assert resolved["Resolved__c"] is True
    assert resolved["Message__c"] == record["Message__c"]  # what went wrong stays readable


def test_an_event_that_exhausts_its_attempts_is_mirrored_with_them(
    runtime: Runtime, org: Org
) -> None:
    event_id = enqueue_probe(runtime, "buggy", fail="internal")  # max_attempts = 3
    outcomes = drain(runtime)
    assert outcomes == [
        ("probe", "retry"),
        ("probe", "retry"),
        ("probe", "dead"),
        ("integration_errors", "done"),
    ]
    (record,) = org.errors_of(runtime, event_id)
    assert (record["Category__c"], record["Attempts__c"]) == ("internal", 3.0)
    assert record["Message__c"].startswith("RuntimeError: probe asked to fail (internal)")


def test_dying_again_updates_the_same_record(runtime: Runtime, org: Org) -> None:
    event_id = enqueue_probe(runtime, "still-bad", fail="permanent_config")
    drain(runtime)
    (first,) = org.errors_of(runtime, event_id)
    runtime.inbox.replay([event_id], by="test")  # replayed without a fix: dies again
    assert drain(runtime) == [("probe", "dead"), ("integration_errors", "done")]
    (again,) = org.errors_of(runtime, event_id)
    assert again["Id"] == first["Id"] and again["Resolved__c"] is False
    assert sf_datetime(again["Occurred_At__c"]) >= sf_datetime(first["Occurred_At__c"])
    assert org.calls("PATCH", UPSERT_PATH) == 2


def test_the_mirror_retries_when_salesforce_is_unavailable(runtime: Runtime, org: Org) -> None:
    """Two 503s use up the connector's own attempts (2); the event is retried by the worker
    and the record is written once."""
    org.fault(method="PATCH", path=UPSERT_PATH, errorCode="SERVER_UNAVAILABLE", times=2)
    event_id = enqueue_probe(runtime, "while-down", fail="auth")
    outcomes = drain(runtime)
    assert outcomes == [
        ("probe", "dead"),
        ("integration_errors", "retry"),
        ("integration_errors", "done"),
    ]
    mirror = runtime.inbox.find("internal", f"dead:{event_id}:0")
    assert mirror is not None
    runs = runtime.inbox.runs_of(mirror.id)
    assert [r["status"] for r in runs] == ["retrying", "succeeded"]
    assert "SERVER_UNAVAILABLE" in (runs[0]["error"] or "")
    assert org.calls("PATCH", UPSERT_PATH) == 3
    (record,) = org.errors_of(runtime, event_id)
    assert record["Category__c"] == "auth"

    runtime.inbox.replay([mirror.id], by="test")  # the mirror itself, once more
    assert drain(runtime) == [("integration_errors", "done")]
    assert [r["Id"] for r in org.errors_of(runtime, event_id)] == [record["Id"]]


def test_without_salesforce_no_mirror_is_enqueued(
    database_url: str, settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    runtime = Runtime(settings_factory(database_url))
    runtime.upgrade()
    try:
        enqueue_probe(runtime, "no-org", fail="permanent_data")
        assert drain(runtime) == [("probe", "dead")]
    finally:
        runtime.close()


def test_a_resolution_that_overtakes_its_dead_letter_still_ends_resolved(
    runtime: Runtime, org: Org
) -> None:
    """The dead letter waits (Salesforce was down), the operator replays, the replay
    succeeds and its 'resolved' runs first: the record must still end resolved."""
    event_id = enqueue_probe(runtime, "overtaken", fail="permanent_data")
    worker = runtime.new_worker()
    assert worker.run_once(event_id=event_id).status == "dead"  # type: ignore[union-attr]
    dead_letter = runtime.inbox.find("internal", f"dead:{event_id}:0")
    assert dead_letter is not None and dead_letter.status == "pending"

    fix_payload(runtime, event_id, {"note": "fixed"})
    runtime.inbox.replay([event_id], by="test")
    assert worker.run_once(event_id=event_id).status == "done"  # type: ignore[union-attr]
    resolution = runtime.inbox.find("internal", f"resolved:{event_id}:1")
    assert resolution is not None
    first = worker.run_once(event_id=resolution.id)
    assert first is not None and first.counters == {"errors_resolved": 0}
    assert org.errors_of(runtime, event_id) == []  # nothing mirrored yet

    late = worker.run_once(event_id=dead_letter.id)
    assert late is not None and late.status == "done"
    (record,) = org.errors_of(runtime, event_id)
    assert record["Resolved__c"] is True
    assert record["Category__c"] == "permanent_data"


def test_error_keys_are_scoped_by_the_store(runtime: Runtime, org: Org) -> None:
    event_id = enqueue_probe(runtime, "scoped", fail="permanent_data")
    drain(runtime)
    (record,) = org.errors_of(runtime, event_id)
    store_id, _, number = record["Event_Id__c"].partition(":")
    assert number == str(event_id)
    assert len(store_id) == 8 and store_id == runtime.store_id
    assert runtime.cursors.get("store.id") == store_id  # minted once, kept in the store
