"""HTTP for the function's own calls (compute API, sinks): urllib3, kept alive, kept lean.

``requests`` is urllib3 plus conveniences this function does not use (cookies,
redirects, auth hooks, an environment scan on every call). Measured on a
2-core test machine, one keep-alive GET costs 0.74 ms of CPU through a
``requests.Session`` (1.6 ms with ``trust_env``) and 0.34 ms through urllib3,
and importing requests adds about 100 ms to a cold start. So the calls of one
event go through this small session: one per process, shared by threads,
connections kept alive, TLS always verified; which pool a URL goes to (and the
environment's proxy settings, read once) is ``transport/origins.py``'s. Errors
become ``TransportError`` here, and the API client layer (``transport/api.py``)
maps those (and HTTP answers) to the project's error tree.

A request given a ``total`` is bounded whole, status line and headers included: a
per-read timeout alone lets an answer that trickles in (a byte every second) hold
the caller for ever. A watchdog (``transport/watchdog.py``: one thread for the
process, ~8 µs to arm, where a timer thread per request cost ~0.4 ms) shuts the
connection's socket down at ``total``; whatever the request was doing then fails,
and is reported as a timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from function.transport.origins import Origins
from function.transport.watchdog import CURRENT, Watchdog

Timeout = tuple[float, float]


class TransportError(Exception):
    """The request got no HTTP answer (refused, reset, TLS failure, …)."""


class TransportTimeout(TransportError):
    """Connecting or reading took longer than allowed."""


class TooLarge(TransportError):
    """The answer is larger than the session accepts; it was not read."""


MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""No answer of the APIs we call comes near this; a larger one is refused unread."""
_CHUNK = 64 * 1024
_ONCE: dict[str, Any] = {"redirect": False, "preload_content": False}


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
    """One per process; thread-safe (urllib3's pools are)."""

    def __init__(
        self,
        *,
        ca_certs: str | None = None,
        maxsize: int = 32,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self._max_bytes = max_answer_bytes
        options: dict[str, Any] = {"maxsize": maxsize, "block": False, "retries": False}
        options.update(cert_reqs="CERT_REQUIRED", ca_certs=ca_certs or _default_ca())
        self._origins = Origins(options)
        self._timeouts: dict[Timeout, urllib3.Timeout] = {}

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
        started = time.monotonic()
        if total is not None:
            timeout = (min(timeout[0], total), min(timeout[1], total))
        watchdog = Watchdog(total)
        token = CURRENT.set(watchdog)
        try:
            answer = self._send(method, url, data, headers, timeout, watchdog)
            try:
                body = self._read(answer, started, total)
            except TransportError as exc:
                raise (_timed_out(watchdog) or exc) from None
            finally:
                answer.release_conn()
        finally:
            watchdog.cancel()
            CURRENT.reset(token)
        late = _timed_out(watchdog)  # a socket shut mid-body can look like the body's end
        if late is not None:
            raise late
        return Response(answer.status, answer.reason or "", answer.headers, body)

    def _send(
        self,
        method: str,
        url: str,
        data: bytes | None,
        headers: Mapping[str, str] | None,
        timeout: Timeout,
        watchdog: Watchdog,
    ) -> urllib3.BaseHTTPResponse:
        """Send the request and read the status line and headers (the watchdog's time)."""
        try:
            seconds = self._timeouts.get(timeout)
            if seconds is None:
                if len(self._timeouts) > 64:  # budgets left over vary: keep the cache small
                    self._timeouts.clear()
                seconds = self._timeouts[timeout] = urllib3.Timeout(*timeout)
            pool, path = self._origins.pool(url)
            if pool is None:  # through a proxy, or a URL the fast path leaves to urllib3
                via = self._origins.manager(url)
                return via.request(method, url, data, dict(headers or {}), **_ONCE, timeout=seconds)
            return pool.urlopen(
                method, path, data, dict(headers or {}), **_ONCE, timeout=seconds, retries=False
            )
        except MaxRetryError as exc:  # retries=False wraps the cause
            raise _timed_out(watchdog) or _translate(exc.reason or exc, url) from None
        except Urllib3Error as exc:
            raise _timed_out(watchdog) or _translate(exc, url) from None
        except (ValueError, TypeError, LookupError, OSError) as exc:  # e.g. a bad header value
            raise _timed_out(watchdog) or TransportError(
                f"invalid request: {type(exc).__name__}"
            ) from None

    def _read(self, answer: urllib3.BaseHTTPResponse, started: float, total: float | None) -> bytes:
        length = answer.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self._max_bytes:
            answer.close()
            raise TooLarge(f"answer of {length} bytes exceeds {self._max_bytes}")
        chunks: list[bytes] = []
        identity = "Content-Encoding" not in answer.headers  # else the length is not ours
        size, expected = 0, int(length) if identity and length.isdigit() else -1
        try:
            while True:
                if total is not None:
                    left = total - (time.monotonic() - started)
                    if left <= 0:
                        answer.close()
                        raise TransportTimeout("Timeout: the answer took longer than allowed")
                    _set_read_timeout(answer, left)
                chunk = answer.read1(_CHUNK)  # one socket read: the budget is checked between
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > self._max_bytes:
                    answer.close()
                    raise TooLarge(f"answer exceeds {self._max_bytes} bytes")
                chunks.append(chunk)
                if size == expected:  # all the answer announced: no read to see its end
                    return b"".join(chunks)
        except Urllib3Error as exc:
            raise _translate(exc, "") from None

    def close(self) -> None:
        self._origins.clear()

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


def _set_read_timeout(answer: urllib3.BaseHTTPResponse, seconds: float) -> None:
    """Shorten the socket's timeout for the next read to what is left of the budget."""
    connection = getattr(answer, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        current = sock.gettimeout()
        sock.settimeout(max(0.001, seconds if current is None else min(current, seconds)))


def _translate(exc: BaseException, url: str) -> TransportError:
    """A short, secret-free description: scheme, host and port at most; never the URL's
    path or query, never a header."""
    where = _where(url)
    if isinstance(exc, NewConnectionError):  # a subclass of ConnectTimeoutError in urllib3 2
        return TransportError(f"ConnectionError: cannot connect to {where}")
    if isinstance(exc, Urllib3Timeout):
        return TransportTimeout(f"Timeout: {type(exc).__name__} ({where})")
    if isinstance(exc, SSLError):
        return TransportError(f"SSLError: TLS handshake or verification failed ({where})")
    if isinstance(exc, ProtocolError):
        return TransportError(f"ConnectionError: connection dropped ({where})")
    return TransportError(f"ConnectionError: {type(exc).__name__} ({where})")


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
