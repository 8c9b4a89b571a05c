"""Fault injection: the ways a real cloud API misbehaves, on demand.

Faults apply to compute calls only (never to the admin API or version
discovery). Each request draws once from a seeded generator, so a run can be
replayed. The kinds:

- ``latency_ms``: added to every compute request;
- ``error_rate``: answered 500 or 503 before the backend sees it;
- ``ambiguous_rate``: a write (POST/DELETE) is carried out, then answered 500
  or its connection dropped: the caller cannot know whether it happened;
- ``throttle_rate``: 429 with ``Retry-After: retry_after_s``;
- ``drop_rate``: the connection is closed without an answer, before the backend;
- ``busy_rate``: an attach or detach gets Nova's 409 "while it is in task_state";
  ``busy_servers`` holds per-server busy windows (seconds from now);
- ``job_fail_rate``: an ECS v1 NIC job ends ``FAIL`` with ``job_fail_code``
  (drawn when the job starts). The HTTP faults apply to the v1 API as well; its
  busy answer is Huawei's 400 ``Ecs.0100`` on ``…/nics`` and ``…/nics/delete``;
- ``echo_header``: every request is answered 400 quoting that request header
  (a gateway that echoes what it got: secrets must not travel on from there);
- ``zoneless_times``: GET answers carry ``created``/``updated`` without a time zone.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from emulator.core.wire import Request, Response

WRITE_METHODS = frozenset({"POST", "DELETE"})


@dataclass
class FaultPlan:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    ambiguous_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after_s: float = 0.1
    drop_rate: float = 0.0
    busy_rate: float = 0.0
    oversize_rate: float = 0.0
    job_fail_rate: float = 0.0
    job_fail_code: str = "Ecs.0217"
    echo_header: str = ""
    zoneless_times: bool = False
    seed: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


RATES = (
    "error_rate",
    "ambiguous_rate",
    "throttle_rate",
    "drop_rate",
    "busy_rate",
    "job_fail_rate",
    "oversize_rate",
)
OVERSIZE_BYTES = 17 * 1024 * 1024
"""An oversized answer: above the 16 MiB any client of ours reads."""
NUMBERS = ("latency_ms", "retry_after_s", *RATES)


def _fault(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {kind: {"code": status, "message": message}}, headers or {})


class Faults:
    """Decides, per compute request, whether and how to misbehave. Thread-safe."""

    def __init__(self, plan: FaultPlan | None = None, sleep: Callable[[float], None] = time.sleep):
        self._lock = threading.Lock()
        self._sleep = sleep
        self._busy_until: dict[str, float] = {}
        self.plan = FaultPlan()
        self._rng = random.Random()
        self.configure(asdict(plan or FaultPlan()))

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply ``changes`` (any FaultPlan field, plus ``busy_servers``); return the plan."""
        known = {f.name for f in fields(FaultPlan)} | {"busy_servers"}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        numbers = {name: float(changes[name]) for name in NUMBERS if name in changes}
        for name, value in numbers.items():
            if value < 0 or (name in RATES and value > 1):
                raise ValueError(f"{name} out of range: {value}")
        code = changes.get("job_fail_code", self.plan.job_fail_code)
        if not isinstance(code, str) or not code:
            raise ValueError(f"job_fail_code must be an error code like 'Ecs.0217', not {code!r}")
        echo = changes.get("echo_header", self.plan.echo_header)
        if not isinstance(echo, str):
            raise ValueError(f"echo_header must be a header name or '', not {echo!r}")
        zoneless = changes.get("zoneless_times", self.plan.zoneless_times)
        if not isinstance(zoneless, bool):
            raise ValueError(f"zoneless_times must be true or false, not {zoneless!r}")
        seed = changes.get("seed")
        seed = None if seed is None else int(seed)
        busy = {str(k): float(v) for k, v in dict(changes.get("busy_servers") or {}).items()}
        with self._lock:  # every value checked: apply all of them or none
            for name, value in numbers.items():
                setattr(self.plan, name, value)
            self.plan.job_fail_code = code
            self.plan.echo_header, self.plan.zoneless_times = echo, zoneless
            if "seed" in changes:
                self.plan.seed = seed
                self._rng = random.Random(self.plan.seed)
            for server_id, seconds in busy.items():
                self._busy_until[server_id] = time.monotonic() + seconds
            return self.plan.as_dict()

    def before(self, request: Request, server_id: str | None) -> Response | None:
        """A fault answer instead of the real one, or None to go on."""
        plan = self.plan
        if plan.latency_ms:
            self._sleep(plan.latency_ms / 1000)
        if plan.echo_header:
            return self._count("echo", _echo(request, plan.echo_header))
        with self._lock:
            draw = self._rng.random()
            busy = server_id is not None and self._busy_until.get(server_id, 0) > time.monotonic()
        edge = plan.drop_rate
        if draw < edge:
            return self._count("drop", Response(0))
        edge += plan.error_rate
        if draw < edge:
            return self._count("error", self._server_error())
        edge += plan.throttle_rate
        if draw < edge:
            return self._count("throttle", self._throttled())
        edge += plan.oversize_rate
        if draw < edge and request.method == "GET":
            return self._count("oversize", Response(200, {"padding": "x" * OVERSIZE_BYTES}))
        v1 = request.path.startswith("/v1/")
        nic_path = "/nics" if v1 else "/os-interface"
        is_attach = request.method in WRITE_METHODS and nic_path in request.path
        if is_attach and (busy or draw < edge + plan.busy_rate):
            if v1:
                body = {"error": {"code": "Ecs.0100", "message": f"Server {server_id} is busy."}}
                return self._count("busy", Response(400, body))
            message = f"Cannot 'attach_interface' instance {server_id} while it is in task_state"
            return self._count("busy", _fault(409, "conflictingRequest", message + " updating"))
        return None

    def job_failure(self) -> str | None:
        """The Ecs.* code an ECS v1 job about to start should fail with, or None."""
        with self._lock:
            if not self.plan.job_fail_rate or self._rng.random() >= self.plan.job_fail_rate:
                return None
            self.plan.counts["job_fail"] = self.plan.counts.get("job_fail", 0) + 1
            return self.plan.job_fail_code

    def after(self, request: Request, response: Response) -> Response:
        """Turn a carried-out write into an ambiguous answer, sometimes."""
        if request.method == "GET" and self.plan.zoneless_times:
            return Response(response.status, _zoneless(response.body), response.headers)
        if request.method not in WRITE_METHODS or not self.plan.ambiguous_rate:
            return response
        with self._lock:
            draw = self._rng.random()
        if draw >= self.plan.ambiguous_rate:
            return response
        if draw < self.plan.ambiguous_rate / 2:
            return self._count("ambiguous_drop", Response(0))
        return self._count("ambiguous_500", self._server_error(500))

    def _server_error(self, status: int | None = None) -> Response:
        status = status or (500 if self._rng.random() < 0.5 else 503)
        message = "Unexpected API Error. Please contact the administrator"
        return _fault(status, "computeFault", message)

    def _throttled(self) -> Response:
        seconds = self.plan.retry_after_s
        headers = {"Retry-After": f"{seconds:g}"}
        body = {
            "overLimit": {"code": 429, "message": "Rate limit exceeded", "retryAfter": str(seconds)}
        }
        return Response(429, body, headers)

    def _count(self, name: str, response: Response) -> Response:
        with self._lock:
            self.plan.counts[name] = self.plan.counts.get(name, 0) + 1
        return response


def _echo(request: Request, header: str) -> Response:
    """400 quoting the request's ``header``, in the shape of the API asked."""
    message = f"Invalid request (got {request.headers.get(header.lower(), '')!r})"
    if request.path.startswith("/v1/"):
        return Response(400, {"error": {"code": "Ecs.0005", "message": message}})
    return _fault(400, "badRequest", message)


def _zoneless(body: object) -> object:
    """``body`` with every ``created``/``updated`` time stripped of its zone."""
    if isinstance(body, list):
        return [_zoneless(item) for item in body]
    if not isinstance(body, dict):
        return body
    return {
        key: value.removesuffix("Z")[:19]
        if key in ("created", "updated") and isinstance(value, str)
        else _zoneless(value)
        for key, value in body.items()
    }
