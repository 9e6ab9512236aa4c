"""Timeouts, in-process retries of transient trouble, and the daily API allocation.

Call counts come from the emulator's ``/__sandbox/stats`` (what actually reached the org),
not from the client's own bookkeeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from connectors.salesforce import SalesforceClient
from naturhome_sync.errors import RateLimitedError, TransientError
from naturhome_sync.metrics import Metrics
from sandbox.salesforce import Behaviour

if TYPE_CHECKING:
    from conftest import Cleanup, Emulator

pytestmark = pytest.mark.emulator_only

USED = "naturhome_sync_salesforce_api_requests_used"
LIMIT = "naturhome_sync_salesforce_api_requests_limit"


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


# -- timeouts ----------------------------------------------------------------------------------


def test_a_read_slower_than_the_timeout_is_retried_then_answers(
    emulator: Emulator, make_client: Callable[..., SalesforceClient]
) -> None:
    client = make_client(read_timeout_s=1.0)
    client.limits()
    emulator.fault("GET", "/query", latency_ms=3000, times=1)
    assert client.count("SELECT COUNT() FROM Account") == 0
    # Asked twice: the client gave up on the slow answer and the repeat was answered.
    assert emulator.calls("GET", "/query") == 2


def test_a_read_that_never_answers_in_time_is_a_transient_timeout(
    emulator: Emulator, make_client: Callable[..., SalesforceClient]
) -> None:
    client = make_client(read_timeout_s=0.2, retry_attempts=2)
    client.limits()
    emulator.fault("GET", "/query", latency_ms=600, times=None)
    with pytest.raises(TransientError) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.code == "TIMEOUT" and caught.value.category == "transient"
    assert emulator.calls("GET", "/query") == 2


def test_a_create_that_times_out_is_not_repeated(
    emulator: Emulator,
    make_client: Callable[..., SalesforceClient],
    key: Callable[[str], str],
) -> None:
    """The org carries out the slow create after the client gave up; creating again at
    once would make a duplicate, so the error goes back to the queue instead."""
    client = make_client(read_timeout_s=0.2)
    client.limits()
    name = key("slow")
    emulator.fault("POST", "/sobjects/Account", latency_ms=500, times=1)
    with pytest.raises(TransientError) as caught:
        client.create("Account", {"Name": name})
    assert caught.value.code == "TIMEOUT"
    assert emulator.calls("POST", "/sobjects/Account") == 1
    soql = f"SELECT COUNT() FROM Account WHERE Name = '{name}'"
    _wait_for(lambda: client.count(soql) == 1)


def test_a_login_slower_than_the_timeout_is_retried_even_for_a_create(
    emulator: Emulator,
    make_client: Callable[..., SalesforceClient],
    key: Callable[[str], str],
) -> None:
    """Logins have a timeout too; a lost login answer is safe to repeat."""
    client = make_client(read_timeout_s=0.2)
    emulator.fault("POST", "/services/oauth2/token", latency_ms=500, times=1)
    name = key("after-slow-login")
    assert client.create("Account", {"Name": name}).startswith("001")
    assert emulator.logins() == 2 and client.logins == 1
    assert emulator.calls("POST", "/sobjects/Account") == 1


def test_a_login_that_never_answers_in_time_is_transient(
    emulator: Emulator, make_client: Callable[..., SalesforceClient]
) -> None:
    client = make_client(read_timeout_s=0.2, retry_attempts=2)
    emulator.fault("POST", "/services/oauth2/token", latency_ms=500, times=None)
    with pytest.raises(TransientError) as caught:
        client.count("SELECT COUNT() FROM Account")
    assert caught.value.code == "LOGIN_TIMEOUT"
    assert emulator.logins() == 2


def test_a_create_refused_for_a_locked_row_is_repeated(
    emulator: Emulator, client: SalesforceClient, key: Callable[[str], str]
) -> None:
    """An error answer means nothing was committed: safe to repeat even a create."""
    client.limits()
    emulator.fault("POST", "/sobjects/Account", errorCode="UNABLE_TO_LOCK_ROW", times=1)
    name = key("locked")
    account_id = client.create("Account", {"Name": name})
    assert account_id.startswith("001")
    assert emulator.calls("POST", "/sobjects/Account") == 2
    assert client.count(f"SELECT COUNT() FROM Account WHERE Name = '{name}'") == 1


# -- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lock_row_status", [400, 500])
def test_unable_to_lock_row_is_retried_until_it_succeeds(
    make_emulator: Callable[..., Emulator],
    make_client: Callable[..., SalesforceClient],
    key: Callable[[str], str],
    lock_row_status: int,
) -> None:
    emulator = make_emulator(behaviour=Behaviour(lock_row_status=lock_row_status))
    client = make_client(emulator.settings())
    code = key("wi")
    emulator.fault("PATCH", "/sobjects/Work_Item__c/", errorCode="UNABLE_TO_LOCK_ROW", times=2)
    result = client.upsert("Work_Item__c", "Code__c", code, {"Name": "Frame"})
    assert result.created is True
    assert emulator.calls("PATCH", "/sobjects/Work_Item__c/Code__c/") == 3
    assert (client.get("Work_Item__c", result.id, ["Name"]) or {})["Name"] == "Frame"


def test_503_is_retried_until_it_succeeds(emulator: Emulator, client: SalesforceClient) -> None:
    client.limits()
    emulator.fault("GET", "/query", errorCode="SERVER_UNAVAILABLE", times=2)
    assert client.query("SELECT Id FROM Account") == []
    assert emulator.calls("GET", "/query") == 3


def test_503_that_lasts_gives_up_after_the_attempts(
    emulator: Emulator, client: SalesforceClient
) -> None:
    client.limits()
    emulator.fault("GET", "/query", errorCode="SERVER_UNAVAILABLE", times=3)
    with pytest.raises(TransientError) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.code == "SERVER_UNAVAILABLE"
    assert emulator.calls("GET", "/query") == 3
    assert client.query("SELECT Id FROM Account") == []  # the next call goes through


def test_a_permanent_error_is_not_retried(emulator: Emulator, client: SalesforceClient) -> None:
    client.limits()
    emulator.fault("GET", "/query", errorCode="INVALID_FIELD", times=None)
    with pytest.raises(Exception, match="INVALID_FIELD"):
        client.query("SELECT Id FROM Account")
    assert emulator.calls("GET", "/query") == 1


def test_request_limit_exceeded_is_rate_limited_and_not_retried(
    emulator: Emulator, client: SalesforceClient
) -> None:
    client.limits()
    emulator.fault("GET", "/query", errorCode="REQUEST_LIMIT_EXCEEDED", times=None)
    with pytest.raises(RateLimitedError) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.retry_after == 15 * 60
    assert emulator.calls("GET", "/query") == 1


# -- API usage and budget ----------------------------------------------------------------------


def test_api_usage_feeds_the_gauges(
    emulator: Emulator, make_client: Callable[..., SalesforceClient], cleanup: Cleanup
) -> None:
    metrics = Metrics()
    client = make_client(metrics=metrics)
    assert metrics.registry.get_sample_value(USED) == 0
    cleanup.add(client.create("Account", {"Name": "Gauge"}))
    client.count("SELECT COUNT() FROM Account")
    assert client.usage is not None
    assert metrics.registry.get_sample_value(USED) == emulator.api_used() == 2
    assert metrics.registry.get_sample_value(LIMIT) == 15000
    assert (client.usage.used, client.usage.limit) == (2, 15000)


def test_the_budget_stops_non_urgent_calls_and_the_org_stops_everyone(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., SalesforceClient]
) -> None:
    emulator = make_emulator(daily_api_requests=10)
    client = make_client(emulator.settings(api_usage_stop_ratio=0.5))
    client.check_budget()  # nothing known yet: go
    for used in range(1, 5):
        client.count("SELECT COUNT() FROM Account")
        client.check_budget()
        assert client.usage is not None and client.usage.used == used
    client.count("SELECT COUNT() FROM Account")  # 5 of 10: at the threshold
    with pytest.raises(RateLimitedError) as caught:
        client.check_budget()
    assert caught.value.code == "API_BUDGET" and (caught.value.retry_after or 0) >= 60
    client.check_budget(urgent=True)  # urgent flows carry on
    for _ in range(5):
        client.count("SELECT COUNT() FROM Account")
    assert emulator.api_used() == 10
    before = emulator.calls("GET", "/query")
    with pytest.raises(RateLimitedError) as refused:
        client.count("SELECT COUNT() FROM Account")
    assert refused.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert refused.value.retry_after == 15 * 60
    assert emulator.calls("GET", "/query") == before + 1


@pytest.mark.live
def test_each_thread_counts_its_own_calls_on_a_shared_client(
    make_client: Callable[..., SalesforceClient],
) -> None:
    import threading

    client = make_client()
    client.query("SELECT Id FROM User LIMIT 1")  # log in before the threads start
    before = client.api_calls
    counts: dict[str, int] = {}

    def work(name: str, calls: int) -> None:
        start = client.thread_api_calls
        for _ in range(calls):
            client.query("SELECT Id FROM User LIMIT 1")
        counts[name] = client.thread_api_calls - start

    threads = [threading.Thread(target=work, args=(f"t{n}", n)) for n in (3, 5, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == {"t3": 3, "t5": 5, "t7": 7}
    assert client.api_calls - before == 15
