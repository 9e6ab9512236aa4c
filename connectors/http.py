"""HTTP plumbing shared by the connectors: every request gets a timeout.

requests has no default timeout, and simple-salesforce passes none (its issues #148, #611,
#755: services going silent for hours). A session that fills one in for every request,
whatever adapter or caller sends it, closes that hole in one place.
"""

from __future__ import annotations

from typing import Any

import requests


class TimeoutSession(requests.Session):
    def __init__(self, connect_timeout_s: float, read_timeout_s: float) -> None:
        super().__init__()
        self.default_timeout = (connect_timeout_s, read_timeout_s)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)
