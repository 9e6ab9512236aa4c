"""Point simple-salesforce at a local emulator without changing how it is called.

simple-salesforce builds every URL as ``https://<host>/...`` (logins on
``https://<domain>.salesforce.com``, data calls on the instance host), so the only seam is
the ``requests.Session`` it accepts. :func:`emulator_session` returns a session whose
``https://`` adapter sends every request to the emulator's base URL instead, keeping path
and query, and tells the emulator which host was asked for (``X-Forwarded-Host``) so it can
check host-dependent rules such as client credentials needing a My Domain.

Only test and demo settings use it; production passes a plain session and the real hosts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response


class EmulatorRedirectAdapter(HTTPAdapter):
    """Rewrites ``https://<any host>/<path>?<query>`` to ``<base_url>/<path>?<query>``."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        target = urlsplit(base_url)
        if target.scheme not in ("http", "https") or not target.netloc:
            raise ValueError(f"emulator base URL must be http(s)://host[:port], got {base_url!r}")
        self._scheme = target.scheme
        self._netloc = target.netloc
        self._prefix = target.path.rstrip("/")
        super().__init__(**kwargs)

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        original = urlsplit(request.url or "")
        request.url = urlunsplit(
            (self._scheme, self._netloc, self._prefix + original.path, original.query, "")
        )
        request.headers["Host"] = self._netloc
        request.headers["X-Forwarded-Host"] = original.netloc
        return super().send(request, stream, timeout, verify, cert, proxies)


def emulator_session(base_url: str) -> requests.Session:
    """A session whose HTTPS traffic all goes to the emulator at ``base_url``."""
    session = requests.Session()
    session.mount("https://", EmulatorRedirectAdapter(base_url))
    return session
