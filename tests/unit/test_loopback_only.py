"""The suite's own guard: a test that tried to reach the internet would fail loudly."""

from __future__ import annotations

import socket

import pytest
import requests


def test_resolving_or_connecting_beyond_loopback_fails() -> None:
    with pytest.raises(socket.gaierror, match="only loopback"):
        socket.getaddrinfo("api.hubapi.com", 443)
    with pytest.raises(requests.ConnectionError):
        requests.get("https://naturhome.my.salesforce.com/services/data/", timeout=2)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(OSError, match="only loopback"):
        sock.connect(("93.184.216.34", 80))
    sock.close()


def test_loopback_is_allowed() -> None:
    assert socket.getaddrinfo("127.0.0.1", 80)
    assert socket.getaddrinfo("localhost", 80)
