"""The ``/__sandbox`` endpoints, above all the ``POST /__sandbox/submissions`` contract."""

from __future__ import annotations

import base64
from pathlib import Path

import requests

from connectors.hubspot import HubSpotClient, HubSpotSettings
from sandbox.hubspot import HubSpotEmulator, HubSpotEmulatorConfig

FORM = "6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f"


def control(sandbox, method: str, path: str, body: object = None) -> requests.Response:
    return requests.request(method, f"{sandbox.base_url}{path}", json=body, timeout=10)


def test_create_then_update_by_email(client: HubSpotClient, sandbox) -> None:
    first = sandbox.submit("Eva@example.be", firstname="Eva", site_city="Gouvy")
    assert set(first) == {"conversion_id", "contact_id"}
    second = sandbox.submit("eva@EXAMPLE.be", site_city="Houffalize", budget="300000")

    assert second["contact_id"] == first["contact_id"]
    assert second["conversion_id"] != first["conversion_id"]
    contact = client.get_contact(
        first["contact_id"], ["firstname", "site_city", "budget", "recent_conversion_date"]
    )
    assert (contact.get("firstname"), contact.get("site_city"), contact.get("budget")) == (
        "Eva",
        "Houffalize",
        "300000",
    )
    assert contact.get("recent_conversion_date")
    page = client.list_submissions(FORM)
    assert [s.conversion_id for s in page.submissions] == [
        second["conversion_id"],
        first["conversion_id"],
    ]


def test_files_become_signed_url_values(client: HubSpotClient, sandbox, make_file) -> None:
    sandbox.submit(
        "files@example.be",
        files=[make_file("plan.pdf", b"%PDF-1"), make_file("coupe.pdf", b"%PDF-2")],
    )
    (submission,) = client.list_submissions(FORM).submissions
    urls = submission.file_urls()
    assert len(urls) == 2
    for url in urls:
        assert "/form-integrations/v1/uploaded-files/signed-url-redirect/" in url
        for param in (
            "portalId=",
            "sign=",
            f"conversionId={submission.conversion_id}",
            "filename=",
        ):
            assert param in url
    contact = client.get_contact_by_email("files@example.be", ["plans"])
    assert contact is not None
    assert contact.get("plans") == submission.values["plans"]


def test_deliver_signed_webhook_to_the_service(sandbox, receiver) -> None:
    sandbox.configure(service_webhook_url=receiver.url)
    answer = sandbox.submit("hook@example.be", firstname="Hook", deliver="webhook")
    assert answer["delivery"]["status"] == 204
    assert answer["delivery"]["url"] == receiver.url
    (delivery,) = receiver.deliveries
    assert delivery.verdict.ok
    body = delivery.json()
    assert body["conversion_id"] == answer["conversion_id"]
    assert body["hs_object_id"] == answer["contact_id"]
    assert body["firstname"] == "Hook"
    assert body["form_guid"] == FORM


def test_deliver_app_style_and_a_bad_mode(sandbox, receiver) -> None:
    sandbox.configure(service_webhook_url=receiver.url)
    created = sandbox.submit("app@example.be", deliver="webhook", webhook={"style": "app"})
    again = sandbox.submit(
        "app@example.be", deliver="webhook", webhook={"style": "app", "mode": "stale"}
    )
    assert created["delivery"]["status"] == 204
    assert again["delivery"]["status"] == 401
    first, second = (d.json() for d in receiver.deliveries)
    assert [e["subscriptionType"] for e in first] == ["contact.creation", "contact.propertyChange"]
    assert [e["subscriptionType"] for e in second] == ["contact.propertyChange"]
    assert second[0]["objectId"] == int(created["contact_id"])


def test_contract_rejects_bad_requests(sandbox) -> None:
    base = {"form_guid": FORM, "values": [{"name": "email", "value": "x@example.be"}]}
    cases = [
        ({**base, "form_guid": "unknown"}, 400),
        ({**base, "values": [{"name": "firstname", "value": "No email"}]}, 400),
        ({**base, "files": [{"name": "x.pdf", "content_base64": "***"}]}, 400),
        ({**base, "deliver": "carrier-pigeon"}, 400),
        ({**base, "deliver": "webhook"}, 409),  # no service URL configured
    ]
    for body, status in cases:
        answer = control(sandbox, "POST", "/__sandbox/submissions", body)
        assert answer.status_code == status, (body, answer.text)
        assert "error" in answer.json()
    assert control(sandbox, "POST", "/__sandbox/submissions", base).status_code == 200


def test_stats_reset_and_faults(sandbox, client: HubSpotClient) -> None:
    sandbox.submit("s@example.be")
    client.list_submissions(FORM)
    assert sandbox.stats() == {"GET /form-integrations/v1/submissions/forms/{form_guid}": 1}
    assert control(sandbox, "POST", "/__sandbox/reset", {"scope": "stats"}).ok
    assert sandbox.stats() == {}
    assert len(client.list_submissions(FORM).submissions) == 1  # data kept

    sandbox.fault(method="GET", path="/submissions/", status=503, count=5)
    listed = control(sandbox, "GET", "/__sandbox/faults").json()["faults"]
    assert [(f["status"], f["remaining"]) for f in listed] == [(503, 5)]
    assert control(sandbox, "DELETE", "/__sandbox/faults").status_code == 204
    assert control(sandbox, "GET", "/__sandbox/faults").json() == {"faults": []}
    assert control(sandbox, "POST", "/__sandbox/faults", {"path": "x"}).status_code == 400

    assert control(sandbox, "POST", "/__sandbox/reset").json() == {"reset": "all"}
    assert client.list_submissions(FORM).submissions == []
    assert control(sandbox, "POST", "/__sandbox/config", {"nope": 1}).status_code == 400


def test_the_clock_moves_forward_and_back_to_the_wall_clock(sandbox, client: HubSpotClient) -> None:
    before = control(sandbox, "GET", "/__sandbox/clock").json()
    assert before["offset_seconds"] == 0
    moved = control(sandbox, "POST", "/__sandbox/clock", {"advance_seconds": 86_400}).json()
    assert moved["offset_seconds"] == 86_400
    assert moved["now_ms"] - before["now_ms"] >= 86_400_000

    sandbox.submit("tomorrow@example.be")
    (submission,) = client.list_submissions(FORM).submissions
    assert submission.submitted_at >= moved["now_ms"]  # stamped with the emulator's now

    refused = control(sandbox, "POST", "/__sandbox/clock", {"advance_seconds": -1})
    assert refused.status_code == 400
    assert control(sandbox, "POST", "/__sandbox/clock", {"advance_seconds": "x"}).status_code == 400
    assert control(sandbox, "DELETE", "/__sandbox/clock").json()["offset_seconds"] == 0
    control(sandbox, "POST", "/__sandbox/clock", {"advance_seconds": 60})
    control(sandbox, "POST", "/__sandbox/reset", {"scope": "stats"})
    assert control(sandbox, "GET", "/__sandbox/clock").json()["offset_seconds"] == 60
    control(sandbox, "POST", "/__sandbox/reset")
    assert control(sandbox, "GET", "/__sandbox/clock").json()["offset_seconds"] == 0


def test_a_storage_link_expires_when_the_clock_passes_its_lifetime(
    sandbox, client: HubSpotClient
) -> None:
    sandbox.configure(file_url_ttl_s=60.0)
    sandbox.submit(
        "clock@example.be",
        files=[{"name": "plan.pdf", "content_base64": base64.b64encode(b"PLAN").decode()}],
    )
    (url,) = client.list_submissions(FORM).submissions[0].file_urls()
    redirect = requests.get(url, headers=sandbox.auth, allow_redirects=False, timeout=10).headers[
        "Location"
    ]

    sandbox.advance_clock(30)
    assert requests.get(redirect, timeout=10).content == b"PLAN"
    sandbox.advance_clock(31)
    expired = requests.get(redirect, timeout=10)
    assert expired.status_code == 403
    assert b"Request has expired" in expired.content


def test_state_survives_a_restart(tmp_path: Path) -> None:
    config = HubSpotEmulatorConfig(state_dir=tmp_path, search_delay_s=0)
    with HubSpotEmulator(config) as emulator:
        answer = requests.post(
            f"{emulator.base_url}/__sandbox/submissions",
            json={
                "form_guid": FORM,
                "values": [{"name": "email", "value": "kept@example.be"}],
                "files": [
                    {"name": "kept.pdf", "content_base64": base64.b64encode(b"KEPT").decode()}
                ],
            },
            timeout=5,
        ).json()

    with HubSpotEmulator(config) as emulator:
        client = HubSpotClient(
            HubSpotSettings(
                access_token=config.access_token,
                client_secret=config.client_secret,
                base_url=emulator.base_url,
            )
        )
        (submission,) = client.list_submissions(FORM).submissions
        assert submission.conversion_id == answer["conversion_id"]
        assert client.get_contact(answer["contact_id"], ["email"]).email == "kept@example.be"
        (url,) = submission.file_urls()
        assert url.startswith(emulator.base_url)
        assert client.download_file(url).content == b"KEPT"
        client.close()
