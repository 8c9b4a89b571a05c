"""Time, as values: the clock/sleep/random seam, one deadline per event, one backoff.

Pure: the real clock, sleep and random source are handed in by the wiring
(``function/app/wiring.py``); tests hand in a fake one and never sleep.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """The three things that make code time-dependent, injected together."""

    clock: Callable[[], float]
    """Monotonic seconds."""
    sleep: Callable[[float], None]
    rng: Callable[[], float]
    """A float in [0, 1): the jitter source."""

    def deadline(self, seconds: float) -> Deadline:
        return Deadline(self.clock() + max(0.0, seconds), self)


@dataclass(frozen=True)
class Deadline:
    """The moment an event's work must be done by; every wait, request and pause is
    clipped by it. Handed down the call chain as a value."""

    at: float
    timing: Timing

    def remaining(self) -> float:
        return max(0.0, self.at - self.timing.clock())

    @property
    def expired(self) -> bool:
        return self.timing.clock() >= self.at

    def allows(self, seconds: float) -> bool:
        """Whether ``seconds`` more fit before the deadline."""
        return self.timing.clock() + seconds < self.at

    def clip(self, seconds: float) -> float:
        """``seconds``, shortened so it ends no later than the deadline."""
        return max(0.0, min(seconds, self.remaining()))

    def earlier(self, seconds: float) -> Deadline:
        """This deadline, or ``seconds`` from now if that comes first."""
        return Deadline(min(self.at, self.timing.clock() + max(0.0, seconds)), self.timing)

    def minus(self, reserve: float) -> Deadline:
        """A deadline ``reserve`` seconds before this one (time kept back for what follows)."""
        return Deadline(self.at - max(0.0, reserve), self.timing)

    def pause(self, seconds: float) -> None:
        """Sleep ``seconds``, never past the deadline."""
        delay = self.clip(seconds)
        if delay > 0:
            self.timing.sleep(delay)


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with jitter: ``base * 2**(attempt-1)``, at most
    ``cap``, times a factor in [1 - jitter, 1). A server's hint (``Retry-After``)
    wins, up to ``hint_cap``."""

    base: float = 0.2
    cap: float = 5.0
    jitter: float = 0.5
    hint_cap: float = 30.0

    def delay(self, attempt: int, rng: Callable[[], float], hint: float | None = None) -> float:
        if hint is not None:
            return min(hint, self.hint_cap)
        raw = min(self.base * 2.0 ** max(0, attempt - 1), self.cap)
        return float(raw * (1.0 - self.jitter + self.jitter * rng()))


API_BACKOFF = Backoff(base=0.2, cap=5.0, hint_cap=30.0)
"""GET retries, settle re-reads, job polling."""
READY_BACKOFF = Backoff(base=0.5, cap=5.0, hint_cap=5.0)
"""Waiting for a BUILDing or busy server."""
PORT_BACKOFF = Backoff(base=0.2, cap=2.0, jitter=0.0)
"""Polling a new NIC until its port is ACTIVE."""
SINK_BACKOFF = Backoff(base=0.2, cap=2.0, hint_cap=2.0)
"""Sink delivery retries."""

MAX_RETRY_AFTER_S = 3600.0


def parse_retry_after(raw: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header's delta-seconds form; ``None`` for anything
    else (absent, an HTTP date, garbage, negative, non-finite, absurdly large)."""
    if raw is None:
        return None
    text = raw.strip()
    digits = text.replace(".", "", 1)
    if not text or len(text) > 16 or not (digits.isascii() and digits.isdigit()):
        return None
    value = float(text)
    if not math.isfinite(value) or value > MAX_RETRY_AFTER_S:
        return None
    return value
