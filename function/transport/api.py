"""The JSON-over-HTTP layer every service client stands on (compute backends, Auto Scaling).

One ``JsonApi`` per API: it signs each request (a ``Signer``, structurally the
``auth.Auth`` of the wiring), sends the correlation id (``CORRELATION_HEADER``),
clips timeouts to the event's ``Deadline``, authenticates once more after a 401,
retries idempotent calls (transport errors, 429, 5xx) with ``API_BACKOFF`` and never
retries a write. Answers go through the one ``check_response``: a 2xx becomes its
JSON body; anything else becomes one of the domain's API errors, with the code
and "worth retrying" that the API's own ``FaultReader`` reads out of the body (Nova's
nested faults, Huawei's ``{"error": {...}}``, Auto Scaling's). Request ids are read
here, once, for every API.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from function import logs, telemetry
from function.domain.codes import ErrorCode
from function.domain.errors import (
    AnswerTooLarge,
    ApiPermanentError,
    ApiTemporaryError,
    BadAnswer,
    ServerBusy,
    TransportFailure,
)
from function.domain.text import shorten
from function.domain.timing import API_BACKOFF, Deadline, Timing, parse_retry_after
from function.gate import Gate
from function.transport.answers import (
    CORRELATION_HEADER,
    json_body,
    request_id_of,
    route,
    timeouts,
)
from function.transport.session import (
    HttpSession,
    Response,
    TooLarge,
    TransportError,
    TransportTimeout,
)

log = logging.getLogger("nicattach.api")

MAX_ERROR_TEXT = 300
REAL_TIMING = Timing(time.monotonic, time.sleep, lambda: 0.5)


class Signer(Protocol):
    """What a client needs of an authentication mode (``function.auth.Auth`` is one)."""

    def headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]: ...

    def invalidate(self) -> bool: ...


@dataclass(frozen=True)
class Fault:
    """What an API's error body says: our stable code, whether retrying may help, and
    the text that follows ``HTTP <status>:`` in the error's message."""

    code: str
    temporary: bool
    detail: str


FaultReader = Callable[[Response, str], Fault]
"""``(answer, what)`` → the ``Fault`` of a non-2xx answer; one per API."""


def check_response(response: Response, what: str, read_fault: FaultReader) -> Any:
    """The JSON body of a 2xx answer (``{}`` when empty), or raise the API error that
    ``read_fault`` reads out of the answer (``Retry-After`` honoured on a 429)."""
    status, request_id = response.status_code, request_id_of(response)
    if status < 300:
        return json_body(response, what)
    fault = read_fault(response, what)
    message = f"{what}: HTTP {status}: {fault.detail}"
    if fault.temporary:
        delay = parse_retry_after(response.headers.get("Retry-After")) if status == 429 else None
        kind = ServerBusy if fault.code == ErrorCode.SERVER_BUSY else ApiTemporaryError
        raise kind(message, code=fault.code, status=status, request_id=request_id, delay=delay)
    raise ApiPermanentError(message, code=fault.code, status=status, request_id=request_id)


class JsonApi:
    """``{endpoint}/{api_version}/{project_id}/…`` over one keep-alive session; thread-safe."""

    def __init__(
        self,
        session: HttpSession,
        endpoint: str,
        auth: Signer,
        read_fault: FaultReader,
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
        self._read_fault = read_fault
        self._timeout = timeout
        self._get_attempts = get_attempts
        if sleep is not None:  # tests that only want no real pauses
            timing = Timing(timing.clock, sleep, timing.rng)
        self._timing = timing
        self.limiter: Gate | None = None
        """Adaptive concurrency (``function/gate.py``), set by the wiring; None: no limit."""

    def check(self, response: Response, what: str) -> Any:
        """The JSON body of a 2xx answer, or raise the matching API error."""
        return check_response(response, what, self._read_fault)

    def _get(
        self,
        project_id: str,
        path: str,
        deadline: Deadline | None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        return self._idempotent("GET", project_id, path, deadline, headers=headers)

    def _idempotent(
        self,
        method: str,
        project_id: str,
        path: str,
        deadline: Deadline | None,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """A call that is safe to repeat (a read; a write the API refuses the second time),
        retried on temporary errors with ``API_BACKOFF`` inside the deadline."""
        for attempt in range(1, self._get_attempts + 1):
            try:
                return self._send(method, project_id, path, deadline, body=body, headers=headers)
            except ApiTemporaryError as exc:
                delay = API_BACKOFF.delay(attempt, self._timing.rng, exc.delay)
                if attempt == self._get_attempts or (deadline and not deadline.allows(delay)):
                    raise
                log.warning(
                    "%s %s attempt #%d/%d failed (%s); will retry in %.2fs",
                    *(method, route(path), attempt, self._get_attempts, exc.code, delay),
                )
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
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        url = self._url(project_id, path)
        extra = self._extra_headers(project_id)
        if extra:
            headers = {**extra, **(headers or {})}
        return self._request(method, url, deadline, body=body, headers=headers)

    # -- the per-API hooks: where the project goes (the path, or a header) --
    def _url(self, project_id: str, path: str) -> str:
        """``{endpoint}/{api_version}/{project_id}/{path}``: the project in the path."""
        return f"{self._base}/{project_id}/{path}"

    def _extra_headers(self, project_id: str) -> Mapping[str, str]:
        """Headers this API sends on every call for ``project_id`` (none here); a call's
        own ``headers`` win over them."""
        return {}

    def _request(
        self,
        method: str,
        url: str,
        deadline: Deadline | None,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        reauthenticated: bool = False,
    ) -> Any:
        what = f"{method} {route(url[len(self.endpoint) :])}"
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Accept": "application/json", **self._auth.headers(method, url, data)}
        if data is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        correlation_id = logs.bound("correlation_id")
        if correlation_id:
            sent[CORRELATION_HEADER] = correlation_id

        def send() -> Response:  # after the limiter's wait: the deadline as it is then
            timeout, total = timeouts(self._timeout, deadline)
            return self._traced(
                method, url, what, data=data, headers=sent, timeout=timeout, total=total
            )

        try:
            response = self.limiter.call(method, deadline, send) if self.limiter else send()
        except TransportTimeout as exc:
            # cut short by the event's deadline rather than by the API's own slowness
            late = deadline is not None and deadline.expired
            code = ErrorCode.DEADLINE_EXCEEDED if late else ErrorCode.TIMEOUT
            raise TransportFailure(f"{what}: {exc}", code=code) from None
        except TooLarge as exc:
            raise AnswerTooLarge(f"{what}: {exc}") from None
        except TransportError as exc:
            raise TransportFailure(f"{what}: {exc}", code=ErrorCode.CONNECTION_ERROR) from None
        if response.status_code == 401 and not reauthenticated and self._auth.invalidate():
            # Revoked or expired early: one fresh authentication, one retry (nothing was done).
            log.warning("%s: 401; authenticating again and retrying once", what)
            return self._request(
                method, url, deadline, body=body, headers=headers, reauthenticated=True
            )
        return self.check(response, what)

    # -- telemetry (function/telemetry): one span per API call, its traceparent sent --
    def _traced(self, method: str, url: str, what: str, **options: Any) -> Response:
        api = type(self).__name__.removesuffix("Client").lower() or "api"
        with telemetry.get().api_call(api, method, telemetry.route_of(what)) as call:
            options["headers"] = {**options["headers"], **call.headers}
            response = self._session.request(method, url, **options)
            call.status(response.status_code)
            return response


def cut(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    """One line of at most ``limit`` characters, for messages."""
    return shorten(text, limit)


def field(body: Any, name: str, kind: type) -> Any:
    """``body[name]`` if it is a ``kind``; otherwise the answer is unusable (temporary)."""
    value = body.get(name) if isinstance(body, Mapping) else None
    if not isinstance(value, kind):
        raise BadAnswer(f"answer has no {name!r}")
    return value


def text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def body_of(response: Response) -> Any:
    """An error answer's JSON body, or ``None`` when it is not JSON."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None


def raw_text(response: Response) -> str:
    """An error answer's text (or reason), cut for a message."""
    return cut(response.text or response.reason or "")


__all__ = ["CORRELATION_HEADER", "Fault", "FaultReader", "JsonApi", "Signer", "check_response"]
