"""How hard to press one API, decided from its answers: width, pace and pause, as values.

Pure: the clock is an argument of every decision; the threads that wait on these
decisions are ``function/gate.py``'s.

- **Width** (requests in flight): starts at ``Tuning.start``; grows by one per clean
  answer (slow start) until the first sign of trouble, then by one per ``width`` clean
  answers (one per round trip, TCP's congestion avoidance); halves on 429/503, or when
  the smoothed latency of reads climbs past ``latency_factor`` × the best seen (and
  ``latency_floor_s`` above it). Always within [1, ceiling].
- **Pace** (requests per second): none until the API throttles (429). The first 429
  paces at 0.7 × the rate of clean answers of the last second; a later one at 0.85 × the
  lower of the pace and that rate, if the process was sending at about its pace (clean
  answers ≥ 0.7 × the pace) or the 429s persist (three within a second). A lone
  429 while the process sends slower than its pace says little about the rate: the pause
  and the width answer it. Between cuts the pace follows CUBIC's curve (as the AWS SDKs'
  adaptive retry mode does), scaled to the rate it was cut from: back to that rate in
  about two seconds, flat around it, then faster and faster past it, so that a limit
  that was raised (or 429s that had nothing to do with the rate) stop holding the
  process back within seconds.
- **Pause**: a ``Retry-After`` holds every sender until it has passed, not only the one
  that got it; after it, senders leave one pace interval apart (no thundering herd).

After ``idle_s`` without a request the width starts again from ``start`` (as TCP's
restart after idle, RFC 5681 §4.1): what the API took a while ago, other callers of the
same limit may be taking now.

One cut per round trip: an answer to a request sent before the last cut does not cut
again, so the burst of 429s one overshoot causes halves the width once, as in TCP.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum

THROTTLED = frozenset({429, 503})
"""Answers that say "slower": the width halves (429 also sets the pace)."""
LATENCY_KINDS = frozenset({"GET"})
"""Calls whose latency is a signal: reads. A write's time is the hypervisor's, not load."""


@dataclass(frozen=True)
class Tuning:
    start: int = 8
    """Width before any answer (the ceiling if that is lower)."""
    beta: float = 0.5
    """The width's multiplicative decrease."""
    latency_factor: float = 4.0
    latency_floor_s: float = 0.25
    smoothing: float = 0.2
    """Weight of a new latency in the moving average."""
    first_rate_beta: float = 0.7
    """The pace after the first 429: this share of the clean answers of the last second."""
    rate_beta: float = 0.85
    """The pace after a later 429: this share of the pace (or of the clean rate, if lower)."""
    binding: float = 0.7
    """A later 429 cuts the pace only if the clean answers of the last second reached this
    share of it (the process was sending at about its pace)…"""
    persistent: int = 3
    """…or if this many 429s came within the last ``window_s``; otherwise a 429 pauses and
    narrows only."""
    cubic: float = 0.02
    """CUBIC's constant, per s³, as a share of the rate the pace was cut from."""
    window_s: float = 1.0
    idle_s: float = 1.0
    """After this long without a request, the width starts again from ``start``."""
    min_rate: float = 0.5
    """The pace never drops below this."""
    max_pause_s: float = 30.0
    """A longer ``Retry-After`` pauses this long (the request's own retry decides the rest)."""


class Signal(Enum):
    GREW = "grew"
    CUT = "cut"
    HELD = "held"


class Adaptive:
    """The state of one process towards one API. Not thread-safe: the gate holds a lock."""

    def __init__(self, ceiling: int, tuning: Tuning | None = None) -> None:
        if ceiling < 1:
            raise ValueError(f"the ceiling must be at least 1, not {ceiling}")
        self.ceiling = ceiling
        self.tuning = tuning = tuning or Tuning()
        self._width = float(min(ceiling, max(1, tuning.start)))
        self.slow_start = True
        self.pause_until = -math.inf
        self.last_cut = -math.inf
        self._next_send = -math.inf
        self._rate_cut: float | None = None  # the pace right after the last cut; None: unpaced
        self._rate_from = 0.0  # the rate it was cut from
        self._rate_cut_at = 0.0
        self._best: dict[str, float] = {}
        self._smooth: dict[str, float] = {}
        self._clean: deque[float] = deque()
        self._throttles: deque[float] = deque()
        self._last_send = -math.inf
        self.cuts = 0

    @property
    def width(self) -> int:
        """Requests that may be in flight now."""
        return max(1, min(self.ceiling, int(self._width)))

    def rate(self, now: float) -> float | None:
        """Requests per second allowed at ``now``; ``None``: not paced."""
        if self._rate_cut is None:
            return None
        cubic, base = self.tuning.cubic, self._rate_from
        back = math.cbrt(max(0.0, 1.0 - self._rate_cut / base) / cubic) if base > 0 else 0.0
        grown = base * (1.0 + cubic * (now - self._rate_cut_at - back) ** 3)
        return max(grown, self.tuning.min_rate)

    def wait(self, now: float) -> float:
        """Seconds until a request may leave; 0.0: it may leave now, and it takes the slot.
        Nothing is reserved ahead: a waiting sender asks again, and finds the pace and pause
        as they are then (a cut meanwhile applies to it too)."""
        at = max(now, self.pause_until, self._next_send)
        if at > now:
            return at - now
        if now - self._last_send > self.tuning.idle_s:
            self.restart()
        self._last_send = now
        rate = self.rate(now)
        if rate is not None:
            self._next_send = now + 1.0 / rate
        return 0.0

    def restart(self) -> None:
        """Back to the starting width, growing fast again (the pace is kept)."""
        self._width = min(self._width, float(min(self.ceiling, max(1, self.tuning.start))))
        self.slow_start = True

    def observe(
        self,
        kind: str,
        status: int | None,
        sent_at: float,
        now: float,
        retry_after: float | None = None,
    ) -> Signal:
        """One answer: ``status`` (``None``: no answer), sent at ``sent_at``, seen at ``now``."""
        if status == 429:
            self._throttles.append(now)
            while self._throttles[0] <= now - self.tuning.window_s:
                self._throttles.popleft()
        if status in THROTTLED:
            if retry_after is not None and retry_after > 0:
                pause = min(retry_after, self.tuning.max_pause_s)
                self.pause_until = max(self.pause_until, now + pause)
            return self._cut(sent_at, now, paced=status == 429)
        if status is None:
            return Signal.HELD
        if kind in LATENCY_KINDS and self._slower(kind, now - sent_at):
            return self._cut(sent_at, now, paced=False)
        if status >= 500:
            return Signal.HELD
        self._count_clean(now)
        step = 1.0 if self.slow_start else 1.0 / self._width
        self._width = min(float(self.ceiling), self._width + step)
        return Signal.GREW

    def clean_rate(self, now: float) -> float:
        """Clean answers per second over the last ``window_s`` (a whole window even when the
        first answer is more recent: a burst at the start is not a rate)."""
        self._forget(now)
        return len(self._clean) / self.tuning.window_s

    def _cut(self, sent_at: float, now: float, *, paced: bool) -> Signal:
        if sent_at < self.last_cut:  # sent before the last cut: that cut answered it already
            return Signal.HELD
        self._width = max(1.0, self._width * self.tuning.beta)
        self.slow_start = False
        self.last_cut = now
        self.cuts += 1
        if paced:
            current, measured = self.rate(now), self.clean_rate(now)
            slower = current is not None and measured < self.tuning.binding * current
            if slower and len(self._throttles) < self.tuning.persistent:
                return Signal.CUT  # not sending at the pace: one 429 says little about it
            if current is None:
                base, beta = measured, self.tuning.first_rate_beta
            else:
                base, beta = min(current, measured), self.tuning.rate_beta
            base = max(base, 1.0)  # nothing clean yet: start from one a second
            self._rate_from, self._rate_cut, self._rate_cut_at = base, beta * base, now
        return Signal.CUT

    def _slower(self, kind: str, latency: float) -> bool:
        latency = max(0.0, latency)
        best = min(self._best.get(kind, latency), latency)
        self._best[kind] = best
        smooth = self._smooth.get(kind, latency)
        smooth += self.tuning.smoothing * (latency - smooth)
        self._smooth[kind] = smooth
        limit = max(best * self.tuning.latency_factor, best + self.tuning.latency_floor_s)
        return smooth > limit

    def _count_clean(self, now: float) -> None:
        self._clean.append(now)
        self._forget(now)

    def _forget(self, now: float) -> None:
        horizon = now - self.tuning.window_s
        while self._clean and self._clean[0] <= horizon:
            self._clean.popleft()
