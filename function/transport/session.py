"""HTTP for the function's own calls (compute API, sinks): kept alive, kept lean.

``requests`` is urllib3 plus conveniences this function does not use (cookies,
redirects, auth hooks, an environment scan on every call), and urllib3 parses every
answer through ``http.client`` and the ``email`` package. Measured on a 2-core test
machine, one keep-alive GET costs about 0.74 ms of CPU through a ``requests.Session``,
0.17 ms through urllib3 and 0.04 ms through ``transport/wire.py`` (a request written
as one buffer, the answer parsed by llhttp through ``httptools``), and importing
requests adds about 100 ms to a cold start. So the calls of one event go through this
small session: one per process, shared by threads, connections kept alive, TLS always
verified. Which connections a URL goes to (and the environment's proxy settings, read
once) is ``transport/origins.py``'s; a proxied URL goes through urllib3
(``transport/proxied.py``, imported on the first). Errors become ``TransportError``
here, and the API client layer (``transport/api.py``) maps those (and HTTP answers) to
the project's error tree.

A request given a ``total`` is bounded whole, status line and headers included: a
per-read timeout alone lets an answer that trickles in (a byte every second) hold
the caller for ever. Each read's timeout is cut to what is left of ``total``, and a
watchdog (``transport/watchdog.py``: one thread for the process, ~8 µs to arm) shuts
the connection's socket down at ``total`` whatever it is doing (a TLS handshake that
trickles, a proxy); that is reported as a timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from function.transport.framing import WireError
from function.transport.origins import Origins
from function.transport.watchdog import Watchdog

if TYPE_CHECKING:
    from function.transport.proxied import Proxied

Timeout = tuple[float, float]


class TransportError(Exception):
    """The request got no HTTP answer (refused, reset, TLS failure, …)."""


class TransportTimeout(TransportError):
    """Connecting or reading took longer than allowed."""


class TooLarge(TransportError):
    """The answer is larger than the session accepts; it was not read."""


MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""No answer of the APIs we call comes near this; a larger one is refused unread."""


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
    """What the API clients and the sinks need of a session (the seam tests hook into)."""

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = (3.05, 20.0),
        total: float | None = None,
    ) -> Response: ...

    def close(self) -> None: ...


class Session:
    """One per process; thread-safe (each connection serves one request at a time)."""

    def __init__(
        self,
        *,
        ca_certs: str | None = None,
        maxsize: int = 32,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self._max_bytes = max_answer_bytes
        self._origins = Origins(ca_certs or _default_ca(), maxsize)
        self._proxied: Proxied | None = None
        self._maxsize = maxsize

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = (3.05, 20.0),
        total: float | None = None,
    ) -> Response:
        """One request. ``total`` bounds the whole exchange, body included (an answer
        that trickles in byte by byte cannot hold the caller past it); answers larger
        than ``max_answer_bytes`` are refused unread. Errors never carry header values."""
        deadline = None
        if total is not None:
            deadline = time.monotonic() + total
            timeout = (min(timeout[0], total), min(timeout[1], total))
        watchdog = Watchdog(total)
        try:
            origin, target = self._origins.pick(url)
            if origin is not None:
                limits = (timeout, deadline, self._max_bytes)
                answer = origin.exchange(method, target, headers, data, watchdog.watch, *limits)
            else:
                sent = dict(headers or {})
                answer = self._via().request(
                    method, url, data, sent, timeout, watchdog, deadline, self._max_bytes
                )
        except WireError as exc:
            raise _timed_out(watchdog) or _translate(exc, url) from None
        finally:
            watchdog.cancel()
        late = _timed_out(watchdog)  # a socket shut mid-body can look like the body's end
        if late is not None:
            raise late
        return Response(*answer)

    def _via(self) -> Proxied:
        if self._proxied is None:
            from function.transport.proxied import Proxied  # noqa: PLC0415 - the rare path

            proxies = self._origins.proxies
            self._proxied = Proxied(self._origins.ca_certs, self._maxsize, proxies)
        return self._proxied

    def close(self) -> None:
        self._origins.clear()
        if self._proxied is not None:
            self._proxied.clear()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _timed_out(watchdog: Watchdog) -> TransportTimeout | None:
    if not watchdog.fired:
        return None
    return TransportTimeout("Timeout: no complete answer within the request's budget")


def _translate(exc: WireError, url: str) -> TransportError:
    """A short, secret-free description: scheme, host and port at most; never the URL's
    path or query, never a header."""
    where = _where(url)
    if exc.kind == "too_large":
        return TooLarge(str(exc))
    if exc.kind == "invalid":
        return TransportError(str(exc))
    if exc.kind == "connect":
        return TransportError(f"ConnectionError: cannot connect to {where}")
    if exc.kind == "timeout":
        return TransportTimeout(f"Timeout: {exc} ({where})")
    if exc.kind == "tls":
        return TransportError(f"SSLError: TLS handshake or verification failed ({where})")
    return TransportError(f"ConnectionError: {exc} ({where})")


def _where(url: str) -> str:
    """``scheme://host:port`` of ``url`` (no user info, path or query)."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme, 0)
    except ValueError:
        return "the endpoint"
    if not parts.hostname:
        return "the endpoint"
    return f"{parts.scheme}://{parts.hostname}:{port}"


def _default_ca() -> str | None:
    try:
        import certifi  # what requests would use; present wherever requests is
    except ModuleNotFoundError:  # pragma: no cover - the system store then
        return None
    return str(certifi.where())


class Counted:
    """A session that counts the requests sent through it (the per-event ``api_calls``
    of the logs, and the bench); the compute backend's session is one."""

    def __init__(self, session: HttpSession) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._calls = 0

    @property
    def calls(self) -> int:
        return self._calls

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = (3.05, 20.0),
        total: float | None = None,
    ) -> Response:
        with self._lock:
            self._calls += 1
        return self._session.request(
            method, url, data=data, headers=headers, timeout=timeout, total=total
        )

    def close(self) -> None:
        self._session.close()
