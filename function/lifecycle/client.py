"""The Auto Scaling API calls the releaser needs, over the shared keep-alive session.

    PUT /autoscaling-api/v1/{project_id}/scaling_instance_hook/{group}/callback  → 204
    GET /autoscaling-api/v1/{project_id}/scaling_instance_hook/{group}/list?instance_id=

Errors are mapped once, here (``check_answer``), into the domain's tree: AS answers
``{"error": {"code": "AS.XXXX", "message"}}``, whose code becomes the error's code;
429, 5xx, 401 and transport failures are temporary, other 4xx permanent. Both calls
are retried on temporary errors within the event's deadline: a callback repeated after
an answer that was lost is refused as "not hanging", and the releaser then reads the
list to see that the hook already has its result.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from function import logs
from function.auth import Auth
from function.compute.os_interface import CORRELATION_HEADER, cut
from function.domain.errors import ApiPermanentError, ApiTemporaryError, TemporaryError
from function.domain.lifecycle import Action, Hanging
from function.domain.timing import API_BACKOFF, Deadline, Timing, parse_retry_after
from function.transport.session import HttpSession, Response, TransportError, TransportTimeout

log = logging.getLogger("nicattach.lifecycle")
API_ROOT = "autoscaling-api/v1"


class AsClient:
    """Thread-safe; project-agnostic (the project is in every call)."""

    def __init__(
        self, session: HttpSession, endpoint: str, auth: Auth, *, timing: Timing,
        timeout: tuple[float, float] = (3.05, 20.0), attempts: int = 3,
    ) -> None:  # fmt: skip
        self._session = session
        self.endpoint = endpoint.rstrip("/")
        self._auth = auth
        self._timing = timing
        self._timeout = timeout
        self._attempts = attempts
        self._lock = threading.Lock()
        self._calls = 0

    @property
    def calls(self) -> int:
        return self._calls

    def callback(
        self, project_id: str, group_id: str, action: Action, deadline: Deadline, *,
        key: str | None = None, instance_id: str | None = None, hook_name: str | None = None,
    ) -> None:  # fmt: skip
        """Answer the hook: by ``key``, else by ``instance_id`` + ``hook_name``."""
        body: dict[str, str] = {"lifecycle_action_result": action.value}
        if key:
            body["lifecycle_action_key"] = key
        elif instance_id and hook_name:
            body.update(instance_id=instance_id, lifecycle_hook_name=hook_name)
        else:
            raise ValueError("a callback needs the action key, or the instance and hook name")
        path = f"{project_id}/scaling_instance_hook/{quote(group_id)}/callback"
        self._call("PUT", path, deadline, body)

    def hanging(
        self, project_id: str, group_id: str, instance_id: str, deadline: Deadline
    ) -> list[Hanging]:
        """The instance's hook records (``instance_hanging_info``); malformed items dropped."""
        path = (f"{project_id}/scaling_instance_hook/{quote(group_id)}/list"
                f"?instance_id={quote(instance_id)}")  # fmt: skip
        answer = self._call("GET", path, deadline)
        items = answer.get("instance_hanging_info") if isinstance(answer, Mapping) else None
        if not isinstance(items, list):
            raise ApiTemporaryError("list of hanging instances: no 'instance_hanging_info'",
                                    code="bad_answer", status=None, request_id=None)  # fmt: skip
        return [h for h in (hanging_from_api(i) for i in items) if h is not None]

    def _call(
        self, method: str, path: str, deadline: Deadline, body: Mapping[str, Any] | None = None
    ) -> Any:
        for attempt in range(1, self._attempts + 1):
            try:
                return self._request(method, path, deadline, body)
            except ApiTemporaryError as exc:
                delay = API_BACKOFF.delay(attempt, self._timing.rng, exc.delay)
                if attempt == self._attempts or not deadline.allows(delay):
                    raise
                log.warning("%s %s attempt #%d/%d failed (%s); will retry in %.2fs", method,
                            _route(path), attempt, self._attempts, exc.code, delay)  # fmt: skip
                if exc.code == "unauthorized":
                    self._auth.invalidate()
                self._timing.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _request(
        self, method: str, path: str, deadline: Deadline, body: Mapping[str, Any] | None
    ) -> Any:
        url = f"{self.endpoint}/{API_ROOT}/{path}"
        what = f"AS {method} {_route(path)}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", **self._auth.headers(method, url, data)}
        if data is not None:
            headers["Content-Type"] = "application/json"
        correlation_id = logs.bound("correlation_id")
        if correlation_id:
            headers[CORRELATION_HEADER] = correlation_id
        remaining = deadline.remaining()
        if remaining <= 0:
            raise TemporaryError("the event's deadline passed", code="deadline_exceeded")
        timeout = (min(self._timeout[0], remaining), min(self._timeout[1], remaining))
        with self._lock:
            self._calls += 1
        try:
            response = self._session.request(method, url, data=data, headers=headers,
                                             timeout=timeout, total=remaining)  # fmt: skip
        except TransportTimeout as exc:
            raise ApiTemporaryError(f"{what}: {exc}", code="timeout", status=None,
                                    request_id=None) from None  # fmt: skip
        except TransportError as exc:  # TooLarge too
            raise ApiTemporaryError(f"{what}: {exc}", code="connection_error", status=None,
                                    request_id=None) from None  # fmt: skip
        return check_answer(response, what)


def check_answer(response: Response, what: str) -> Any:
    """The JSON body of a 2xx answer (``{}`` for 204), or the matching API error."""
    request_id = response.headers.get("X-Request-Id") or response.headers.get(
        "x-openstack-request-id")  # fmt: skip
    status = response.status_code
    if status < 300:
        try:
            return response.json() if response.content.strip() else {}
        except (ValueError, RecursionError):
            raise ApiTemporaryError(f"{what}: answer is not JSON", code="bad_answer",
                                    status=status, request_id=request_id) from None  # fmt: skip
    code, message = as_error(response)
    text = f"{what}: HTTP {status}: {code}: {message}"
    if status == 429 or status >= 500 or status == 401:
        delay = parse_retry_after(response.headers.get("Retry-After")) if status == 429 else None
        kind = {429: "throttled", 401: "unauthorized"}.get(status, "server_error")
        raise ApiTemporaryError(text, code=kind, status=status, request_id=request_id,
                                delay=delay)  # fmt: skip
    raise ApiPermanentError(text, code=code, status=status, request_id=request_id)


def as_error(response: Response) -> tuple[str, str]:
    """``(code, message)`` of ``{"error": {"code", "message"}}`` (or of any flat shape)."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return f"http_{response.status_code}", cut(response.text or response.reason or "")
    error = body.get("error", body) if isinstance(body, Mapping) else {}
    error = error if isinstance(error, Mapping) else {}
    code = error.get("code") or error.get("error_code")
    message = error.get("message") or error.get("error_msg") or ""
    code = cut(str(code), 40) if code else f"http_{response.status_code}"
    return code, cut(str(message))


def hanging_from_api(raw: object) -> Hanging | None:
    if not isinstance(raw, Mapping):
        return None
    text = {k: raw.get(k) for k in ("instance_id", "scaling_group_id", "lifecycle_hook_name",
                                    "lifecycle_action_key", "lifecycle_hook_status",
                                    "timeout", "default_result")}  # fmt: skip
    if not all(isinstance(v, str) or v is None for v in text.values()):
        return None
    if not (text["instance_id"] and text["lifecycle_action_key"]):
        return None
    return Hanging(
        instance_id=str(text["instance_id"]).strip(),
        scaling_group_id=str(text["scaling_group_id"] or ""),
        hook_name=str(text["lifecycle_hook_name"] or ""),
        action_key=str(text["lifecycle_action_key"]),
        status=str(text["lifecycle_hook_status"] or "").upper(),
        timeout=text["timeout"],
        default_result=text["default_result"],
    )


def _route(path: str) -> str:
    return path.split("?", 1)[0]
