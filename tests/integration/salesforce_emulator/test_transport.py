"""``connectors.salesforce_transport``: every https URL goes to the emulator, path and
query intact, with the host that was asked for in X-Forwarded-Host."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from connectors.salesforce_transport import EmulatorRedirectAdapter, emulator_session


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        forwarded = self.headers.get("X-Forwarded-Host")
        body = f"{self.path}|{self.headers.get('Host')}|{forwarded}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_https_requests_are_rewritten_to_the_base_url(echo: str) -> None:
    session = emulator_session(echo)
    response = session.get(
        "https://naturhome.my.salesforce.com/services/data/v59.0/query/?q=SELECT+Id+FROM+Account"
    )
    path, host, forwarded = response.text.split("|")
    assert path == "/services/data/v59.0/query/?q=SELECT+Id+FROM+Account"
    assert host == echo.removeprefix("http://")
    assert forwarded == "naturhome.my.salesforce.com"


def test_encoded_path_segments_are_kept_as_sent(echo: str) -> None:
    response = emulator_session(echo).get(
        "https://login.salesforce.com/services/data/v59.0/sobjects/A/F/x%2Fy%20z"
    )
    assert response.text.split("|")[0] == "/services/data/v59.0/sobjects/A/F/x%2Fy%20z"


def test_base_url_with_a_path_prefix(echo: str) -> None:
    response = emulator_session(echo + "/prefix/").get("https://x.salesforce.com/services/data/")
    assert response.text.split("|")[0] == "/prefix/services/data/"


def test_invalid_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="base URL"):
        EmulatorRedirectAdapter("127.0.0.1:8000")
