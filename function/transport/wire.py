"""HTTP/1.1 to one origin over kept-alive sockets: the request written as one buffer, the
answer parsed by llhttp (Node.js's HTTP parser, through ``httptools``).

Why not urllib3 here: a keep-alive GET through urllib3 costs about 170 µs of CPU, most
of it in ``http.client`` (every answer's headers parsed by the ``email`` package, every
header sent validated one call at a time) and in urllib3's wrapping of it; the same
exchange here costs about 40 µs (``bench/``). An event makes three or more such calls,
so this is most of the function's CPU per event. What urllib3 did that is still needed is
here, and small: a pool of idle connections per origin (a dropped one is noticed before
reuse), TLS through the ``ssl`` module with the hostname checked, connect and read
timeouts. Proxied origins still go through urllib3 (``transport/proxied.py``).

The answer is read by ``transport/framing.py``. A connection goes back to the pool
only after a complete answer that allows it; anything else closes it.
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import threading
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from function.transport.framing import Headers, WireError, read_answer, time_left

_SAFE_PATH = "/%:@!$&'()*+,;=-._~?[]"
"""Characters a request target may carry as they are; others are percent-encoded."""


class Connection:
    """One socket to the origin, idle between answers."""

    __slots__ = ("sock",)

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def dropped(self) -> bool:
        """The server closed it (or sent something unasked) while it was idle."""
        try:
            poll = select.poll()  # not select(): any descriptor number
            poll.register(self.sock, select.POLLIN)
            return bool(poll.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Origin:
    """The idle connections to one ``scheme://host:port`` (at most ``maxsize`` kept);
    thread-safe, each connection used by one request at a time."""

    def __init__(
        self, scheme: str, host: str, port: int, tls: ssl.SSLContext | None, maxsize: int
    ) -> None:
        self.address = (host.strip("[]"), port)
        default = 443 if scheme == "https" else 80
        self.host = host if port == default else f"{host}:{port}"
        self._tls = tls
        self._maxsize = maxsize
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        weakref.finalize(self, _close_all, self._idle)  # a dropped session's sockets closed
        _LIVE.add(self)

    def exchange(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        on_socket: Any,
        timeout: tuple[float, float],
        deadline: float | None,
        max_bytes: int,
    ) -> tuple[int, str, Headers, bytes]:
        """Send one request and read its whole answer. ``on_socket`` is told the socket
        once the request is sent (the watchdog's hook); ``deadline`` (monotonic) bounds
        each read as well as the read timeout does."""
        request = _encode(method, target, self.host, headers, body)
        conn = self._take(timeout[0])
        try:
            seconds = time_left(timeout[1], deadline)
            if conn.sock.gettimeout() != seconds:  # setting it is a system call
                conn.sock.settimeout(seconds)
            conn.sock.sendall(request)
            on_socket(conn.sock)
            answer, reusable = read_answer(conn.sock, method, timeout[1], deadline, max_bytes)
        except BaseException:
            conn.close()
            raise
        if reusable:
            self._give(conn)
        else:
            conn.close()
        return answer

    def _take(self, connect_timeout: float) -> Connection:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.dropped():
                    return conn
                conn.close()
        return self._connect(connect_timeout)

    def _give(self, conn: Connection) -> None:
        with self._lock:
            if len(self._idle) < self._maxsize:
                self._idle.append(conn)
                return
        conn.close()

    def _connect(self, timeout: float) -> Connection:
        try:
            sock = socket.create_connection(self.address, timeout=timeout)
        except TimeoutError:
            raise WireError("timeout", "ConnectTimeoutError") from None
        except OSError:
            raise WireError("connect", "cannot connect") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is None:
            return Connection(sock)
        try:  # the handshake under the connect timeout; the hostname is checked
            return Connection(self._tls.wrap_socket(sock, server_hostname=self.address[0]))
        except TimeoutError:
            sock.close()
            raise WireError("timeout", "TLS handshake timed out") from None
        except (ssl.SSLError, ssl.CertificateError, OSError):
            sock.close()
            raise WireError("tls", "TLS handshake or verification failed") from None

    def clear(self) -> None:
        with self._lock:
            idle = self._idle[:]
            self._idle.clear()
        _close_all(idle)


def _close_all(connections: list[Connection]) -> None:
    for conn in connections:
        conn.close()


def _encode(
    method: str, target: str, host: str, headers: Mapping[str, str] | None, body: bytes | None
) -> bytes:
    """The request's bytes; a name or value that could end a header (CR, LF, NUL) is refused."""
    if not method.isalpha() or not method.isascii():
        raise WireError("invalid", "invalid request: method")
    if not target.isascii() or any(c in target for c in " \t\r\n\0#"):
        target = quote(target, safe=_SAFE_PATH)
    lines = [f"{method} {target} HTTP/1.1"]
    given = {name.lower() for name in headers} if headers else set()
    if "host" not in given:  # a signed request brings the Host it signed
        lines.append(f"Host: {host}")
    if "accept-encoding" not in given:  # as http.client: no compressed answers
        lines.append("Accept-Encoding: identity")
    for name, value in (headers or {}).items():
        if not _clean(name) or ":" in name or " " in name or not name or not _clean(value):
            raise WireError("invalid", "invalid request: a header name or value")
        lines.append(f"{name}: {value}")
    if "content-length" not in given and (body is not None or method in ("POST", "PUT", "PATCH")):
        lines.append(f"Content-Length: {len(body or b'')}")
    try:
        head = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n"
    except UnicodeEncodeError:
        raise WireError("invalid", "invalid request: a header not in ISO-8859-1") from None
    return head + body if body else head


def _clean(text: str) -> bool:
    return "\r" not in text and "\n" not in text and "\0" not in text


def tls_context(ca_certs: str | None) -> ssl.SSLContext:
    """Verified TLS (1.2 at least, the hostname checked) against ``ca_certs``."""
    context = ssl.create_default_context(cafile=ca_certs)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


_LIVE: weakref.WeakSet[Origin] = weakref.WeakSet()


def _forget_in_child() -> None:
    """A forked child closes the connections it inherited: they are the parent's."""
    for origin in list(_LIVE):
        origin.clear()


os.register_at_fork(after_in_child=_forget_in_child)
