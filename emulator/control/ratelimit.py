"""A rate-limit profile: a token bucket per project and per API, 429 + ``Retry-After`` past it.

Huawei's APIs throttle per tenant and per API: a client (or a fleet of function
instances) that sends faster than the limit gets 429 until it slows down. Here each
(project, API) pair has its own bucket of ``burst`` tokens refilled at ``rate`` per
second; a request takes one, and a request that finds none is answered 429 with
``Retry-After`` = the seconds until the next token (Nova's ``overLimit`` body on the
compute API, API Gateway's ``APIG.0308`` on the ECS v1 and network APIs), before the
backend sees it.
``rate`` 0 (the default) switches it off.

Set it with ``PATCH /_admin/ratelimit`` (``{"rate": 20, "burst": 20}``; ``GET`` shows it
and the 429s so far, per bucket) or ``--rate-limit``/``--rate-burst`` on the command line.
The buckets and the clock are injected, so the bucket is tested on a virtual clock.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.core import clock as clocks
from emulator.core.errors import BadRequest
from emulator.core.wire import Request, Response

APIS = ("compute", "ecs", "network")
"""The compute API (``/v2.1``, ``/v2``), the ECS v1 API (``/v1``) and the network API
(``/v2.0``, the project from ``X-Project-Id``) have a bucket each."""


@dataclass
class TokenBucket:
    """``burst`` tokens at most, ``rate`` more per second; starts full."""

    rate: float
    burst: float
    tokens: float
    stamp: float

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        return cls(rate, burst, burst, now)

    def take(self, now: float) -> float:
        """Take a token: 0.0 if there was one, else the seconds until there is one."""
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimits:
    """The buckets of every (project, API); thread-safe."""

    def __init__(
        self, rate: float = 0.0, burst: float | None = None, clock: clocks.Clock = clocks.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._throttled: dict[str, int] = {}
        self.rate = 0.0
        self.burst = 0.0
        self.configure({"rate": rate, "burst": burst})

    def configure(self, changes: object) -> dict[str, Any]:
        """``rate`` (requests/s per project and API, 0 = off) and ``burst`` (tokens, ≥ 1;
        default: one second's worth). Every change starts the buckets full again."""
        if not isinstance(changes, dict):
            raise BadRequest("the rate limit must be a JSON object")
        unknown = sorted(set(changes) - {"rate", "burst"})
        if unknown:
            raise BadRequest(f"rate limit: unknown field(s) {unknown}; allowed: ['burst', 'rate']")
        rate = _number(changes, "rate", self.rate)
        burst = _number(changes, "burst", None)
        if rate < 0 or (burst is not None and burst < 1):
            raise BadRequest("rate limit: rate must be ≥ 0 and burst ≥ 1")
        with self._lock:
            self.rate = rate
            self.burst = burst if burst is not None else max(1.0, rate)
            self._buckets.clear()
            self._throttled.clear()
        return self.as_dict()

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"rate": self.rate, "burst": self.burst, "throttled": dict(self._throttled)}

    def check(self, project_id: str, api: str) -> Response | None:
        """A 429 for a request past the limit of ``project_id``'s ``api``; else None."""
        if not self.rate:
            return None
        with self._lock:
            now = self._clock()
            key = (project_id, api)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket.full(self.rate, self.burst, now)
            wait = bucket.take(now)
            if not wait:
                return None
            name = f"{project_id}/{api}"
            self._throttled[name] = self._throttled.get(name, 0) + 1
        return throttled(api, wait, self.rate)

    def routes(self) -> dict[str, Callable[[Request, dict[str, str]], Response]]:
        """``/_admin/ratelimit``'s handlers, for the control API's router."""
        return {"GET": self._get, "PATCH": self._patch, "PUT": self._patch}

    def _get(self, *_: object) -> Response:
        return Response(200, self.as_dict())

    def _patch(self, request: Request, _: dict[str, str]) -> Response:
        return Response(200, self.configure(request.json()))


def throttled(api: str, wait: float, rate: float) -> Response:
    """The answer past the limit: ``Retry-After`` in seconds, rounded up to the millisecond."""
    seconds = math.ceil(wait * 1000) / 1000
    headers = {"Retry-After": f"{seconds:g}"}
    if api in ("ecs", "network"):  # Huawei API Gateway's throttling answer (ECS, VPC)
        limit = f"limit:{rate:g}, time:1 second"
        message = f"The throttling threshold has been reached: {limit}"
        body: dict[str, Any] = {"error_code": "APIG.0308", "error_msg": message}
    else:
        limited = {"code": 429, "message": "Rate limit exceeded", "retryAfter": f"{seconds:g}"}
        body = {"overLimit": limited}
    return Response(429, body, headers)


def _number(doc: dict[str, Any], key: str, default: float | None) -> Any:
    value = doc.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"rate limit: {key} must be a number, not {value!r}")
    return float(value)
