"""Logging in and staying logged in: the four flows, refusals, and re-authentication once
after the session expires, whatever the call path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr

from connectors import salesforce_composite as sub
from connectors.salesforce import SalesforceClient
from naturhome_sync.errors import AuthError, TransientError

if TYPE_CHECKING:  # fixtures' types (pytest imports conftest itself)
    from conftest import Cleanup, Emulator, JwtKeys

emulator_only = pytest.mark.emulator_only


def flow_settings(emu: Emulator, flow: str, tmp_path: Path) -> dict[str, Any]:
    """Overrides of the emulator's default settings (client credentials) for ``flow``."""
    creds = emu.credentials
    if flow == "jwt":
        return {"auth": "jwt", "private_key": SecretStr(emu.keys.private_pem)}
    if flow == "jwt_key_file":
        pem = tmp_path / "integration.key"
        pem.write_text(emu.keys.private_pem)
        return {"auth": "jwt", "private_key_file": pem}
    if flow == "password":
        return {
            "auth": "password",
            "domain": "login",
            "password": SecretStr(creds.password),
            "security_token": SecretStr(creds.security_token),
        }
    if flow == "soap":
        return {
            "auth": "soap",
            "domain": "login",
            "password": SecretStr(creds.password),
            "security_token": SecretStr(creds.security_token),
        }
    return {}  # client credentials on the My Domain


@emulator_only
@pytest.mark.parametrize(
    ("flow", "endpoint"),
    [
        ("jwt", "/services/oauth2/token"),
        ("jwt_key_file", "/services/oauth2/token"),
        ("client_credentials", "/services/oauth2/token"),
        ("password", "/services/oauth2/token"),
        ("soap", "/services/Soap/u/59.0"),
    ],
)
def test_each_flow_logs_in_once_and_reaches_the_data_api(
    emulator: Emulator,
    make_client: Callable[..., SalesforceClient],
    tmp_path: Path,
    flow: str,
    endpoint: str,
) -> None:
    client = make_client(emulator.settings(**flow_settings(emulator, flow, tmp_path)))
    assert client.count("SELECT COUNT() FROM User WHERE IsActive = true") >= 1
    assert client.limits()["DailyApiRequests"]["Max"] == 15000
    assert client.logins == 1
    assert emulator.calls("POST", endpoint) == 1
    assert emulator.logins() == 1
    assert client.instance_url == emulator.url.replace("http://", "https://")
    emulator.expire_sessions()  # the flow logs in again by itself, once
    assert client.count("SELECT COUNT() FROM User WHERE IsActive = true") >= 1
    assert client.logins == 2 and emulator.calls("POST", endpoint) == 2


def test_the_configured_flow_logs_in(client: SalesforceClient) -> None:
    user = client.query("SELECT Id, Username FROM User WHERE IsActive = true LIMIT 1")
    assert len(user) == 1 and user[0]["Id"].startswith("005")
    assert client.logins == 1


@emulator_only
@pytest.mark.parametrize(
    ("flow", "wrong", "code"),
    [
        ("jwt", "another key pair", "invalid_grant"),
        ("client_credentials", "consumer_secret", "invalid_client"),
        ("password", "password", "invalid_grant"),
        ("soap", "password", "INVALID_LOGIN"),
    ],
)
def test_refused_credentials_are_an_auth_error(
    emulator: Emulator,
    make_client: Callable[..., SalesforceClient],
    tmp_path: Path,
    other_keys: JwtKeys,
    flow: str,
    wrong: str,
    code: str,
) -> None:
    values = flow_settings(emulator, flow, tmp_path)
    if flow == "jwt":
        values["private_key"] = SecretStr(other_keys.private_pem)  # not the registered key
    else:
        values[wrong] = SecretStr("not-the-secret")
    client = make_client(emulator.settings(**values))
    with pytest.raises(AuthError) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.code == code
    assert caught.value.category == "auth"
    assert emulator.logins() == 1  # refusals are not retried


@emulator_only
def test_a_login_endpoint_answering_503_is_retried(
    emulator: Emulator, client: SalesforceClient
) -> None:
    emulator.fault("POST", "/services/oauth2/token", status=503, body={"error": "unavailable"})
    assert client.count("SELECT COUNT() FROM Account") == 0
    assert emulator.logins() == 2 and client.logins == 1


# -- re-authentication on every call path --------------------------------------------------------

#: (client, cleanup, key) -> the call to make once the session has expired.
Step = Callable[..., Callable[[], None]]


def _account(c: SalesforceClient, done: Cleanup, key: Callable[[str], str]) -> str:
    account_id = c.create("Account", {"Name": key("acct")})
    done.add(account_id)
    return account_id


def _invoice(c: SalesforceClient, done: Cleanup, key: Callable[[str], str]) -> str:
    invoice = c.upsert("Invoice__c", "Request_Key__c", key("inv"), {"Type__c": "Invoice"})
    done.add(invoice.id)
    return invoice.id


def path_query(c: SalesforceClient, done: Cleanup, key: Callable[[str], str]) -> Callable[[], None]:
    account_id = _account(c, done, key)

    def act() -> None:
        rows = c.query(f"SELECT Id, Name FROM Account WHERE Id = '{account_id}'")
        assert [r["Id"] for r in rows] == [account_id]

    return act


def path_count(c: SalesforceClient, done: Cleanup, key: Callable[[str], str]) -> Callable[[], None]:
    account_id = _account(c, done, key)
    return lambda: _expect(c.count(f"SELECT COUNT() FROM Account WHERE Id = '{account_id}'"), 1)


def path_query_more(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    prefix = key("page")
    items = [{"Code__c": f"{prefix}-{i:03d}", "Name": f"Item {i}"} for i in range(450)]
    results = c.upsert_many("Work_Item__c", "Code__c", items)
    done.add(*(r.id for r in results))
    rows = c.query_iter(
        f"SELECT Id, Code__c FROM Work_Item__c WHERE Code__c LIKE '{prefix}-%' ORDER BY Code__c",
        batch_size=200,
    )
    first_page = [next(rows) for _ in range(200)]  # page 2 is not fetched yet

    def act() -> None:
        rest = list(rows)
        codes = [r["Code__c"] for r in first_page + rest]
        assert codes == [item["Code__c"] for item in items]

    return act


def path_get(c: SalesforceClient, done: Cleanup, key: Callable[[str], str]) -> Callable[[], None]:
    account_id = _account(c, done, key)
    return lambda: _expect((c.get("Account", account_id, ["Id"]) or {}).get("Id"), account_id)


def path_get_by_external_id(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    code = key("wi")
    done.add(c.upsert("Work_Item__c", "Code__c", code, {"Name": "Frame"}).id)
    return lambda: _expect(
        (c.get_by_external_id("Work_Item__c", "Code__c", code) or {})["Name"], "Frame"
    )


def path_create(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    return lambda: done.add(_expect_id(c.create("Account", {"Name": key("acct")}), "001"))


def path_update(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    account_id = _account(c, done, key)

    def act() -> None:
        c.update("Account", account_id, {"Name": "Renamed"})
        assert (c.get("Account", account_id, ["Name"]) or {})["Name"] == "Renamed"

    return act


def path_upsert(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    code = key("wi")
    first = c.upsert("Work_Item__c", "Code__c", code, {"Name": "Frame"})
    done.add(first.id)
    return lambda: _expect(c.upsert("Work_Item__c", "Code__c", code, {"Name": "Roof"}).id, first.id)


def path_delete(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    account_id = c.create("Account", {"Name": key("acct")})

    def act() -> None:
        c.delete("Account", account_id)
        assert c.get("Account", account_id) is None

    return act


def path_collections(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    codes = [key("wi") for _ in range(3)]

    def act() -> None:
        results = c.upsert_many(
            "Work_Item__c", "Code__c", [{"Code__c": k, "Name": k} for k in codes]
        )
        done.add(*(r.id for r in results))
        assert [r.success and r.created for r in results] == [True, True, True]

    return act


def path_composite(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    def act() -> None:
        result = c.composite([sub.create("Account", {"Name": key("acct")}, "acct")])
        done.add(result["acct"].id)
        assert result.ok and (result["acct"].id or "").startswith("001")

    return act


def path_graph(c: SalesforceClient, done: Cleanup, key: Callable[[str], str]) -> Callable[[], None]:
    def act() -> None:
        result = c.graph({"g1": [sub.create("Account", {"Name": key("acct")}, "acct")]})
        done.add(result["g1"]["acct"].id)
        assert result.successful("g1")

    return act


def path_describe(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    return lambda: _expect(c.describe("Integration_Error__c")["name"], "Integration_Error__c")


def path_attach_file(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    account_id = _account(c, done, key)

    def act() -> None:
        attached = c.attach_file(account_id, "offer.pdf", b"%PDF-1.4 offer", key=key("file"))
        done.add(attached.content_document_id)
        assert attached.created and attached.content_document_id

    return act


def path_download_file(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    account_id = _account(c, done, key)
    attached = c.attach_file(account_id, "offer.pdf", b"%PDF-1.4 offer", key=key("file"))
    done.add(attached.content_document_id)
    return lambda: _expect(c.download_file(attached.content_version_id), b"%PDF-1.4 offer")


def path_submit_approval(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    invoice_id = _invoice(c, done, key)
    return lambda: _expect(c.submit_for_approval(invoice_id).instance_status, "Pending")


def path_decide_approval(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    submitted = c.submit_for_approval(_invoice(c, done, key))
    workitem = submitted.workitem_ids[0]
    return lambda: _expect(c.decide_approval(workitem, approve=True).instance_status, "Approved")


def path_log_task(
    c: SalesforceClient, done: Cleanup, key: Callable[[str], str]
) -> Callable[[], None]:
    account_id = _account(c, done, key)

    def act() -> None:
        task = c.log_task(account_id, "Called the client", key=key("task"))
        done.add(task.id)
        assert task.created

    return act


def _expect(actual: Any, expected: Any) -> None:
    assert actual == expected


def _expect_id(record_id: str, prefix: str) -> str:
    assert record_id.startswith(prefix)
    return record_id


CALL_PATHS: dict[str, Step] = {
    "query": path_query,
    "count": path_count,
    "query_more mid-iteration": path_query_more,
    "get (SFType)": path_get,
    "get by external id": path_get_by_external_id,
    "create": path_create,
    "update": path_update,
    "upsert": path_upsert,
    "delete": path_delete,
    "collections upsert": path_collections,
    "composite": path_composite,
    "graph": path_graph,
    "describe": path_describe,
    "attach file": path_attach_file,
    "download file (SFType blob)": path_download_file,
    "submit for approval": path_submit_approval,
    "decide approval": path_decide_approval,
    "log task": path_log_task,
}


@emulator_only
@pytest.mark.parametrize("name", list(CALL_PATHS))
def test_an_expired_session_is_renewed_once_on_every_call_path(
    emulator: Emulator,
    client: SalesforceClient,
    cleanup: Cleanup,
    key: Callable[[str], str],
    name: str,
) -> None:
    client.limits()  # logged in before the session expires, whatever the path prepares
    act = CALL_PATHS[name](client, cleanup, key)
    assert client.logins == 1
    emulator.expire_sessions()
    act()
    assert client.logins == 2
    assert emulator.logins() == 2


@emulator_only
@pytest.mark.parametrize("name", ["query", "get (SFType)", "download file (SFType blob)", "upsert"])
def test_a_session_that_keeps_being_refused_is_an_auth_error_after_one_relogin(
    emulator: Emulator,
    client: SalesforceClient,
    cleanup: Cleanup,
    key: Callable[[str], str],
    name: str,
) -> None:
    """simple-salesforce's own refresh recurses without end on the SFType path; ours logs in
    again once, then gives up with an AuthError."""
    act = CALL_PATHS[name](client, cleanup, key)
    data_calls = sum(n for k, n in emulator.stats().items() if "/services/data/" in k)
    emulator.fault("*", "^/services/data/", errorCode="INVALID_SESSION_ID", times=None)
    with pytest.raises(AuthError) as caught:
        act()
    assert caught.value.code == "INVALID_SESSION_ID"
    assert client.logins == 2 and emulator.logins() == 2
    refused = sum(n for k, n in emulator.stats().items() if "/services/data/" in k) - data_calls
    assert refused == 2  # the call, and the same call once after the fresh login


@emulator_only
def test_a_refused_relogin_is_an_auth_error(emulator: Emulator, client: SalesforceClient) -> None:
    client.count("SELECT COUNT() FROM Account")
    emulator.expire_sessions()
    emulator.fault(
        "POST",
        "/services/oauth2/token",
        status=400,
        body={"error": "invalid_grant", "error_description": "authentication failure"},
    )
    with pytest.raises(AuthError) as caught:
        client.count("SELECT COUNT() FROM Account")
    assert caught.value.code == "invalid_grant"
    assert "authentication failure" in str(caught.value)


@emulator_only
def test_the_login_endpoint_unreachable_is_transient(
    emulator: Emulator, make_client: Callable[..., SalesforceClient], closed_port_url: str
) -> None:
    client = make_client(emulator.settings(emulator_url=closed_port_url, retry_attempts=2))
    with pytest.raises(TransientError) as caught:
        client.count("SELECT COUNT() FROM Account")
    assert caught.value.code == "CONNECT_FAILED"
