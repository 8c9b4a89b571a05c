"""Entry points only: ``handle_event`` (HTTP, functions-framework) and ``handler`` (FunctionGraph).

    functions-framework --source function/main.py --target handle_event

The service is built when this module is imported, so a bad policy or
configuration stops the function at start-up with one log line, instead of
failing every event later.
"""

from __future__ import annotations

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


from function import logs  # noqa: E402
from function.app.functiongraph import (  # noqa: E402
    FunctionGraphContext,
    RetryableFailure,
    invoke,
    wrong_target,
)
from function.app.service import Service, error_reply  # noqa: E402
from function.app.wiring import build_service  # noqa: E402
from function.auth import InvocationCredentials, invocation  # noqa: E402
from function.config import LOG_LEVEL, ConfigError, Settings  # noqa: E402
from function.domain.errors import MethodNotAllowed, NicAttachError, PolicyError  # noqa: E402

__all__ = ["handle_event", "handler", "RetryableFailure"]

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


def handler(event: dict[str, Any], context: FunctionGraphContext | None = None) -> Any:
    """FunctionGraph's native event-function signature: the same code path as HTTP.

    Returns the outcome event(s) as structured-mode JSON; raises ``RetryableFailure``
    on a retryable failure so the platform retries the invocation
    (``function/app/functiongraph.py``).
    """
    if context is None and hasattr(event, "method"):  # functions-framework --target handler
        return wrong_target()
    return invoke(SERVICE, event, context)
