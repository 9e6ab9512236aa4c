"""Contacts through hubspot-api-client 12 (urllib3) against the emulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from connectors.hubspot import HubSpotClient, HubSpotNotFoundError
from naturhome_sync.errors import PermanentConfigError, PermanentDataError

PROPS = ["email", "firstname", "lastname", "site_city", "salesforce_opportunity_id"]


def test_get_by_id_and_by_email(client: HubSpotClient, sandbox) -> None:
    created = sandbox.submit("Luc.Martin@example.lu", firstname="Luc", site_city="Troisvierges")
    contact_id = created["contact_id"]

    by_id = client.get_contact(contact_id, PROPS)
    assert by_id.id == contact_id
    assert by_id.email == "Luc.Martin@example.lu"
    assert by_id.get("site_city") == "Troisvierges"
    assert by_id.get("salesforce_opportunity_id") is None
    assert by_id.properties["hs_object_id"] == contact_id
    assert by_id.created_at.tzinfo is not None

    by_email = client.get_contact_by_email("luc.martin@EXAMPLE.lu", PROPS)
    assert by_email is not None
    assert by_email.id == contact_id
    assert client.get_contact_by_email("nobody@example.lu", PROPS) is None
    with pytest.raises(HubSpotNotFoundError):
        client.get_contact("987654321", PROPS)

    calls = sandbox.stats()
    assert calls["GET /crm/v3/objects/contacts/{contact_id}"] == 4


def test_properties_query_accepts_repeated_and_comma_joined(sandbox) -> None:
    contact_id = sandbox.submit("a@example.be", firstname="Ann", lastname="Lee")["contact_id"]
    path = f"/crm/v3/objects/contacts/{contact_id}"
    repeated = sandbox.get(path, params=[("properties", "firstname"), ("properties", "lastname")])
    joined = sandbox.get(path, params={"properties": "firstname,lastname"})
    assert repeated.json()["properties"] == joined.json()["properties"]
    assert joined.json()["properties"]["lastname"] == "Lee"
    default = sandbox.get(path).json()
    assert set(default["properties"]) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }
    assert set(default) == {"id", "properties", "createdAt", "updatedAt", "archived"}


@pytest.mark.parametrize("omit", [False, True], ids=["empty-as-null", "empty-omitted"])
def test_empty_properties_either_way(client: HubSpotClient, sandbox, omit: bool) -> None:
    sandbox.configure(omit_empty_properties=omit)
    contact_id = sandbox.submit("b@example.be")["contact_id"]
    raw = sandbox.get(f"/crm/v3/objects/contacts/{contact_id}", params={"properties": "phone"})
    assert ("phone" in raw.json()["properties"]) is not omit
    assert client.get_contact(contact_id, ["phone"]).get("phone") is None


def test_update_and_write_back(client: HubSpotClient, sandbox) -> None:
    contact_id = sandbox.submit("c@example.be", phone="+32 80 00 00 00")["contact_id"]
    updated = client.write_back_opportunity(
        contact_id, "006AB000001XyZQ", "https://naturhome.my.salesforce.com/006AB000001XyZQ"
    )
    assert updated.get("salesforce_opportunity_id") == "006AB000001XyZQ"
    cleared = client.update_contact(contact_id, {"phone": ""})
    assert cleared.get("phone") is None
    again = client.get_contact(contact_id, ["salesforce_opportunity_url", "phone"])
    assert again.get(
        "salesforce_opportunity_url",
    ) == ("https://naturhome.my.salesforce.com/006AB000001XyZQ")
    assert again.get("phone") is None
    assert again.updated_at >= again.created_at


def test_unknown_property_is_a_configuration_error(client: HubSpotClient, sandbox) -> None:
    contact_id = sandbox.submit("d@example.be")["contact_id"]
    with pytest.raises(PermanentConfigError) as caught:
        client.update_contact(contact_id, {"sf_opportunity_id": "006"})
    assert caught.value.code == "PROPERTY_DOESNT_EXIST"
    assert caught.value.details["category"] == "VALIDATION_ERROR"
    assert caught.value.details["correlation_id"]

    raw = requests.patch(
        f"{sandbox.base_url}/crm/v3/objects/contacts/{contact_id}",
        json={"properties": {"sf_opportunity_id": "006"}},
        headers=sandbox.auth,
        timeout=5,
    )
    body = raw.json()
    assert raw.status_code == 400
    assert body["message"].startswith("Property values were not valid: [")
    assert body["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert body["errors"][0]["context"] == {"propertyName": ["sf_opportunity_id"]}


def test_read_only_property_is_a_data_error(client: HubSpotClient, sandbox) -> None:
    contact_id = sandbox.submit("e@example.be")["contact_id"]
    with pytest.raises(PermanentDataError) as caught:
        client.update_contact(contact_id, {"hs_object_id": "1"})
    assert caught.value.code == "READ_ONLY_VALUE"


def test_update_of_a_missing_contact(client: HubSpotClient) -> None:
    with pytest.raises(HubSpotNotFoundError):
        client.update_contact("424242", {"firstname": "X"})


def test_batch_read_skips_unknown_ids_and_chunks_by_100(client: HubSpotClient, sandbox) -> None:
    ids = [
        sandbox.submit(f"batch{i}@example.be", firstname=f"N{i}")["contact_id"] for i in range(3)
    ]
    found = client.read_contacts([ids[0], "999999", ids[2]], ["firstname"])
    assert [(c.id, c.get("firstname")) for c in found] == [(ids[0], "N0"), (ids[2], "N2")]

    by_email = client.read_contacts(["batch1@example.be"], ["firstname"], id_property="email")
    assert [c.id for c in by_email] == [ids[1]]

    many = [*ids, *(str(900_000 + n) for n in range(147))]
    assert len(client.read_contacts(many, ["email"])) == 3
    assert sandbox.stats()["POST /crm/v3/objects/contacts/batch/read"] == 4

    raw = sandbox.post(
        "/crm/v3/objects/contacts/batch/read",
        {"inputs": [{"id": ids[0]}, {"id": "999999"}], "properties": ["email"]},
    )
    assert raw.status_code == 207
    assert raw.json()["errors"][0]["context"] == {"ids": ["999999"]}
    too_many = sandbox.post(
        "/crm/v3/objects/contacts/batch/read", {"inputs": [{"id": str(n)} for n in range(101)]}
    )
    assert too_many.status_code == 400


def test_search_lags_behind_writes(make_client: Callable[..., HubSpotClient], sandbox) -> None:
    client = make_client()
    sandbox.configure(search_delay_s=60.0)
    contact_id = sandbox.submit("fresh@example.be", firstname="Fresh")["contact_id"]

    assert client.search_contacts({"email": "fresh@example.be"}, ["firstname"]) == []
    direct = client.get_contact_by_email("fresh@example.be", ["firstname"])
    assert direct is not None
    assert direct.id == contact_id

    sandbox.advance_clock(30)  # half the lag later: still not found
    assert client.search_contacts({"email": "fresh@example.be"}, ["firstname"]) == []
    sandbox.advance_clock(31)
    (hit,) = client.search_contacts({"email": "FRESH@example.be"}, ["firstname"])
    assert (hit.id, hit.get("firstname")) == (contact_id, "Fresh")


def test_search_filters_sorts_and_pages(sandbox) -> None:
    for name, city in (("Ann", "Gouvy"), ("Bob", "Vielsalm"), ("Cid", "Gouvy")):
        sandbox.submit(f"{name.lower()}@example.be", firstname=name, site_city=city)
    path = "/crm/v3/objects/contacts/search"
    gouvy = sandbox.post(
        path,
        {
            "filterGroups": [
                {"filters": [{"propertyName": "site_city", "operator": "EQ", "value": "gouvy"}]}
            ],
            "sorts": [{"propertyName": "firstname", "direction": "DESCENDING"}],
            "properties": ["firstname"],
            "limit": 1,
        },
    ).json()
    assert gouvy["total"] == 2
    assert [r["properties"]["firstname"] for r in gouvy["results"]] == ["Cid"]
    assert gouvy["paging"]["next"]["after"] == "1"
    either = sandbox.post(
        path,
        {
            "filterGroups": [
                {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "Bob"}]},
                {"filters": [{"propertyName": "firstname", "operator": "IN", "values": ["ann"]}]},
            ],
            "sorts": ["firstname"],
        },
    ).json()
    assert [r["properties"]["firstname"] for r in either["results"]] == ["Ann", "Bob"]
    assert "paging" not in either
    assert sandbox.post(path, {"limit": 201}).status_code == 400
    assert sandbox.post(path, {"after": "9990", "limit": 100}).status_code == 400
    assert "x-hubspot-ratelimit-max" not in sandbox.post(path, {}).headers


def test_archived_contacts(sandbox, client: HubSpotClient) -> None:
    contact_id = sandbox.submit("gone@example.be")["contact_id"]
    deleted = requests.delete(
        f"{sandbox.base_url}/crm/v3/objects/contacts/{contact_id}", headers=sandbox.auth, timeout=5
    )
    assert deleted.status_code == 204
    with pytest.raises(HubSpotNotFoundError):
        client.get_contact(contact_id, ["email"])
    archived = sandbox.get(f"/crm/v3/objects/contacts/{contact_id}", params={"archived": "true"})
    assert archived.json()["archived"] is True
    assert client.get_contact_by_email("gone@example.be", ["email"]) is None


def test_create_contact_conflict_on_email(sandbox) -> None:
    existing = sandbox.submit("dup@example.be")["contact_id"]
    answer = sandbox.post("/crm/v3/objects/contacts", {"properties": {"email": "DUP@example.be"}})
    assert answer.status_code == 409
    assert answer.json()["message"] == f"Contact already exists. Existing ID: {existing}"
    assert answer.json()["category"] == "CONFLICT"
