"""Requests through an HTTP proxy (the environment's ``http_proxy``/``https_proxy``), and
URLs the direct path leaves alone (user info, a fragment): urllib3 sends these.

Imported on the first such request only: a function that reaches its APIs directly never
loads urllib3. The watchdog (``transport/watchdog.py``) is handed each connection's socket
once the request is sent, as on the direct path.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from function.transport.framing import Headers, WireError
from function.transport.origins import bypass
from function.transport.watchdog import CURRENT, Watchdog

_CHUNK = 64 * 1024
_ONCE: dict[str, Any] = {"redirect": False, "preload_content": False, "retries": False}


class Proxied:
    """urllib3 managers: one for direct URLs, one per proxy; thread-safe."""

    def __init__(self, ca_certs: str | None, maxsize: int, proxies: dict[str, str]) -> None:
        self._options: dict[str, Any] = {"maxsize": maxsize, "block": False, "retries": False}
        self._options.update(cert_reqs="CERT_REQUIRED", ca_certs=ca_certs)
        self._proxies = proxies
        self._direct: urllib3.PoolManager | None = None
        self._via: dict[tuple[str, str], urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None,
        headers: dict[str, str],
        timeout: tuple[float, float],
        watchdog: Watchdog,
        deadline: float | None,
        max_bytes: int,
    ) -> tuple[int, str, Headers, bytes]:
        token = CURRENT.set(watchdog)
        try:
            seconds = urllib3.Timeout(connect=timeout[0], read=timeout[1])
            answer = self._manager(url).request(
                method, url, data, headers, **_ONCE, timeout=seconds
            )
            try:
                body = _read(answer, deadline, max_bytes)
            finally:
                answer.release_conn()
        except MaxRetryError as exc:  # retries=False wraps the cause
            raise _translate(exc.reason or exc) from None
        except Urllib3Error as exc:
            raise _translate(exc) from None
        except (ValueError, TypeError, LookupError, OSError) as exc:  # e.g. a bad header value
            raise WireError("invalid", f"invalid request: {type(exc).__name__}") from None
        finally:
            CURRENT.reset(token)
        return answer.status, answer.reason or "", Headers(list(answer.headers.items())), body

    def _manager(self, url: str) -> urllib3.PoolManager:
        parts = urllib3.util.parse_url(url)
        proxy = self._proxies.get(parts.scheme or "")
        with self._lock:
            if not proxy or bypass(parts.host or "", self._proxies):
                if self._direct is None:
                    self._direct = _watched(urllib3.PoolManager(num_pools=8, **self._options))
                return self._direct
            key = (parts.scheme or "", proxy)
            if key not in self._via:
                made = urllib3.ProxyManager(proxy, num_pools=8, **self._options)
                self._via[key] = _watched(made)
            return self._via[key]

    def clear(self) -> None:
        for manager in [self._direct, *self._via.values()]:
            if manager is not None:
                manager.clear()


def _read(answer: urllib3.BaseHTTPResponse, deadline: float | None, max_bytes: int) -> bytes:
    length = answer.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        answer.close()
        raise WireError("too_large", f"answer of {length} bytes exceeds {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                answer.close()
                raise WireError("timeout", "the answer took longer than allowed")
            _set_read_timeout(answer, left)
        chunk = answer.read1(_CHUNK)  # one socket read: the budget is checked between
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            answer.close()
            raise WireError("too_large", f"answer exceeds {max_bytes} bytes")
        chunks.append(chunk)


def _set_read_timeout(answer: urllib3.BaseHTTPResponse, seconds: float) -> None:
    """Shorten the socket's timeout for the next read to what is left of the budget."""
    sock = getattr(getattr(answer, "connection", None), "sock", None)
    if sock is not None:
        current = sock.gettimeout()
        sock.settimeout(max(0.001, seconds if current is None else min(current, seconds)))


def _translate(exc: BaseException) -> WireError:
    if isinstance(exc, NewConnectionError):  # a subclass of ConnectTimeoutError in urllib3 2
        return WireError("connect", "cannot connect")
    if isinstance(exc, Urllib3Timeout):
        return WireError("timeout", type(exc).__name__)
    if isinstance(exc, SSLError):
        return WireError("tls", "TLS handshake or verification failed")
    if isinstance(exc, ProtocolError):
        return WireError("dropped", "connection dropped")
    return WireError("dropped", type(exc).__name__)


class _WatchedHTTP(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)  # connects first, when the connection is new
        watchdog = CURRENT.get()
        if watchdog is not None:
            watchdog.watch(self.sock)


class _WatchedHTTPS(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)
        watchdog = CURRENT.get()
        if watchdog is not None:
            watchdog.watch(self.sock)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTP


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


def _watched(manager: urllib3.PoolManager) -> urllib3.PoolManager:
    """``manager`` whose connections report their socket to the current watchdog."""
    manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager
