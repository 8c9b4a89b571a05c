"""HTTP for the function's own calls (compute API, sinks): urllib3, kept alive, kept lean.

``requests`` is urllib3 plus conveniences this function does not use (cookies,
redirects, auth hooks, an environment scan on every call). Measured on a
2-core test machine, one keep-alive GET costs 0.74 ms of CPU through a
``requests.Session`` (1.6 ms with ``trust_env``) and 0.34 ms through urllib3,
and importing requests adds about 100 ms to a cold start. So the calls of one
event go through this small session: one ``PoolManager`` per process, shared
by threads, connections kept alive, TLS always verified, the environment's
proxy settings read once. Errors become ``TransportError`` here, and the ECS
client maps those (and HTTP answers) to the project's error tree.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

Timeout = tuple[float, float]


class TransportError(Exception):
    """The request got no HTTP answer (refused, reset, TLS failure, …)."""


class TransportTimeout(TransportError):
    """Connecting or reading took longer than allowed."""


class Response:
    """An HTTP answer, read in full (the API's bodies are small)."""

    def __init__(self, status: int, reason: str, headers: Mapping[str, str], body: bytes) -> None:
        self.status_code = status
        self.reason = reason
        self.headers = headers
        self.content = body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class HttpSession(Protocol):
    """What the ECS client and the sinks need of a session (the seam tests hook into)."""

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = (3.05, 20.0),
    ) -> Response: ...

    def close(self) -> None: ...


class Session:
    """One per process; thread-safe (urllib3's pools are)."""

    def __init__(self, *, ca_certs: str | None = None, maxsize: int = 32) -> None:
        options: dict[str, Any] = {"maxsize": maxsize, "block": False, "retries": False}
        options.update(cert_reqs="CERT_REQUIRED", ca_certs=ca_certs or _default_ca())
        self._options = options
        self._direct = urllib3.PoolManager(num_pools=8, **options)
        self._proxies = urllib.request.getproxies_environment()  # read once, not per call
        self._via: dict[tuple[str, str], urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = (3.05, 20.0),
    ) -> Response:
        pool = self._manager(url)
        try:
            answer = pool.request(
                method, url, body=data, headers=dict(headers or {}), redirect=False,
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
            )  # fmt: skip
        except MaxRetryError as exc:  # retries=False wraps the cause
            raise _translate(exc.reason or exc) from exc
        except Urllib3Error as exc:
            raise _translate(exc) from exc
        return Response(answer.status, answer.reason or "", answer.headers, answer.data)

    def close(self) -> None:
        self._direct.clear()
        for pool in self._via.values():
            pool.clear()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _manager(self, url: str) -> urllib3.PoolManager:
        """The direct pool, or a proxy's for hosts the environment sends through one."""
        parts = urlsplit(url)
        proxy = self._proxies.get(parts.scheme)
        if not proxy or _bypass(parts.hostname or "", self._proxies):
            return self._direct
        with self._lock:
            key = (parts.scheme, proxy)
            if key not in self._via:
                self._via[key] = urllib3.ProxyManager(proxy, num_pools=8, **self._options)
            return self._via[key]


def _bypass(host: str, proxies: dict[str, str]) -> bool:
    """``no_proxy`` says this host is reached directly."""
    bypass: bool = urllib.request.proxy_bypass_environment(host, proxies)  # type: ignore[attr-defined]
    return bypass


def _translate(exc: BaseException) -> TransportError:
    """A short, secret-free description: never the URL's query or the headers."""
    if isinstance(exc, NewConnectionError):  # a subclass of ConnectTimeoutError in urllib3 2
        return TransportError("ConnectionError: cannot connect")
    if isinstance(exc, Urllib3Timeout):
        return TransportTimeout(f"Timeout: {type(exc).__name__}")
    if isinstance(exc, SSLError):
        return TransportError("SSLError: TLS handshake or verification failed")
    if isinstance(exc, ProtocolError):
        return TransportError("ConnectionError: connection dropped")
    return TransportError(f"ConnectionError: {type(exc).__name__}")


def _default_ca() -> str | None:
    try:
        import certifi  # what requests would use; present wherever requests is
    except ModuleNotFoundError:  # pragma: no cover - the system store then
        return None
    return str(certifi.where())
