"""One way to serve an emulator: uvicorn in a background thread, on a socket bound first.

Binding before the thread starts means port 0 works and the port is known at once, and a
caller gets a URL that already accepts connections. ``TCP_NODELAY`` on the listening socket
is inherited by accepted connections: without it, Nagle plus delayed ACKs add ~40 ms to
every request/response pair on a kept-alive connection.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT_S = 10.0


class ThreadedServer:
    def __init__(
        self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, **uvicorn_options: Any
    ) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._options = {
            "log_level": "warning",
            "access_log": False,
            "lifespan": "off",
            "timeout_graceful_shutdown": 1,
            **uvicorn_options,
        }
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def start(self, timeout: float = STARTUP_TIMEOUT_S) -> int:
        """Serve; returns the port once connections are accepted."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self._host, self._port))
        sock.listen(128)
        port = int(sock.getsockname()[1])
        server = uvicorn.Server(uvicorn.Config(self._app, **self._options))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"asgi-{port}", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server on {self._host}:{port} did not start")
            time.sleep(0.01)
        return port

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
