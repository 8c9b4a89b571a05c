"""The Auto Scaling API calls the releaser needs, over the shared keep-alive session.

    PUT /autoscaling-api/v1/{project_id}/scaling_instance_hook/{group}/callback  → 204
    GET /autoscaling-api/v1/{project_id}/scaling_instance_hook/{group}/list?instance_id=

Errors go through the transport layer's one ``check_response`` with this API's
``read_fault``: AS answers ``{"error": {"code": "AS.XXXX", "message"}}``, whose code
becomes the error's code; 429, 5xx, 401 and transport failures are temporary, other
4xx permanent. Both calls
are retried on temporary errors within the event's deadline: a callback repeated after
an answer that was lost is refused as "not hanging", and the releaser then reads the
list to see that the hook already has its result.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from function.domain.codes import ErrorCode, http_code
from function.domain.errors import BadAnswer
from function.domain.lifecycle import Action, Hanging
from function.domain.timing import Deadline, Timing
from function.transport.api import Fault, JsonApi, Signer, body_of, cut, raw_text
from function.transport.session import HttpSession, Response

log = logging.getLogger("nicattach.lifecycle")
API_ROOT = "autoscaling-api/v1"


class AsClient(JsonApi):
    """Thread-safe; project-agnostic (the project is in every call). The plumbing
    (signing, correlation id, deadline-clipped timeouts, one re-authentication after a
    401, retries with ``API_BACKOFF``) is the transport layer's ``JsonApi``."""

    def __init__(
        self,
        session: HttpSession,
        endpoint: str,
        auth: Signer,
        *,
        timing: Timing,
        timeout: tuple[float, float] = (3.05, 20.0),
        attempts: int = 3,
    ) -> None:
        super().__init__(
            session,
            endpoint,
            auth,
            read_fault,
            api_version=API_ROOT,
            timeout=timeout,
            get_attempts=attempts,
            timing=timing,
        )

    def check(self, response: Response, what: str) -> Any:
        return super().check(response, f"AS {what}")

    def callback(
        self,
        project_id: str,
        group_id: str,
        action: Action,
        deadline: Deadline,
        *,
        key: str | None = None,
        instance_id: str | None = None,
        hook_name: str | None = None,
    ) -> None:
        """Answer the hook: by ``key``, else by ``instance_id`` + ``hook_name``. Repeated
        after a lost answer, the API refuses it as "not hanging": the releaser then reads
        the list, so retrying it is safe."""
        body: dict[str, str] = {"lifecycle_action_result": action.value}
        if key:
            body["lifecycle_action_key"] = key
        elif instance_id and hook_name:
            body.update(instance_id=instance_id, lifecycle_hook_name=hook_name)
        else:
            raise ValueError("a callback needs the action key, or the instance and hook name")
        path = f"scaling_instance_hook/{quote(group_id)}/callback"
        self._idempotent("PUT", project_id, path, deadline, body=body)

    def hanging(
        self, project_id: str, group_id: str, instance_id: str, deadline: Deadline
    ) -> list[Hanging]:
        """The instance's hook records (``instance_hanging_info``); malformed items dropped."""
        path = f"scaling_instance_hook/{quote(group_id)}/list?instance_id={quote(instance_id)}"
        answer = self._get(project_id, path, deadline)
        items = answer.get("instance_hanging_info") if isinstance(answer, Mapping) else None
        if not isinstance(items, list):
            raise BadAnswer("list of hanging instances: no 'instance_hanging_info'")
        return [h for h in (hanging_from_api(i) for i in items) if h is not None]


_TEMPORARY = {429: ErrorCode.THROTTLED, 401: ErrorCode.UNAUTHORIZED}


def read_fault(response: Response, what: str) -> Fault:
    """The ``FaultReader`` of Auto Scaling: 429, 5xx and 401 are temporary (by status),
    any other answer is permanent, with the API's own code (``AS.XXXX``)."""
    status = response.status_code
    code, message = as_error(response)
    detail = f"{code}: {message}"
    if status == 429 or status >= 500 or status == 401:
        return Fault(_TEMPORARY.get(status, ErrorCode.SERVER_ERROR), True, detail)
    return Fault(code, False, detail)


def as_error(response: Response) -> tuple[str, str]:
    """``(code, message)`` of ``{"error": {"code", "message"}}`` (or of any flat shape)."""
    body = body_of(response)
    if body is None:
        return http_code(response.status_code), raw_text(response)
    error = body.get("error", body) if isinstance(body, Mapping) else {}
    error = error if isinstance(error, Mapping) else {}
    code = error.get("code") or error.get("error_code")
    message = error.get("message") or error.get("error_msg") or ""
    code = cut(str(code), 40) if code else http_code(response.status_code)
    return code, cut(str(message))


def hanging_from_api(raw: object) -> Hanging | None:
    if not isinstance(raw, Mapping):
        return None
    text = {
        k: raw.get(k)
        for k in (
            "instance_id",
            "scaling_group_id",
            "lifecycle_hook_name",
            "lifecycle_action_key",
            "lifecycle_hook_status",
            "timeout",
            "default_result",
        )
    }
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
