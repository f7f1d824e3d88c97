"""A fault-injecting HTTP proxy on 127.0.0.1 in front of Azurite.

Every request is numbered; ``policy(number, method, path)`` decides what happens to it:

* ``"pass"``: forwarded, and the answer returned;
* ``"503"``: answered ``503 Server Busy`` without reaching the emulator;
* ``"drop"``: forwarded and *applied* by the emulator, then the connection is closed without an answer
  (the client cannot tell whether its write happened: the case idempotency must survive);
* ``("delay", seconds)``: forwarded after a pause.

The proxy listens on loopback only and forwards to the one emulator it was given, nowhere else.
"""

from __future__ import annotations

import http.client
import itertools
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Action = str | tuple[str, float]
Policy = Callable[[int, str, str], Action]
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te", "trailer"}


@dataclass
class Seen:
    """What the proxy did, for assertions."""

    actions: list[tuple[int, str, str, str]] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions if a[3] == action)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _handle(self) -> None:
        owner = self.server.owner
        number = next(owner.counter)
        action = owner.policy(number, self.command, self.path)
        name = action if isinstance(action, str) else action[0]
        with owner.lock:
            owner.seen.actions.append((number, self.command, self.path, name))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if action == "503":
            self._answer(503, [("x-ms-error-code", "ServerBusy")], b"")
            return
        if isinstance(action, tuple) and action[0] == "delay":
            time.sleep(action[1])
        status, headers, data = owner.forward(self.command, self.path, dict(self.headers.items()), body)
        if action == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._answer(status, headers, data)

    def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        head = self.command == "HEAD"
        for name, value in headers:
            if name.lower() not in _HOP and (head or name.lower() != "content-length"):
                self.send_header(name, value)  # a HEAD answer keeps the blob's length: it has no body
        if not head or not any(n.lower() == "content-length" for n, _ in headers):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FaultProxy


class FaultProxy:
    """A context manager: the proxy runs in a thread until the block ends."""

    def __init__(self, target_host: str, target_port: int, policy: Policy) -> None:
        if target_host not in ("127.0.0.1", "localhost"):
            raise ValueError("the fault proxy forwards to a loopback emulator only")
        self.target = (target_host, target_port)
        self.policy = policy
        self.seen = Seen()
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fault-proxy", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes
                ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.target, timeout=30)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in _HOP}
            connection.request(method, path, body=body or None, headers=sent)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


__all__ = ["Action", "FaultProxy", "Policy", "Seen"]
