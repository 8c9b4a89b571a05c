"""FunctionGraph's native entry, adapted: the context read once, the event handed to the service.

FunctionGraph calls ``handler(event, context)`` (``function/main.py``); this module is
everything behind that call. ``FunctionGraphContext`` is the part of the platform's
context object the function reads, typed (after Powertools' ``LambdaContext``), and
``ContextView.read`` the one place that reads it: a getter the object lacks, or one
that answers something else than expected, reads as absent, never as an error.

The event, already parsed by the platform, goes to the same code path as the HTTP
entry's body (``Service.handle_parsed``: no bytes in between); the typed reply becomes
the structured outcome event(s), its JSON document when it has none, or
``RetryableFailure`` so the platform retries. A TIMER event
``{"nicattach": "reconcile"}`` runs the sweep instead.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from function import logs, telemetry
from function.app import reserves
from function.app.service import Service
from function.auth import InvocationCredentials, invocation
from function.config import PROJECT_ID
from function.delivery import emit
from function.domain.codes import ErrorCode
from function.domain.errors import NicAttachError
from function.transport.api import CORRELATION_HEADER

log = logging.getLogger("nicattach.main")


class FunctionGraphContext(Protocol):
    """The getters of FunctionGraph's Python context the function calls (each may be absent)."""

    def getRequestID(self) -> str: ...  # noqa: N802 - FunctionGraph's names
    def getRemainingTimeInMilliSeconds(self) -> int: ...  # noqa: N802
    def getProjectID(self) -> str: ...  # noqa: N802
    def getToken(self) -> str: ...  # noqa: N802
    def getSecurityAccessKey(self) -> str: ...  # noqa: N802
    def getSecuritySecretKey(self) -> str: ...  # noqa: N802
    def getSecurityToken(self) -> str: ...  # noqa: N802


@dataclass(frozen=True)
class ContextView:
    """What one invocation's context says, read once; secrets never in ``repr``."""

    request_id: str | None = None
    remaining_ms: float | None = None
    """The platform's time left when the invocation started, if it said (and it is > 0)."""
    project_id: str = ""
    token: str = field(default="", repr=False)
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    security_token: str = field(default="", repr=False)

    @classmethod
    def read(cls, context: FunctionGraphContext | None) -> ContextView:
        request_id = _call(context, "getRequestID")
        return cls(
            request_id=str(request_id) if request_id else None,
            remaining_ms=_millis(_call(context, "getRemainingTimeInMilliSeconds")),
            project_id=_text(_call(context, "getProjectID")),
            token=_text(_call(context, "getToken")),
            access_key=_text(_call(context, "getSecurityAccessKey")),
            secret_key=_text(_call(context, "getSecuritySecretKey")),
            security_token=_text(_call(context, "getSecurityToken")),
        )

    def credentials(self) -> InvocationCredentials:
        """The agency's temporary credentials (none without an agency)."""
        return InvocationCredentials.of(
            token=self.token,
            access_key=self.access_key,
            secret_key=self.secret_key,
            security_token=self.security_token,
            project_id=self.project_id,
        )

    def remaining_seconds(self) -> float | None:
        """The time left minus a margin (a share of it, bounded: ``reserves.PLATFORM``)."""
        if self.remaining_ms is None:
            return None
        seconds = self.remaining_ms / 1000
        return max(0.1, seconds - reserves.PLATFORM.of(seconds))


class RetryableFailure(Exception):
    """Raised from ``handler`` so FunctionGraph records a failure and retries."""


def invoke(service: Service, event: dict[str, Any], context: FunctionGraphContext | None) -> Any:
    """One invocation: the outcome event(s) as structured-mode JSON, the reply's body when
    there is none, or ``RetryableFailure`` on a retryable failure.

    With ``NICATTACH_AUTH=functiongraph`` the context's temporary credentials are used
    for this invocation only (bound to this thread, see ``function/auth``).
    """
    view = ContextView.read(context)
    headers = {"Content-Type": "application/json"}
    if view.request_id:
        headers[CORRELATION_HEADER] = view.request_id
    budget = view.remaining_seconds()
    with invocation(service.auth, view.credentials()):
        if is_reconcile_timer(event):
            with logs.bind(correlation_id=view.request_id or "timer"):
                return timer_sweep(service, budget)
        reply = service.handle_parsed(event, headers, budget_s=budget)
    telemetry.flush()  # with OTEL_* only: FunctionGraph may freeze the process once we return
    if reply.verdict.retry:
        raise RetryableFailure(reply.body.decode())
    if reply.document is not None:  # no outcome event: an error, an ignored event
        return reply.document
    events = [emit.structured_json(e) for e in reply.events]
    return events[0] if len(events) == 1 else events


def wrong_target() -> Any:
    """``handler`` is FunctionGraph's entry; behind functions-framework, say so plainly."""
    import flask  # only functions-framework calls handler with a request

    log.error(
        "handler is the FunctionGraph entry point; functions-framework needs --target handle_event"
    )
    error = {
        "code": ErrorCode.WRONG_ENTRY_POINT.value,
        "message": "this function is deployed with the "
        "FunctionGraph entry point 'handler'; use --target handle_event",
    }
    return flask.Response(json.dumps({"error": error}), status=500, mimetype="application/json")


def timer_sweep(service: Service, budget: float | None) -> dict[str, Any]:
    """The TIMER sweep's summary; a sweep it cannot start (no project, a project not
    allowed) is answered with the reason, not raised: a retry would not fix it."""
    from function.app.views import summary_json  # a TIMER event's only: not at cold start

    try:
        return summary_json(service.reconcile(full=False, budget_s=budget))
    except NicAttachError as exc:
        if not service.settings.project_id:
            message = f"the TIMER sweep needs a project: set {PROJECT_ID}"
        else:
            message = exc.message
        log.error("reconcile not started: %s", message)
        return {"error": {"code": exc.code, "message": logs.redact(message)}}


def is_reconcile_timer(event: object) -> bool:
    """A FunctionGraph TIMER event whose ``user_event`` is ``{"nicattach": "reconcile"}``."""
    if not isinstance(event, dict) or event.get("trigger_type") != "TIMER":
        return False
    try:
        user_event = json.loads(str(event.get("user_event") or "{}"))
    except ValueError:
        return False
    return isinstance(user_event, dict) and user_event.get("nicattach") == "reconcile"


def remaining_seconds(context: FunctionGraphContext | None) -> float | None:
    """``context.getRemainingTimeInMilliSeconds()`` minus the platform's margin, if it says."""
    return ContextView.read(context).remaining_seconds()


def _call(context: object, getter: str) -> object:
    """What ``context.<getter>()`` answers; None when the context has no such getter."""
    method = getattr(context, getter, None)
    return method() if callable(method) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _millis(value: object) -> float | None:
    try:
        millis = float(str(value)) if value else None
    except ValueError:
        return None
    if millis is None or millis != millis or millis <= 0:
        return None
    return millis
