"""Run the emulator in-process on loopback: ``SalesforceEmulator(config).start()``.

uvicorn serves the ASGI app from a background thread on a socket bound before the thread
starts, so ``start()`` returns a base URL that already accepts connections and port 0 picks
a free port. Tests and the demo use it as a context manager.
"""

from __future__ import annotations

from types import TracebackType

from sandbox.asgi_server import ThreadedServer
from sandbox.salesforce.app import create_app
from sandbox.salesforce.config import EmulatorConfig
from sandbox.salesforce.org import Org


class SalesforceEmulator:
    """A running emulated org. ``base_url`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.org: Org | None = None
        self._server: ThreadedServer | None = None
        self.base_url = ""

    def start(self, timeout: float = 10.0) -> str:
        if self._server is not None:
            return self.base_url
        self.org = Org(self.config)
        server = ThreadedServer(
            create_app(self.org),
            self.config.host,
            self.config.port,
            http="h11",
            loop="asyncio",
            timeout_keep_alive=30,
        )
        try:
            port = server.start(timeout)
        except RuntimeError:
            self.org.close()
            self.org = None
            raise RuntimeError("the Salesforce emulator did not start") from None
        self._server = server
        self.base_url = f"http://{self.config.host}:{port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self.org is not None:
            self.org.close()
        self._server = None
        self.org = None

    def __enter__(self) -> SalesforceEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
