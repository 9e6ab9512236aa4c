"""The ``/__sandbox`` control endpoints (stats, reset, faults, load, clock, sessions),
persistence across restarts and concurrent use."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)
from simple_salesforce.format import format_external_id

from sandbox.salesforce import Behaviour

V = "/services/data/vXX.X"


def test_stats_count_calls_by_method_and_path_pattern(harness: Any) -> None:
    sf = harness.client()
    account_id = sf.Account.create({"Name": "a", "Naturhome_Id__c": "N-1"})["id"]
    sf.Account.get(account_id)
    sf.Account.update(account_id, {"Phone": "1"})
    sf.Account.upsert(format_external_id("Naturhome_Id__c", "N-1"), {"Phone": "2"})
    sf.query("SELECT Id FROM Account")
    stats = harness.stats()
    calls = stats["calls"]
    assert calls["POST /services/Soap/u/59.0"] == 1
    assert calls[f"POST {V}/sobjects/Account"] == 1
    assert calls[f"GET {V}/sobjects/Account/{{id}}"] == 1
    assert calls[f"PATCH {V}/sobjects/Account/{{id}}"] == 1
    assert calls[f"PATCH {V}/sobjects/Account/Naturhome_Id__c/{{value}}"] == 1
    assert calls[f"GET {V}/query"] == 1
    assert stats["total_calls"] == 6
    assert stats["api_usage"]["used"] == 5  # logins are not API calls
    harness.control("DELETE", "/stats")
    assert harness.stats()["calls"] == {}


def test_reset_empties_data_but_keeps_users_and_sessions(harness: Any) -> None:
    sf = harness.client()
    sf.Account.create({"Name": "a"})
    harness.load(
        {
            "attributes": {"type": "User", "ref": "u"},
            "Username": "x@naturhome.example",
            "LastName": "X",
            "Email": "x@naturhome.example",
        }
    )
    answer = harness.control("POST", "/reset").json()
    assert answer == {"reset": True, "kept": ["User", "Profile", "Organization"]}
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0  # same session still valid
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 2
    assert harness.stats()["api_usage"]["used"] == 2


def test_fault_answers_status_and_body_for_n_matching_calls(harness: Any) -> None:
    sf = harness.client()
    account_id = sf.Account.create({"Name": "a"})["id"]
    fault = {
        "method": "PATCH",
        "path": r"/sobjects/Account/",
        "status": 400,
        "body": [
            {
                "message": "unable to obtain exclusive access to this record",
                "errorCode": "UNABLE_TO_LOCK_ROW",
            }
        ],
        "times": 2,
    }
    assert harness.control("POST", "/faults", fault).status_code == 201
    sf.Account.get(account_id)  # GET does not match
    for _ in range(2):
        with pytest.raises(SalesforceMalformedRequest) as error:
            sf.Account.update(account_id, {"Phone": "1"})
        assert error.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert sf.Account.update(account_id, {"Phone": "1"}) == 204
    assert harness.control("GET", "/faults").json() == {"faults": []}


@pytest.mark.parametrize("path", ["/services/oauth2/token", f"{V}/limits".replace("XX.X", "59.0")])
def test_a_fault_without_a_body_answers_an_empty_body_on_every_path(
    harness: Any, path: str
) -> None:
    """A gateway in trouble answers 503 with nothing a client can parse; login endpoints
    (outside /services/data) render faults the same way as data calls."""
    sf = harness.client()
    fault = {"method": "*", "path": path, "status": 503, "body": None, "times": 1}
    assert harness.control("POST", "/faults", fault).status_code == 201
    headers = {"Authorization": f"Bearer {sf.session_id}"}
    response = harness.http.post(f"{harness.url}{path}", headers=headers, timeout=10)
    assert response.status_code == 503
    assert response.content == b""


@pytest.mark.parametrize(
    ("lock_status", "exception"), [(400, SalesforceMalformedRequest), (500, SalesforceGeneralError)]
)
def test_lock_row_preset_status_is_switchable(
    make_harness: Any, lock_status: int, exception: type
) -> None:
    harness = make_harness(behaviour=Behaviour(lock_row_status=lock_status))
    sf = harness.client()
    harness.control("POST", "/faults", {"path": "/query", "errorCode": "UNABLE_TO_LOCK_ROW"})
    with pytest.raises(exception) as error:
        sf.query("SELECT Id FROM Account")
    assert error.value.status == lock_status
    assert error.value.content[0] == {
        "message": "unable to obtain exclusive access to this record or 1 records",
        "errorCode": "UNABLE_TO_LOCK_ROW",
    }


def test_fault_presets_skip_and_unlimited_faults(harness: Any) -> None:
    sf = harness.client()
    harness.control(
        "POST",
        "/faults",
        {"path": "/limits", "errorCode": "REQUEST_LIMIT_EXCEEDED", "after": 1, "times": None},
    )
    sf.limits()  # skipped once
    for _ in range(3):
        with pytest.raises(SalesforceRefusedRequest):
            sf.limits()
    harness.control("DELETE", "/faults")
    assert sf.limits()["DailyApiRequests"]["Max"] > 0
    harness.control("POST", "/faults", {"path": "/query", "errorCode": "SERVER_UNAVAILABLE"})
    with pytest.raises(SalesforceGeneralError) as error:
        sf.query("SELECT Id FROM Account")
    assert error.value.status == 503


def test_injected_session_expiry_makes_the_client_log_in_again(harness: Any) -> None:
    sf = harness.client()
    harness.control("POST", "/faults", {"path": "/query", "errorCode": "INVALID_SESSION_ID"})
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    assert harness.stats()["calls"]["POST /services/Soap/u/59.0"] == 2


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def test_latency_fault_delays_without_blocking_others(harness: Any) -> None:
    sf = harness.client()
    other = harness.client()
    harness.control("POST", "/faults", {"path": "/limits", "latency_ms": 2000})
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(sf.limits)
        # A fault is used up when a call matches it: from then on the slow call is waiting.
        wait_until(lambda: harness.control("GET", "/faults").json()["faults"] == [], "it waits")
        assert other.query("SELECT COUNT() FROM Account")["totalSize"] == 0
        assert not slow.done()  # the other call went through while the slow one waited
        assert slow.result()["DailyApiRequests"]["Max"] > 0


def test_an_answer_latency_fault_commits_the_call_then_holds_its_answer(harness: Any) -> None:
    """A client that times out has not stopped the work: the record is there already."""
    sf = harness.client()
    fault = {"method": "POST", "path": "/sobjects/Account$", "answer_latency_ms": 1500}
    created = harness.control("POST", "/faults", fault)
    assert created.status_code == 201
    assert created.json()["answer_latency_ms"] == 1500
    headers = {"Authorization": f"Bearer {sf.session_id}"}

    with pytest.raises(requests.exceptions.ReadTimeout):
        harness.http.post(
            harness.data_url("sobjects/Account"),
            json={"Name": "answer lost"},
            headers=headers,
            timeout=(5, 0.5),
        )

    [account] = sf.query("SELECT Name FROM Account")["records"]
    assert account["Name"] == "answer lost"
    assert harness.stats()["calls"][f"POST {V}/sobjects/Account"] == 1
    assert harness.control("GET", "/faults").json() == {"faults": []}  # used up


def test_an_answer_latency_fault_on_the_login_issues_the_session_then_answers_late(
    harness: Any,
) -> None:
    creds = harness.config.credentials
    harness.control("DELETE", "/sessions")  # sessions outlive resets: start from none
    fault = {"path": "/services/oauth2/token", "answer_latency_ms": 1500}
    assert harness.control("POST", "/faults", fault).status_code == 201
    form = {
        "grant_type": "password",
        "client_id": creds.consumer_key,
        "client_secret": creds.consumer_secret,
        "username": creds.username,
        "password": creds.password + creds.security_token,
    }

    with pytest.raises(requests.exceptions.ReadTimeout):
        harness.http.post(f"{harness.url}/services/oauth2/token", data=form, timeout=(5, 0.5))

    assert harness.control("DELETE", "/sessions").json() == {"expired": 1}


def test_bad_fault_specs_are_refused(harness: Any) -> None:
    assert harness.control("POST", "/faults", {"path": "("}).status_code == 400
    assert harness.control("POST", "/faults", {"path": "/x"}).status_code == 400
    refused_and_late = {"path": "/x", "status": 503, "answer_latency_ms": 100}
    answer = harness.control("POST", "/faults", refused_and_late)
    assert answer.status_code == 400
    assert answer.json()[0]["fields"] == ["answer_latency_ms"]
    assert harness.control("GET", "/faults").json() == {"faults": []}


# -- load --------------------------------------------------------------------------------------


def test_load_resolves_refs_external_ids_and_upserts(harness: Any) -> None:
    first = harness.load(
        {
            "attributes": {"type": "Account", "ref": "acme", "upsertOn": "Naturhome_Id__c"},
            "Naturhome_Id__c": "A-1",
            "Name": "Acme",
            "CreatedDate": "2024-01-01T08:00:00Z",
        },
        {"attributes": {"type": "Contact", "ref": "jane"}, "LastName": "Doe", "AccountId": "@acme"},
        {
            "attributes": {"type": "Opportunity"},
            "Name": "@@literal",
            "StageName": "Prospecting",
            "CloseDate": "2026-01-31",
            "Account": {"Naturhome_Id__c": "A-1"},
        },
    )
    ids = first["ids"]
    assert set(ids) == {"acme", "jane"}
    assert [r["created"] for r in first["records"]] == [True, True, True]
    sf = harness.client()
    account = sf.Account.get(ids["acme"])
    assert account["CreatedDate"] == "2024-01-01T08:00:00.000+0000"
    assert sf.Contact.get(ids["jane"])["AccountId"] == ids["acme"]
    [opp] = sf.query("SELECT Name, AccountId FROM Opportunity")["records"]
    assert opp == {"attributes": opp["attributes"], "Name": "@literal", "AccountId": ids["acme"]}
    again = harness.load(
        {
            "attributes": {"type": "Account", "upsertOn": "Naturhome_Id__c"},
            "Naturhome_Id__c": "A-1",
            "Name": "Acme SA",
        },
        {
            "attributes": {"type": "Contact"},
            "LastName": "Roe",
            "AccountId": "@acme",
        },  # ref from the earlier load
    )
    assert again["records"][0] == {
        "ref": None,
        "type": "Account",
        "id": ids["acme"],
        "created": False,
    }
    assert (
        sf.query("SELECT COUNT() FROM Contact WHERE AccountId = '{}'".format(ids["acme"]))[
            "totalSize"
        ]
        == 2
    )


def test_load_is_all_or_nothing_and_names_the_failing_record(harness: Any) -> None:
    response = harness.control(
        "POST",
        "/load",
        {
            "records": [
                {"attributes": {"type": "Account"}, "Name": "ok"},
                {"attributes": {"type": "Account"}, "Tier__c": "Platinum", "Name": "bad"},
            ]
        },
    )
    assert response.status_code == 400
    [error] = response.json()
    assert error["index"] == 1
    assert error["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert harness.client().query("SELECT COUNT() FROM Account")["totalSize"] == 0
    unknown = harness.control(
        "POST",
        "/load",
        {"records": [{"attributes": {"type": "Contact"}, "LastName": "x", "AccountId": "@nope"}]},
    )
    assert unknown.status_code == 400
    assert unknown.json()[0]["message"] == "unknown reference @nope"


def test_clock_moves_and_resets(harness: Any) -> None:
    before = harness.control("GET", "/clock").json()
    assert before["offset_seconds"] == 0
    harness.advance(86400)
    assert harness.control("GET", "/clock").json()["offset_seconds"] == 86400
    assert harness.control("DELETE", "/clock").json()["offset_seconds"] == 0


def test_unknown_control_endpoint(harness: Any) -> None:
    assert harness.control("GET", "/nope").status_code == 404


# -- persistence and concurrency ---------------------------------------------------------------


def test_state_survives_a_restart_on_the_same_directory(make_harness: Any, tmp_path: Any) -> None:
    state = tmp_path / "persistent"
    first = make_harness(state_dir=state)
    sf = first.client()
    account_id = sf.Account.create({"Name": "kept", "Naturhome_Id__c": "K-1"})["id"]
    invoice_id = sf.Invoice__c.create({})["id"]
    prefix = {o["name"]: o["keyPrefix"] for o in sf.describe()["sobjects"]}["Work_Item__c"]
    token = sf.session_id
    user_id = sf.query("SELECT Id FROM User")["records"][0]["Id"]
    first.emulator.stop()

    second = make_harness(state_dir=state)
    sf2 = second.client()
    assert sf2.Account.get_by_custom_id("Naturhome_Id__c", "K-1")["Id"] == account_id
    assert {o["name"]: o["keyPrefix"] for o in sf2.describe()["sobjects"]}["Work_Item__c"] == prefix
    assert sf2.query("SELECT Id FROM User")["records"][0]["Id"] == user_id
    next_invoice = sf2.Invoice__c.create({})["id"]
    assert next_invoice[:3] == invoice_id[:3]
    assert next_invoice > invoice_id
    assert sf2.Invoice__c.get(next_invoice)["Name"] == "INV-00002"
    direct = second.http.get(
        second.data_url("limits/"), headers={"Authorization": f"Bearer {token}"}
    )
    assert direct.status_code == 200


def test_concurrent_writes_get_unique_ids_and_all_land(harness: Any) -> None:
    clients = [harness.client() for _ in range(4)]

    def work(n: int) -> list[str]:
        sf = clients[n % 4]
        ids = []
        for i in range(15):
            ids.append(
                sf.Account.create({"Name": f"T{n}-{i}", "Naturhome_Id__c": f"T{n}-{i}"})["id"]
            )
            sf.query("SELECT COUNT() FROM Account")
        return ids

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [f.result() for f in [pool.submit(work, n) for n in range(8)]]
    all_ids = [i for ids in results for i in ids]
    assert len(set(all_ids)) == 120
    assert clients[0].query("SELECT COUNT() FROM Account")["totalSize"] == 120


def test_load_upserts_users_on_username_with_creation_defaults(harness: Any) -> None:
    user = {
        "attributes": {"type": "User", "ref": "estimator", "upsertOn": "Username"},
        "Username": "marc.lejeune@naturhome.example",
        "LastName": "Lejeune",
        "Email": "marc.lejeune@naturhome.example",
    }
    first = harness.load(user)
    again = harness.load({**user, "FirstName": "Marc"})
    assert [r["created"] for r in first["records"]] == [True]
    assert [r["created"] for r in again["records"]] == [False]
    assert again["ids"]["estimator"] == first["ids"]["estimator"]
    [row] = harness.client().query(
        "SELECT FirstName, ProfileId, TimeZoneSidKey FROM User "
        "WHERE Username = 'marc.lejeune@naturhome.example'"
    )["records"]
    assert row["FirstName"] == "Marc"
    assert row["ProfileId"] and row["TimeZoneSidKey"]  # the creation form's defaults
