"""Running the components of one process together: HTTP, scheduler, workers.

``serve`` runs all three (the default deployment); ``api``, ``worker`` and ``scheduler`` run
one each, for several machines sharing a PostgreSQL store. SIGTERM/SIGINT stop claiming
new events, let the events in hand finish within the grace period, release the leases of
those that do not, and close the HTTP server.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from naturhome_sync.logs import get_logger

if TYPE_CHECKING:
    from naturhome_sync.runtime import Runtime
    from naturhome_sync.scheduler import TickScheduler
    from naturhome_sync.worker import Worker

log = get_logger("naturhome_sync.service")


class Service:
    def __init__(
        self,
        runtime: Runtime,
        *,
        api: bool = True,
        workers: int | None = None,
        scheduler: bool = True,
    ) -> None:
        self.runtime = runtime
        self.api = api
        count = runtime.settings.worker.count if workers is None else workers
        if runtime.uses_sqlite and count > 1:
            log.warning("SQLite store: running one worker", configured=count)
            count = 1
        self.worker_count = count
        self.use_scheduler = scheduler
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._workers: list[Worker] = []
        self._scheduler: TickScheduler | None = None
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        assert self._socket is not None, "the HTTP server is not running"
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> Service:
        if self.api:
            self._start_http()
        for index in range(self.worker_count):
            worker = self.runtime.new_worker(index)
            self._workers.append(worker)
            self._spawn(worker.run_forever, f"worker-{index}")
        if self.use_scheduler:
            self._scheduler = self.runtime.scheduler()
            self._scheduler.start()
        log.info(
            "service started",
            http=self.url if self.api else None,
            workers=self.worker_count,
            scheduler=self.use_scheduler,
        )
        return self

    def _start_http(self) -> None:
        settings = self.runtime.settings.http
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it, each response on a kept-alive
        # connection waits ~40 ms for the client's delayed ACK (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((settings.host, settings.port))
        self._socket = sock
        config = uvicorn.Config(
            self.runtime.app(),
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=int(self.runtime.settings.worker.shutdown_grace_seconds),
        )
        self._server = uvicorn.Server(config)
        self._spawn(lambda: self._server.run(sockets=[sock]) if self._server else None, "http")
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise RuntimeError("the HTTP server did not start")

    def _spawn(self, target: object, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def run_until_signal(self) -> None:
        """Block until SIGTERM/SIGINT (main thread only), then stop gracefully."""

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("stop requested", signal=signal.Signals(signum).name)
            self._stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._scheduler:
            self._scheduler.shutdown()
        for worker in self._workers:
            worker.stop()
        grace = self.runtime.settings.worker.shutdown_grace_seconds
        deadline = time.monotonic() + grace
        while any(w.busy for w in self._workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        for worker in self._workers:
            if worker.busy and worker.release_current():
                log.warning("released an unfinished event", worker=worker.name)
        if self._server:
            self._server.should_exit = True
        for thread in self._threads:
            thread.join(timeout=max(1.0, deadline - time.monotonic()))
        if self._socket:
            self._socket.close()
        log.info("service stopped")

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
