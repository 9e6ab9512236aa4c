"""The HubSpot emulator, served on a loopback port in a background thread."""

from __future__ import annotations

from types import TracebackType

from sandbox.asgi_server import ThreadedServer
from sandbox.hubspot.app import create_app
from sandbox.hubspot.config import HubSpotEmulatorConfig
from sandbox.hubspot.runtime import EmulatorRuntime
from sandbox.hubspot.store import EmulatorStore


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
