"""The JSON-over-HTTP plumbing the compute backends and the Auto Scaling client share.

One ``JsonApi`` per API: it signs each request (``Auth``), sends the
correlation id, clips timeouts to the event's ``Deadline``, authenticates
once more after a 401, retries GETs (transport errors, 429, 5xx) with
``API_BACKOFF`` and never retries a write. A subclass turns an answer into a
body or one of the domain's API errors (``check``): that is where the Nova
and the Huawei error shapes differ.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from function import logs
from function.auth import Auth
from function.domain.errors import ApiTemporaryError, TemporaryError
from function.domain.text import shorten
from function.domain.timing import API_BACKOFF, Deadline, Timing
from function.gate import Gate
from function.transport.session import (
    HttpSession,
    Response,
    TooLarge,
    TransportError,
    TransportTimeout,
)

log = logging.getLogger("nicattach.compute")

CORRELATION_HEADER = "X-Request-Id"  # ties our log lines to the API's own request logs
VERSION_HEADER = "X-OpenStack-Nova-API-Version"
MAX_ERROR_TEXT = 300
REAL_TIMING = Timing(time.monotonic, time.sleep, lambda: 0.5)


class JsonApi:
    """``{endpoint}/{api_version}/{project_id}/…`` over one keep-alive session; thread-safe."""

    def __init__(
        self,
        session: HttpSession,
        endpoint: str,
        auth: Auth,
        *,
        api_version: str,
        timeout: tuple[float, float] = (3.05, 20.0),
        get_attempts: int = 4,
        timing: Timing = REAL_TIMING,
        sleep: Any = None,
    ) -> None:
        self._session = session
        self.endpoint = endpoint.rstrip("/")
        self.api_version = api_version
        self._base = f"{self.endpoint}/{api_version}"
        self._auth = auth
        self._timeout = timeout
        self._get_attempts = get_attempts
        if sleep is not None:  # tests that only want no real pauses
            timing = Timing(timing.clock, sleep, timing.rng)
        self._timing = timing
        self._lock = threading.Lock()
        self._calls = 0
        self.limiter: Gate | None = None
        """Adaptive concurrency (``function/gate.py``), set by the wiring; None: no limit."""

    @property
    def calls(self) -> int:
        return self._calls

    def check(self, response: Response, what: str) -> Any:
        """The JSON body of a 2xx answer, or raise the matching API error."""
        raise NotImplementedError

    def _get(
        self,
        project_id: str,
        path: str,
        deadline: Deadline | None,
        microversion: str | None = None,
    ) -> Any:
        return self._idempotent("GET", project_id, path, deadline, microversion=microversion)

    def _idempotent(
        self,
        method: str,
        project_id: str,
        path: str,
        deadline: Deadline | None,
        *,
        body: Mapping[str, Any] | None = None,
        microversion: str | None = None,
    ) -> Any:
        """A call that is safe to repeat (a read; a write the API refuses the second time),
        retried on temporary errors with ``API_BACKOFF`` inside the deadline."""
        for attempt in range(1, self._get_attempts + 1):
            try:
                return self._send(method, project_id, path, deadline, body=body,
                                  microversion=microversion)  # fmt: skip
            except ApiTemporaryError as exc:
                delay = API_BACKOFF.delay(attempt, self._timing.rng, exc.delay)
                if attempt == self._get_attempts or (deadline and not deadline.allows(delay)):
                    raise
                log.warning(
                    "%s %s attempt #%d/%d failed (%s); will retry in %.2fs",
                    method, route(path), attempt, self._get_attempts, exc.code, delay,
                )  # fmt: skip
                self._timing.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        project_id: str,
        path: str,
        deadline: Deadline | None,
        *,
        body: Mapping[str, Any] | None = None,
        microversion: str | None = None,
    ) -> Any:
        url = f"{self._base}/{project_id}/{path}"
        return self._request(method, url, deadline, body=body, microversion=microversion)

    def _request(
        self,
        method: str,
        url: str,
        deadline: Deadline | None,
        *,
        body: Mapping[str, Any] | None = None,
        microversion: str | None = None,
        reauthenticated: bool = False,
    ) -> Any:
        what = f"{method} {route(url[len(self.endpoint) :])}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", **self._auth.headers(method, url, data)}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if microversion is not None:
            headers[VERSION_HEADER] = microversion
        correlation_id = logs.bound("correlation_id")
        if correlation_id:
            headers[CORRELATION_HEADER] = correlation_id

        def send() -> Response:  # after the limiter's wait: the deadline as it is then
            timeout, total = timeouts(self._timeout, deadline)
            with self._lock:
                self._calls += 1
            return self._session.request(
                method, url, data=data, headers=headers, timeout=timeout, total=total
            )

        try:
            response = self.limiter.call(method, deadline, send) if self.limiter else send()
        except TransportTimeout as exc:
            # cut short by the event's deadline rather than by the API's own slowness
            code = "deadline_exceeded" if deadline is not None and deadline.expired else "timeout"
            raise ApiTemporaryError(f"{what}: {exc}", code=code, status=None,
                                    request_id=None) from None  # fmt: skip
        except TooLarge as exc:
            raise ApiTemporaryError(f"{what}: {exc}", code="answer_too_large", status=None,
                                    request_id=None) from None  # fmt: skip
        except TransportError as exc:
            raise ApiTemporaryError(f"{what}: {exc}", code="connection_error", status=None,
                                    request_id=None) from None  # fmt: skip
        if response.status_code == 401 and not reauthenticated and self._auth.invalidate():
            # Revoked or expired early: one fresh authentication, one retry (nothing was done).
            log.warning("%s: 401; authenticating again and retrying once", what)
            return self._request(method, url, deadline, body=body, microversion=microversion,
                                 reauthenticated=True)  # fmt: skip
        return self.check(response, what)


def json_body(response: Response, what: str) -> Any:
    """The JSON body of a 2xx answer (``{}`` when empty)."""
    if not response.content:
        return {}
    try:
        return response.json()
    except (ValueError, RecursionError):
        raise ApiTemporaryError(
            f"{what}: answer is not JSON", code="bad_answer",
            status=response.status_code, request_id=request_id_of(response),
        ) from None  # fmt: skip


def cut(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    """One line of at most ``limit`` characters, for messages."""
    return shorten(text, limit)


def timeouts(
    timeout: tuple[float, float], deadline: Deadline | None
) -> tuple[tuple[float, float], float | None]:
    """Connect/read timeouts, and the request's total budget, clipped by the deadline."""
    connect, read = timeout
    if deadline is None:
        return (connect, read), None
    remaining = deadline.remaining()
    if remaining <= 0:
        raise TemporaryError("the event's deadline passed", code="deadline_exceeded")
    return (min(connect, remaining), min(read, remaining)), remaining


def field(body: Any, name: str, kind: type) -> Any:
    """``body[name]`` if it is a ``kind``; otherwise the answer is unusable (temporary)."""
    value = body.get(name) if isinstance(body, Mapping) else None
    if not isinstance(value, kind):
        raise ApiTemporaryError(
            f"answer has no {name!r}", code="bad_answer", status=None, request_id=None
        )
    return value


def route(path: str) -> str:
    """The path without its query string, for messages."""
    return path.split("?", 1)[0]


def request_id_of(response: Response) -> str | None:
    value = response.headers.get("x-openstack-request-id") or response.headers.get("X-Request-Id")
    return cut(value, 128) if isinstance(value, str) else None


def text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
