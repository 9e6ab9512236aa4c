"""Uploaded files: HubSpot's authenticated link, its cross-host redirect, the size cap."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from connectors.hubspot import (
    HubSpotClient,
    HubSpotFileTooLargeError,
    HubSpotFileUnavailableError,
    HubSpotFileUrlError,
    HubSpotSettings,
)
from connectors.hubspot_files import _file_name, _read_capped, _safe_name
from naturhome_sync.errors import AuthError
from sandbox.hubspot import HubSpotEmulator, HubSpotEmulatorConfig

PDF = b"%PDF-1.7\n" + b"0" * 5000 + b"\n%%EOF"
REDIRECT = "GET /form-integrations/v1/uploaded-files/signed-url-redirect/{file_id}"
STORAGE = "GET /_files/{token}"


def plans_url(client: HubSpotClient, email: str) -> str:
    submission = client.latest_submission_for_contact("6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f", email)
    assert submission is not None
    return submission.file_urls()[0]


def test_download_follows_the_redirect_without_the_token(
    client: HubSpotClient, sandbox, make_file
) -> None:
    sandbox.submit("p@example.be", files=[make_file("Plan rez-de-chaussée.pdf", PDF)])
    url = plans_url(client, "p@example.be")
    assert url.startswith(f"{sandbox.base_url}/form-integrations/v1/uploaded-files/")

    downloaded = client.download_file(url)

    assert downloaded.content == PDF
    assert downloaded.name == "Plan rez-de-chaussée.pdf"
    assert downloaded.content_type == "application/pdf"
    calls = sandbox.stats()
    assert (calls[REDIRECT], calls[STORAGE]) == (1, 1)

    # The storage URL refuses a request that carries the bearer token, so the successful
    # download above proves the connector did not forward it.
    hop = requests.get(url, headers=sandbox.auth, allow_redirects=False, timeout=5)
    storage = hop.headers["Location"]
    assert not storage.startswith(sandbox.base_url)
    assert storage.startswith(sandbox.emulator.storage_base_url)
    with_token = requests.get(storage, headers=sandbox.auth, timeout=5)
    assert with_token.status_code == 400
    assert b"Only one auth mechanism allowed" in with_token.content
    assert requests.get(storage, timeout=5).content == PDF


def test_several_files_in_one_field_and_a_named_field(
    client: HubSpotClient, sandbox, make_file
) -> None:
    sandbox.submit(
        "multi@example.be",
        files=[
            make_file("a.pdf", b"%PDF a"),
            make_file("b.dwg", b"DWG b"),
            make_file("photo.jpg", b"JPEG", field="message"),
        ],
    )
    submission = client.latest_submission_for_contact(
        "6f1c9a52-3d0b-4c47-9b8e-1a2b3c4d5e6f", "multi@example.be"
    )
    assert submission is not None
    plans = submission.file_urls()
    assert [client.download_file(url).content for url in plans] == [b"%PDF a", b"DWG b"]
    (photo,) = submission.file_urls("message")
    assert client.download_file(photo).name == "photo.jpg"


def test_too_large_is_refused_before_reading(client: HubSpotClient, sandbox, make_file) -> None:
    sandbox.submit("big@example.be", files=[make_file("big.pdf", PDF)])
    url = plans_url(client, "big@example.be")
    with pytest.raises(HubSpotFileTooLargeError) as caught:
        client.download_file(url, max_bytes=1024)
    assert caught.value.code == "FILE_TOO_LARGE"
    assert sandbox.stats()[STORAGE] == 1  # permanent: not retried


def test_size_cap_also_holds_without_content_length() -> None:
    response = requests.Response()
    response.status_code = 200
    response.raw = io.BytesIO(b"x" * 3000)
    with pytest.raises(HubSpotFileTooLargeError):
        _read_capped(response, 2048)
    response.raw = io.BytesIO(b"x" * 2048)
    assert _read_capped(response, 2048) == b"x" * 2048


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ("attachment; filename=\"a?.pdf\"; filename*=UTF-8''%C3%A9t%C3%A9.pdf", "été.pdf"),
        ("attachment; filename*=utf-8''plan%201.pdf; filename=\"x.pdf\"", "plan 1.pdf"),
        ('attachment; filename="coupe \\"A\\".pdf"', 'coupe "A".pdf'),
        ("attachment; filename=plain.dwg", "plain.dwg"),
        ("attachment", "from-link.pdf"),
    ],
)
def test_file_name_prefers_the_extended_parameter(disposition: str, expected: str) -> None:
    response = requests.Response()
    response.headers["Content-Disposition"] = disposition
    link = (
        "http://h/form-integrations/v1/uploaded-files/signed-url-redirect/9?filename=from-link.pdf"
    )
    assert _file_name(response, link) == expected
    assert _safe_name("..\\..\\etc/passwd") == "passwd"


def test_a_long_file_name_is_cut_keeping_its_extension() -> None:
    name = _safe_name("plan " + "x" * 600 + ".pdf")
    assert len(name) == 255 and name.endswith("x.pdf") and name.startswith("plan x")
    assert _safe_name("y" * 300) == "y" * 255
    assert _safe_name("notes." + "z" * 300) == ("notes." + "z" * 300)[:255]  # no real extension


def test_expired_storage_link_is_transient_and_retried(
    client: HubSpotClient, sandbox, make_file, sleeps
) -> None:
    sandbox.submit("late@example.be", files=[make_file("late.pdf", PDF)])
    url = plans_url(client, "late@example.be")
    sandbox.configure(file_url_ttl_s=0)
    with pytest.raises(HubSpotFileUnavailableError) as caught:
        client.download_file(url)
    assert caught.value.code == "FILE_LINK_REFUSED"
    assert caught.value.details["status"] == 403
    calls = sandbox.stats()
    assert (calls[REDIRECT], calls[STORAGE]) == (3, 3)  # each attempt gets a fresh link
    assert len(sleeps.waits) == 2


def test_unreachable_storage_host(tmp_path: Path, closed_port_url: str, make_file) -> None:
    config = HubSpotEmulatorConfig(state_dir=tmp_path, storage_base_url=closed_port_url)
    with HubSpotEmulator(config) as emulator:
        requests.post(
            f"{emulator.base_url}/__sandbox/submissions",
            json={
                "form_guid": config.form_guids[0],
                "values": [{"name": "email", "value": "x@example.be"}],
                "files": [make_file("x.pdf", PDF)],
            },
            timeout=5,
        ).raise_for_status()
        client = HubSpotClient(
            HubSpotSettings(
                access_token=config.access_token,
                client_secret=config.client_secret,
                base_url=emulator.base_url,
                retry_attempts=1,
            )
        )
        url = plans_url(client, "x@example.be")
        with pytest.raises(HubSpotFileUnavailableError) as caught:
            client.download_file(url)
        client.close()
        assert caught.value.code == "FILE_UNREACHABLE"
        assert caught.value.retryable


def test_unreachable_hubspot_host(
    make_client: Callable[..., HubSpotClient], closed_port_url: str
) -> None:
    client = make_client(base_url=closed_port_url)
    link = (
        f"{closed_port_url}/form-integrations/v1/uploaded-files/signed-url-redirect/1"
        f"?portalId={client.settings.portal_id}&sign=x"
    )
    with pytest.raises(HubSpotFileUnavailableError):
        client.download_file(link)


def test_token_is_never_sent_to_a_foreign_link(client: HubSpotClient, sandbox) -> None:
    foreign = "https://evil.example.com/form-integrations/v1/uploaded-files/signed-url-redirect/1"
    with pytest.raises(HubSpotFileUrlError):
        client.download_file(foreign)
    other_port = sandbox.base_url.rsplit(":", 1)[0] + ":1/x"
    with pytest.raises(HubSpotFileUrlError):
        client.download_file(other_port)
    assert sandbox.stats() == {}


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/crm/v3/objects/contacts?limit=100", "NOT_A_FILE_LINK"),
        ("/form-integrations/v1/submissions/forms/x", "NOT_A_FILE_LINK"),
        ("/form-integrations/v1/uploaded-files/signed-url-redirect/", "NOT_A_FILE_LINK"),
        (
            "/form-integrations/v1/uploaded-files/signed-url-redirect/../../../crm/v3/objects/"
            "contacts?portalId=26123456",
            "NOT_A_FILE_LINK",
        ),
        (
            "/form-integrations/v1/uploaded-files/signed-url-redirect/..%2F..%2Fcrm?portalId=1",
            "NOT_A_FILE_LINK",
        ),
        ("/form-integrations/v1/uploaded-files/signed-url-redirect/1?sign=x", "OTHER_PORTAL"),
        (
            "/form-integrations/v1/uploaded-files/signed-url-redirect/1?portalId=999&sign=x",
            "OTHER_PORTAL",
        ),
    ],
)
def test_the_token_goes_only_to_uploaded_file_links_of_the_portal(
    client: HubSpotClient, sandbox, path: str, code: str
) -> None:
    """On the API host with the token, any other path would read the portal's data."""
    with pytest.raises(HubSpotFileUrlError) as caught:
        client.download_file(f"{sandbox.base_url}{path}")
    assert caught.value.code == code
    assert sandbox.stats() == {}  # refused before any request


def test_without_a_configured_portal_any_portal_is_fetched(
    make_client: Callable[..., HubSpotClient], sandbox, make_file
) -> None:
    client = make_client(portal_id=None)
    sandbox.submit("np@example.be", files=[make_file("np.pdf", PDF)])
    assert client.download_file(plans_url(client, "np@example.be")).content == PDF


def test_bad_sign_and_missing_token(client: HubSpotClient, sandbox, make_file) -> None:
    sandbox.submit("s@example.be", files=[make_file("s.pdf", PDF)])
    url = plans_url(client, "s@example.be")
    forged = url.replace("sign=", "sign=0")
    with pytest.raises(AuthError):
        client.download_file(forged)
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(forged, headers=sandbox.auth, timeout=5).status_code == 403
