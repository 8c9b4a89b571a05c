"""The compute API client (Huawei ECS / OpenStack Nova ``os-interface``).

All HTTP lives here. Answers are mapped to the error tree once, in
``check_response``; no ``requests`` exception escapes this module. GETs
are retried on transport errors, 429 (honouring ``Retry-After``) and
500/502/503/504; POST and DELETE never are: the caller re-reads and decides.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from function.auth import Auth
from function.errors import ApiPermanentError, ApiTemporaryError, TemporaryError
from function.plan import Interface

log = logging.getLogger("nicattach.ecs")

TAGS_MICROVERSION = "2.26"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ERROR_TEXT = 300


class EcsClient:
    """One project-agnostic client; a ``requests.Session`` per process keeps connections alive."""

    def __init__(
        self,
        session: requests.Session,
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
        self.calls = 0
        """Requests sent by this client (for logs and benchmarks)."""

    # -- calls ---------------------------------------------------------------

    def get_server(self, project_id: str, server_id: str) -> dict[str, Any]:
        """The server; at microversion 2.26 it carries ``tags`` as well."""
        body = self._get(project_id, f"servers/{server_id}", microversion=TAGS_MICROVERSION)
        server: dict[str, Any] = _field(body, "server", dict)
        return server

    def get_tags(self, project_id: str, server_id: str) -> list[str]:
        body = self._get(project_id, f"servers/{server_id}/tags", microversion=TAGS_MICROVERSION)
        return [t for t in _field(body, "tags", list) if isinstance(t, str)]

    def list_interfaces(self, project_id: str, server_id: str) -> list[Interface]:
        body = self._get(project_id, f"servers/{server_id}/os-interface")
        items = _field(body, "interfaceAttachments", list)
        return [Interface.from_api(i) for i in items if isinstance(i, Mapping)]

    def attach(self, project_id: str, server_id: str, body: Mapping[str, Any]) -> Interface:
        answer = self._send("POST", project_id, f"servers/{server_id}/os-interface", body=body)
        return Interface.from_api(_field(answer, "interfaceAttachment", dict))

    def detach(self, project_id: str, server_id: str, port_id: str) -> None:
        self._send("DELETE", project_id, f"servers/{server_id}/os-interface/{port_id}")

    # -- plumbing ------------------------------------------------------------

    def _get(self, project_id: str, path: str, microversion: str | None = None) -> Any:
        for attempt in range(1, self._get_attempts + 1):
            try:
                return self._send("GET", project_id, path, microversion=microversion)
            except ApiTemporaryError as exc:
                if attempt == self._get_attempts:
                    raise
                delay = _backoff(attempt, exc.delay)
                log.warning(
                    "GET %s attempt #%d/%d failed (%s); will retry in %.2fs",
                    path,
                    attempt,
                    self._get_attempts,
                    exc.code,
                    delay,
                )
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        project_id: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        microversion: str | None = None,
    ) -> Any:
        url = f"{self._base}/{project_id}/{path}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", **self._auth.headers(method, url, data)}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if microversion is not None:
            headers["X-OpenStack-Nova-API-Version"] = microversion
        self.calls += 1
        try:
            response = self._session.request(
                method, url, data=data, headers=headers, timeout=self._timeout
            )
        except requests.Timeout as exc:
            raise ApiTemporaryError(
                f"{method} {path}: timed out", code="timeout", status=None, request_id=None
            ) from exc
        except requests.RequestException as exc:
            raise ApiTemporaryError(
                f"{method} {path}: {type(exc).__name__}",
                code="connection_error",
                status=None,
                request_id=None,
            ) from exc
        return check_response(response, f"{method} {path}")


def check_response(response: requests.Response, what: str) -> Any:
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
    if status in RETRY_STATUSES or status == 401 or code in TEMPORARY_CODES:
        delay = _retry_after(response) if status == 429 else None
        raise ApiTemporaryError(
            message, code=code, status=status, request_id=request_id, delay=delay
        )
    raise ApiPermanentError(message, code=code, status=status, request_id=request_id)


TEMPORARY_CODES = frozenset({"server_busy", "conflict", "throttled", "server_error"})


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
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 429: "throttled"}.get(
        status, "server_error" if status >= 500 else f"http_{status}"
    )


def fault_message(response: requests.Response) -> str:
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


def _request_id(response: requests.Response) -> str | None:
    return response.headers.get("x-openstack-request-id") or response.headers.get("X-Request-Id")


def _retry_after(response: requests.Response) -> float | None:
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
