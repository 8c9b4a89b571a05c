"""The compute API client (Huawei ECS / OpenStack Nova ``os-interface``).

All HTTP lives here. Answers are mapped to the error tree once, in
``check_response``; no transport exception escapes this module. GETs
are retried on transport errors, 429 (honouring ``Retry-After``) and
500/502/503/504; POST and DELETE never are: the caller re-reads and decides.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from function import logs
from function.auth import Auth
from function.domain.errors import ApiPermanentError, ApiTemporaryError, TemporaryError
from function.domain.plan import Interface
from function.transport.session import HttpSession, Response, TransportError, TransportTimeout

log = logging.getLogger("nicattach.ecs")

TAGS_MICROVERSION = "2.26"
CORRELATION_HEADER = "X-Request-Id"  # ties our log lines to the API's own request logs
MAX_ERROR_TEXT = 300


class EcsClient:
    """One project-agnostic client; one ``transport.Session`` per process keeps connections alive.

    ``bounded(deadline)`` gives a view of the same client whose GET retries and
    request timeouts stop at ``deadline`` (a ``clock()`` value).
    """

    def __init__(
        self,
        session: HttpSession,
        endpoint: str,
        auth: Auth,
        *,
        api_version: str = "v2.1",
        timeout: tuple[float, float] = (3.05, 20.0),
        get_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._base = f"{endpoint.rstrip('/')}/{api_version}"
        self._auth = auth
        self._timeout = timeout
        self._get_attempts = get_attempts
        self._sleep = sleep
        self._clock = clock
        self._deadline: float | None = None
        self._sent = _Counter()

    @property
    def calls(self) -> int:
        """Requests sent by this client and its bounded views (for logs and benchmarks)."""
        return self._sent.value

    def bounded(self, deadline: float) -> EcsClient:
        view = copy.copy(self)
        view._deadline = deadline
        return view

    # -- calls ---------------------------------------------------------------

    def get_server(self, project_id: str, server_id: str) -> dict[str, Any]:
        """The server; at microversion 2.26 it carries ``tags`` as well."""
        body = self._get(project_id, f"servers/{server_id}", microversion=TAGS_MICROVERSION)
        server: dict[str, Any] = _field(body, "server", dict)
        return server

    def get_tags(self, project_id: str, server_id: str) -> list[str]:
        body = self._get(project_id, f"servers/{server_id}/tags", microversion=TAGS_MICROVERSION)
        return [t for t in _field(body, "tags", list) if isinstance(t, str)]

    def list_servers(
        self, project_id: str, limit: int = 100, marker: str | None = None
    ) -> list[dict[str, Any]]:
        """One page of ``GET /servers/detail`` (with tags, at 2.26)."""
        query = f"?limit={limit}" + (f"&marker={marker}" if marker else "")
        body = self._get(project_id, f"servers/detail{query}", microversion=TAGS_MICROVERSION)
        return [s for s in _field(body, "servers", list) if isinstance(s, dict)]

    def list_interfaces(
        self, project_id: str, server_id: str, microversion: str | None = None
    ) -> list[Interface]:
        body = self._get(project_id, f"servers/{server_id}/os-interface", microversion)
        items = _field(body, "interfaceAttachments", list)
        return [Interface.from_api(i) for i in items if isinstance(i, Mapping)]

    def get_interface(self, project_id: str, server_id: str, port_id: str) -> Interface:
        body = self._get(project_id, f"servers/{server_id}/os-interface/{port_id}")
        return Interface.from_api(_field(body, "interfaceAttachment", dict))

    def attach(
        self,
        project_id: str,
        server_id: str,
        body: Mapping[str, Any],
        microversion: str | None = None,
    ) -> Interface:
        path = f"servers/{server_id}/os-interface"
        answer = self._send("POST", project_id, path, body=body, microversion=microversion)
        return Interface.from_api(_field(answer, "interfaceAttachment", dict))

    def detach(self, project_id: str, server_id: str, port_id: str) -> None:
        self._send("DELETE", project_id, f"servers/{server_id}/os-interface/{port_id}")

    # -- plumbing ------------------------------------------------------------

    def _get(self, project_id: str, path: str, microversion: str | None = None) -> Any:
        for attempt in range(1, self._get_attempts + 1):
            try:
                return self._send("GET", project_id, path, microversion=microversion)
            except ApiTemporaryError as exc:
                delay = _backoff(attempt, exc.delay)
                if attempt == self._get_attempts or not self._time_left(delay):
                    raise
                log.warning(
                    "GET %s attempt #%d/%d failed (%s); will retry in %.2fs",
                    path, attempt, self._get_attempts, exc.code, delay,
                )  # fmt: skip
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _time_left(self, needed: float = 0.0) -> bool:
        return self._deadline is None or self._clock() + needed < self._deadline

    def _timeouts(self) -> tuple[float, float]:
        connect, read = self._timeout
        if self._deadline is None:
            return connect, read
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            raise TemporaryError("the event's deadline passed", code="deadline_exceeded")
        return min(connect, remaining), min(read, remaining)

    def _send(
        self,
        method: str,
        project_id: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        microversion: str | None = None,
        reauthenticated: bool = False,
    ) -> Any:
        url = f"{self._base}/{project_id}/{path}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", **self._auth.headers(method, url, data)}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if microversion is not None:
            headers["X-OpenStack-Nova-API-Version"] = microversion
        correlation_id = logs.bound("correlation_id")
        if correlation_id:
            headers[CORRELATION_HEADER] = correlation_id
        timeouts = self._timeouts()
        self._sent.add()
        try:
            response = self._session.request(
                method, url, data=data, headers=headers, timeout=timeouts
            )
        except TransportTimeout as exc:
            raise ApiTemporaryError(
                f"{method} {_route(path)}: timed out", code="timeout", status=None,
                request_id=None,
            ) from exc  # fmt: skip
        except TransportError as exc:
            raise ApiTemporaryError(
                f"{method} {_route(path)}: {exc}",
                code="connection_error",
                status=None,
                request_id=None,
            ) from exc
        if response.status_code == 401 and not reauthenticated and self._auth.invalidate():
            # Revoked or expired early: one fresh authentication, one retry (nothing was done).
            log.warning("%s %s: 401; authenticating again and retrying once", method, _route(path))
            return self._send(method, project_id, path, body=body, microversion=microversion,
                              reauthenticated=True)  # fmt: skip
        return check_response(response, f"{method} {_route(path)}")


class _Counter:
    """A thread-safe count shared by a client and its bounded views."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self) -> None:
        with self._lock:
            self.value += 1


def check_response(response: Response, what: str) -> Any:
    """Return the JSON body of a 2xx answer, or raise the matching API error."""
    if response.status_code < 300:
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise ApiTemporaryError(
                f"{what}: answer is not JSON",
                code="bad_answer",
                status=response.status_code,
                request_id=_request_id(response),
            ) from None
    status = response.status_code
    message = f"{what}: HTTP {status}: {fault_message(response)}"
    code = classify(status, message)
    request_id = _request_id(response)
    if code in TEMPORARY_CODES:
        delay = _retry_after(response) if status == 429 else None
        raise ApiTemporaryError(
            message, code=code, status=status, request_id=request_id, delay=delay
        )
    raise ApiPermanentError(message, code=code, status=status, request_id=request_id)


#: Codes worth retrying. A 500 that names a missing network is permanent (Nova answers
#: an unknown ``net_id`` with 500 NetworkNotFoundClient); a 401 may heal once a
#: credential is rotated, so it is retried by redelivery rather than dropped.
TEMPORARY_CODES = frozenset(
    {"server_busy", "conflict", "throttled", "server_error", "unauthorized"}
)


def classify(status: int, message: str) -> str:
    """A stable error code for an API answer (used in failed events)."""
    text = message.lower()
    if status == 409:
        if "fixed ip" in text and "in use" in text:
            return "fixed_ip_in_use"
        if "port" in text and "in use" in text:
            return "port_in_use"
        return "server_busy" if "vm_state" in text or "task_state" in text else "conflict"
    if status == 404 or "networknotfound" in text:
        if "network" in text:
            return "network_not_found"
        if "port" in text:
            return "port_not_found"
        return "not_found"
    if status == 403 and ("quota" in text or "maximum number" in text):
        return "nic_quota_exceeded"
    named = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 429: "throttled"}
    return named.get(status, "server_error" if status >= 500 else f"http_{status}")


def fault_message(response: Response) -> str:
    """The message of a Nova (``{"badRequest": {...}}``) or Huawei (``{"error": {...}}``) fault."""
    try:
        body = response.json()
    except ValueError:
        return _cut(response.text or response.reason or "")
    if isinstance(body, Mapping):
        for value in body.values():
            if isinstance(value, Mapping) and "message" in value:
                return _cut(str(value["message"]))
        if "message" in body:
            return _cut(str(body["message"]))
    return _cut(json.dumps(body))


def _field(body: Any, name: str, kind: type) -> Any:
    value = body.get(name) if isinstance(body, Mapping) else None
    if not isinstance(value, kind):
        raise ApiTemporaryError(
            f"answer has no {name!r}", code="bad_answer", status=None, request_id=None
        )
    return value


def _route(path: str) -> str:
    """The path without its query string, for messages."""
    return path.split("?", 1)[0]


def _request_id(response: Response) -> str | None:
    return response.headers.get("x-openstack-request-id") or response.headers.get("X-Request-Id")


def _retry_after(response: Response) -> float | None:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _backoff(attempt: int, hint: float | None) -> float:
    if hint is not None:
        return min(hint, 30.0)
    return float(min(0.2 * 2 ** (attempt - 1), 5.0) * (0.5 + random.random() / 2))


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_TEXT else text[:MAX_ERROR_TEXT] + "…"


__all__ = ["EcsClient", "TemporaryError", "check_response", "classify"]
