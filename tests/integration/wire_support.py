"""Scripted HTTP servers for the transport's wire tests: real sockets, raw bytes.

A ``Scripted`` server on 127.0.0.1 reads each request (head, then a ``Content-Length``
body), records the raw bytes, and lets the test's script answer on the socket with
whatever bytes it likes; the script says whether the connection stays open for the
next request. The server counts the connections it accepted and the ones it closed,
so a test can tell reuse from reconnection. With ``tls`` it speaks TLS first.
"""

from __future__ import annotations

import re
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from function.transport.session import Response, Session

Script = Callable[[socket.socket, bytes, int], bool]
"""``(socket, raw request, request number from 0) -> keep the connection open``."""

TIMEOUT = (2.0, 2.0)
HOLD_S = 8.0
"""How long a server that "never answers" waits for the client to hang up."""
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


class Scripted(socketserver.ThreadingTCPServer):
    daemon_threads = True
    request_queue_size = 64  # 16 threads connecting at once must not overflow the backlog

    def __init__(self, script: Script, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.tls = tls
        self.lock = threading.Lock()
        self.accepted = 0
        self.requests: list[bytes] = []
        self.received = bytearray()  # every byte read, requests or not
        self.finished = 0  # connections the server has closed
        self._changed = threading.Condition(self.lock)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        super().shutdown_request(request)
        with self._changed:
            self.finished += 1
            self._changed.notify_all()

    def wait_finished(self, count: int, timeout: float = 2.0) -> bool:
        """Wait until the server has closed ``count`` connections (its side of them)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.finished >= count, timeout)


class _Handler(socketserver.BaseRequestHandler):
    server: Scripted

    def handle(self) -> None:
        server = self.server
        with server.lock:
            server.accepted += 1
        try:
            if server.tls is None:
                self._serve(self.request)
                return
            with server.tls.wrap_socket(self.request, server_side=True) as sock:
                self._serve(sock)
        except OSError:  # the client hung up, reset, or refused our certificate
            return

    def _serve(self, sock: socket.socket) -> None:
        buffer = b""
        while True:
            request, buffer = self._read_request(sock, buffer)
            if request is None:
                return
            with self.server.lock:
                number = len(self.server.requests)
                self.server.requests.append(request)
            if not self.server.script(sock, request, number):
                return

    def _read_request(self, sock: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
        while b"\r\n\r\n" not in buffer:
            data = self._receive(sock)
            if not data:
                return None, buffer
            buffer += data
        end = buffer.index(b"\r\n\r\n") + 4
        found = _LENGTH.search(buffer[: end - 2])
        end += int(found.group(1)) if found else 0
        while len(buffer) < end:
            data = self._receive(sock)
            if not data:
                return None, buffer
            buffer += data
        return buffer[:end], buffer[end:]

    def _receive(self, sock: socket.socket) -> bytes:
        data = sock.recv(65536)
        with self.server.lock:
            self.server.received += data
        return data


def answers(*replies: bytes, close: bool = False) -> Script:
    """Answer request n with ``replies[n]`` (the last one for any later request); hang up
    after each answer if ``close``."""

    def script(sock: socket.socket, request: bytes, number: int) -> bool:
        sock.sendall(replies[min(number, len(replies) - 1)])
        return not close

    return script


def hold(sock: socket.socket, seconds: float = HOLD_S) -> None:
    """Wait (at most ``seconds``) for the client to hang up or send something."""
    sock.settimeout(seconds)
    try:
        sock.recv(1)
    except OSError:
        pass


def ok(body: bytes = b"ok", *headers: str) -> bytes:
    """A keep-alive HTTP/1.1 200 with ``Content-Length``."""
    head = "".join(f"{line}\r\n" for line in headers)
    return b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s" % (head.encode(), len(body), body)


def head_of(request: bytes) -> tuple[str, dict[str, list[str]], bytes]:
    """The request line, the headers (lower-case names) and the body of a raw request."""
    head, _, body = request.partition(b"\r\n\r\n")
    line, *rest = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for field in rest:
        name, _, value = field.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return line, headers, body


@contextmanager
def serving(script: Script, tls: ssl.SSLContext | None = None) -> Iterator[Scripted]:
    server = Scripted(script, tls)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def fetch(
    server: Scripted, path: str = "/", session: Session | None = None, *, method: str = "GET"
) -> Response:
    """One request to ``server`` (through ``session``, else a session of its own)."""
    if session is None:
        with Session() as own:
            return fetch(server, path, own, method=method)
    return session.request(method, server.url + path, timeout=TIMEOUT)


def bodies(server: Scripted, count: int, session: Session | None = None) -> list[bytes]:
    """``count`` requests through one session, their bodies."""
    if session is None:
        with Session() as own:
            return bodies(server, count, own)
    return [fetch(server, "/", session).content for _ in range(count)]
