"""Traces, metrics and per-server API call counts behind one small interface.

Call sites are one line each: ``telemetry.get().count(...)``, ``with
telemetry.get().event(...)``, ``with telemetry.get().api_call(...)``. The default,
``Telemetry``, exports nothing but still continues the incoming trace context (the
outcome events' ``traceparent``, the API requests' ``traceparent``) and counts API calls
for the outcome log line. With any ``OTEL_*`` variable set (and the ``otel`` extra
installed), ``get`` returns the OpenTelemetry implementation (``telemetry/otel.py``),
configured by the standard variables only. Nothing of OpenTelemetry is imported before
the first event, and it is set up again in a forked process (gunicorn's workers).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from function.domain import tracecontext
from function.domain.tracecontext import TraceParent

log = logging.getLogger("nicattach.telemetry")

# The metrics (docs/observability.md); a counter nobody adds to yet exports nothing.
OUTCOMES = "nicattach.outcomes"  # {outcome, code}
ATTACH_DURATION = "nicattach.attach.duration"  # histogram, ms, {outcome}
API_CALLS = "nicattach.api.calls"  # {api, route, status}
HOOK_ANSWERS = "nicattach.hook.answers"  # {result}
DUPLICATES_HEALED = "nicattach.duplicates.healed"
PORTS_COLLECTED = "nicattach.ports.collected"
SINK_FAILURES = "nicattach.sink.failures"  # {sink}

_SPAN: contextvars.ContextVar[TraceParent | None] = contextvars.ContextVar(
    "nicattach_span", default=None
)
_CALLS: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar(
    "nicattach_calls", default=None
)


_ID_SEGMENT = re.compile(r"^(?=.*[0-9])[0-9A-Za-z_.-]{6,}$|^[0-9]+$")


def route_of(what: str) -> str:
    """``GET /v2.1/{id}/servers/{id}/os-interface`` from ``GET /v2.1/<project>/servers/<id>/…``:
    ids (any segment with a digit, 6+ characters, or all digits) cut, for low-cardinality
    metric attributes and span names; the version segment (``v2.1``) is kept."""
    method, _, path = what.partition(" ")
    segments = [
        "{id}" if _ID_SEGMENT.match(s) and not re.fullmatch(r"v[0-9.]+", s) else s
        for s in path.split("?", 1)[0].split("/")
    ]
    return f"{method} {'/'.join(segments)}"


def new_span_id() -> str:
    return os.urandom(8).hex()


class Call:
    """One API call in flight: the headers to send with it, and its answer's status."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = dict(headers)
        self.status_code: int | None = None

    def status(self, code: int) -> None:
        self.status_code = code


class Telemetry:
    """The default: no export; the trace context is still continued, calls still counted."""

    enabled = False

    def __init__(self) -> None:
        self._cold = True
        self._lock = threading.Lock()

    def coldstart(self) -> bool:
        """True for the first event this process handles."""
        with self._lock:
            cold, self._cold = self._cold, False
            return cold

    @contextlib.contextmanager
    def event(
        self, name: str, traceparent: str | None, attributes: Mapping[str, Any]
    ) -> Iterator[str | None]:
        """One event: yields the ``traceparent`` its outcome events carry (the incoming
        trace, continued by a new span), or None when the event came without one."""
        self.coldstart()
        parent = tracecontext.parse(traceparent)
        own = parent.child(new_span_id()) if parent is not None else None
        token = _SPAN.set(own)
        try:
            yield str(own) if own is not None else None
        finally:
            _SPAN.reset(token)

    @contextlib.contextmanager
    def api_call(self, api: str, method: str, route: str) -> Iterator[Call]:
        """One API request: counted for the outcome log line; its ``traceparent`` header
        continues the event's trace."""
        _count_call(api)
        span = _SPAN.get()
        headers = {"traceparent": str(span.child(new_span_id()))} if span is not None else {}
        yield Call(headers)

    def count(self, name: str, value: int = 1, **attributes: str) -> None:
        """Add ``value`` to the counter ``name`` (a no-op here)."""

    def record(self, name: str, value: float, **attributes: str) -> None:
        """Record ``value`` in the histogram ``name`` (a no-op here)."""

    def flush(self) -> None:
        """Export what is buffered (nothing here)."""


def _count_call(api: str) -> None:
    calls = _CALLS.get()
    if calls is not None:
        calls[api] = calls.get(api, 0) + 1


@contextlib.contextmanager
def counting() -> Iterator[dict[str, int]]:
    """The API calls made inside this block (worker threads included), by API."""
    calls: dict[str, int] = {}
    token = _CALLS.set(calls)
    try:
        yield calls
    finally:
        _CALLS.reset(token)


_INSTANCE: Telemetry | None = None
_INSTANCE_LOCK = threading.Lock()


def _forget_in_child() -> None:
    """A forked child makes its own (the parent's exporters and threads are not there)."""
    global _INSTANCE, _INSTANCE_LOCK
    _INSTANCE, _INSTANCE_LOCK = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)


def wanted(environ: Mapping[str, str]) -> bool:
    """Any ``OTEL_*`` variable asks for OpenTelemetry, unless ``OTEL_SDK_DISABLED=true``."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(name.startswith("OTEL_") for name in environ)


def get() -> Telemetry:
    """This process's telemetry, made on first use (again after a fork)."""
    global _INSTANCE
    made = _INSTANCE
    if made is not None:  # no os.getpid() here: a fork is told by register_at_fork
        return made
    with _INSTANCE_LOCK:
        if _INSTANCE is None:
            _INSTANCE = _choose()
        return _INSTANCE


def _choose() -> Telemetry:
    if not wanted(os.environ):
        return Telemetry()
    try:
        from function.telemetry.otel import OtelTelemetry
    except ImportError as exc:
        log.warning("OTEL_* is set but the otel extra is not installed (%s): no export", exc)
        return Telemetry()
    return OtelTelemetry()


def flush() -> None:
    """Export what is buffered now (tests; a platform about to freeze the process)."""
    if _INSTANCE is not None:
        _INSTANCE.flush()
