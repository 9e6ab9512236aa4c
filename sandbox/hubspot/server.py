"""Runs the emulator (or any ASGI app) on a loopback port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from sandbox.hubspot.app import create_app
from sandbox.hubspot.config import HubSpotEmulatorConfig
from sandbox.hubspot.runtime import EmulatorRuntime
from sandbox.hubspot.store import EmulatorStore

STARTUP_TIMEOUT_S = 10.0


class ThreadedServer:
    """uvicorn on a socket we bind ourselves, so port 0 works and the port is known at once."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"asgi-{port}", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {self._host}:{port} did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        return port

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=STARTUP_TIMEOUT_S)
        self._server = self._thread = None


class HubSpotEmulator:
    """The HubSpot emulator as a context manager: ``with HubSpotEmulator(cfg) as emu: ...``.

    ``start()`` returns the API base URL (``http://127.0.0.1:<port>``) to give
    hubspot-api-client as ``host=``/``base_url=``; uploaded files are served from
    ``storage_base_url`` (``http://localhost:<port>`` by default).
    """

    def __init__(self, config: HubSpotEmulatorConfig) -> None:
        self.config = config
        self._runtime: EmulatorRuntime | None = None
        self._server: ThreadedServer | None = None

    @property
    def runtime(self) -> EmulatorRuntime:
        if self._runtime is None:
            raise RuntimeError("the emulator is not running")
        return self._runtime

    @property
    def base_url(self) -> str:
        return self.runtime.base_url

    @property
    def storage_base_url(self) -> str:
        return self.runtime.storage_base_url

    def start(self) -> str:
        if self._runtime is not None:
            return self._runtime.base_url
        runtime = EmulatorRuntime(self.config, EmulatorStore(self.config.state_dir))
        server = ThreadedServer(create_app(runtime), self.config.host, self.config.port)
        try:
            runtime.set_port(server.start())
        except Exception:
            runtime.store.close()
            raise
        self._runtime, self._server = runtime, server
        return runtime.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._runtime is not None:
            self._runtime.store.close()
        self._runtime = self._server = None

    def set_service_webhook_url(self, url: str | None) -> None:
        self.runtime.update_settings({"service_webhook_url": url})

    def __enter__(self) -> HubSpotEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
