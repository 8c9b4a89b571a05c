"""Entry points only: ``handle_event`` (HTTP, functions-framework) and ``handler`` (FunctionGraph).

    functions-framework --source function/main.py --target handle_event

The service is built when this module is imported, so a bad policy or
configuration stops the function at start-up with one log line, instead of
failing every event later.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

if __package__ in (None, ""):  # loaded from a file path by functions-framework or FunctionGraph
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The FunctionGraph package (make package) ships without flask and functions-framework:
# ``handler`` needs neither, and leaving them out saves their import time at cold start.
if TYPE_CHECKING:
    import flask
    from functions_framework import http as _http_entry
else:
    try:
        from functions_framework import http as _http_entry
    except ModuleNotFoundError:  # covered by tests/integration/test_package.py

        def _http_entry(function):
            return function


from function import logs, telemetry  # noqa: E402
from function.app import reserves  # noqa: E402
from function.app.service import Service, error_reply  # noqa: E402
from function.app.wiring import build_service  # noqa: E402
from function.auth import InvocationCredentials, invocation  # noqa: E402
from function.config import LOG_LEVEL, PROJECT_ID, ConfigError, Settings  # noqa: E402
from function.delivery import emit  # noqa: E402
from function.domain.codes import ErrorCode  # noqa: E402
from function.domain.errors import MethodNotAllowed, NicAttachError, PolicyError  # noqa: E402
from function.transport.api import CORRELATION_HEADER  # noqa: E402

log = logging.getLogger("nicattach.main")


def _start() -> Service:
    logs.configure(os.environ.get(LOG_LEVEL, "INFO"))
    try:
        return build_service(Settings.from_env())
    except (ConfigError, PolicyError) as exc:
        raise SystemExit(_cannot_start(exc.problems)) from None
    except NicAttachError as exc:
        raise SystemExit(_cannot_start([exc.message])) from None


def _cannot_start(problems: list[str]) -> str:
    """One log line per problem, and the exit message with one line per problem too."""
    lines = [f"nic-autoattach cannot start: {logs.redact(problem)}" for problem in problems]
    for line in lines:
        log.critical("%s", line)
    return "\n".join(lines)


SERVICE = _start()


@_http_entry
def handle_event(request: flask.Request) -> flask.Response:
    """HTTP entry: a CloudEvent (binary or structured) or a bare JSON body; GET/HEAD is
    the health check; any other method is answered 405."""
    import flask  # already loaded by functions-framework; absent from the FunctionGraph zip

    if request.method in ("GET", "HEAD"):
        reply = SERVICE.health()
        return flask.Response(reply.body, status=reply.status, headers=reply.headers)
    if request.method != "POST":
        refused = MethodNotAllowed(f"{request.method} is not supported: POST an event, GET /")
        reply = error_reply(refused)
        headers = {**reply.headers, "Allow": "GET, HEAD, POST"}
        return flask.Response(reply.body, status=reply.status, headers=headers)
    # Read at most one byte more than allowed, so an oversized body is refused unread.
    body = request.stream.read(SERVICE.settings.max_body_bytes + 1)
    headers = dict(request.headers)
    # A FunctionGraph HTTP function gets its credentials as X-CFF-* headers ("Include Keys").
    with invocation(SERVICE.auth, InvocationCredentials.from_headers(headers)):
        reply = SERVICE.handle(headers, body, trusted=False)  # SMN messages must be signed
    return flask.Response(reply.body, status=reply.status, headers=reply.headers)


def handler(event: dict[str, Any], context: Any = None) -> Any:
    """FunctionGraph's native event-function signature: the same code path as HTTP.

    Returns the outcome event(s) as structured-mode JSON; raises on a
    retryable failure so the platform retries the invocation.

    With ``NICATTACH_AUTH=functiongraph`` the context's temporary credentials
    are used for this invocation only (bound to this thread, see ``auth.py``);
    FunctionGraph runs one invocation per instance at a time, and concurrent
    invocations on other threads would each see their own.
    """
    if context is None and hasattr(event, "method"):  # functions-framework --target handler
        return _wrong_target()
    headers = {"Content-Type": "application/json"}
    request_id = _call(context, "getRequestID")
    if request_id:
        headers[CORRELATION_HEADER] = request_id
    budget = remaining_seconds(context)
    with invocation(SERVICE.auth, InvocationCredentials.from_context(context)):
        if is_reconcile_timer(event):
            with logs.bind(correlation_id=request_id or "timer"):
                return _timer_sweep(budget)
        reply = SERVICE.handle(headers, _encode(event), budget_s=budget)
    telemetry.flush()  # with OTEL_* only: FunctionGraph may freeze the process once we return
    if reply.verdict.retry:
        raise RetryableFailure(reply.body.decode())
    if not reply.events:
        return json.loads(reply.body)
    events = [emit.structured_json(e) for e in reply.events]
    return events[0] if len(events) == 1 else events


def _timer_sweep(budget: float | None) -> dict[str, Any]:
    """The TIMER sweep's summary; a sweep it cannot start (no project, a project not
    allowed) is answered with the reason, not raised: a retry would not fix it."""
    try:
        return SERVICE.reconcile(full=False, budget_s=budget).as_dict()
    except NicAttachError as exc:
        if not SERVICE.settings.project_id:
            message = f"the TIMER sweep needs a project: set {PROJECT_ID}"
        else:
            message = exc.message
        log.error("reconcile not started: %s", message)
        return {"error": {"code": exc.code, "message": logs.redact(message)}}


def _wrong_target() -> Any:
    """``handler`` is FunctionGraph's entry; behind functions-framework, say so plainly."""
    import flask

    log.error(
        "handler is the FunctionGraph entry point; functions-framework needs --target handle_event"
    )
    error = {
        "code": ErrorCode.WRONG_ENTRY_POINT.value,
        "message": "this function is deployed with the "
        "FunctionGraph entry point 'handler'; use --target handle_event",
    }
    return flask.Response(json.dumps({"error": error}), status=500, mimetype="application/json")


def _encode(event: object) -> bytes:
    """The event as the JSON body the HTTP entry would get; what cannot be JSON (a cycle,
    nesting beyond any real event, a non-JSON value) becomes a body the parser refuses."""
    try:
        return json.dumps(event, allow_nan=False).encode()
    except (ValueError, TypeError, RecursionError):
        return b"\x00 not a JSON event"


def is_reconcile_timer(event: object) -> bool:
    """A FunctionGraph TIMER event whose ``user_event`` is ``{"nicattach": "reconcile"}``."""
    if not isinstance(event, dict) or event.get("trigger_type") != "TIMER":
        return False
    try:
        user_event = json.loads(str(event.get("user_event") or "{}"))
    except ValueError:
        return False
    return isinstance(user_event, dict) and user_event.get("nicattach") == "reconcile"


def remaining_seconds(context: Any) -> float | None:
    """``context.getRemainingTimeInMilliSeconds()`` minus a margin (a share of it, bounded:
    ``reserves.PLATFORM``), if the context has it."""
    raw = _call(context, "getRemainingTimeInMilliSeconds")
    try:
        millis = float(raw) if raw is not None else None
    except ValueError:
        return None
    if millis is None or millis != millis or millis <= 0:
        return None
    seconds = millis / 1000
    return max(0.1, seconds - reserves.PLATFORM.of(seconds))


def _call(context: Any, getter: str) -> str | None:
    method = getattr(context, getter, None)
    value = method() if callable(method) else None
    return str(value) if value else None


class RetryableFailure(Exception):
    """Raised from ``handler`` so FunctionGraph records a failure and retries."""
