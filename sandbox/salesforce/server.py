"""Run the emulator in-process on loopback: ``SalesforceEmulator(config).start()``.

uvicorn serves the ASGI app from a background thread on a socket bound before the thread
starts, so ``start()`` returns a base URL that already accepts connections and port 0 picks
a free port. Tests and the demo use it as a context manager.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from sandbox.salesforce.app import create_app
from sandbox.salesforce.config import EmulatorConfig
from sandbox.salesforce.org import Org


class SalesforceEmulator:
    """A running emulated org. ``base_url`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.org: Org | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.base_url = ""

    def start(self, timeout: float = 10.0) -> str:
        if self._server is not None:
            return self.base_url
        self.org = Org(self.config)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: without it, Nagle plus delayed ACKs add ~40 ms to
        # every keep-alive request/response pair.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.config.host, self.config.port))
        sock.listen(128)
        self._socket = sock
        port = sock.getsockname()[1]
        server_config = uvicorn.Config(
            create_app(self.org),
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            loop="asyncio",
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(server_config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"sf-emulator-{port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Salesforce emulator did not start")
            time.sleep(0.01)
        self.base_url = f"http://{self.config.host}:{port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        if self.org is not None:
            self.org.close()
        self._server = self._thread = self._socket = None
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
