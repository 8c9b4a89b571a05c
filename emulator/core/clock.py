"""Time as the emulator sees it: an injectable monotonic clock and sleep.

Everything that changes with time (BUILD → ACTIVE, ports DOWN → ACTIVE,
delayed detaches, latency) reads a ``Clock`` or calls a ``Sleep`` handed in
at construction, so tests drive time instead of waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Monotonic seconds (``time.monotonic`` or a test's fake).
Clock = Callable[[], float]
#: Blocks the calling thread for that many seconds (``time.sleep`` or a test's recorder).
Sleep = Callable[[float], None]

monotonic: Clock = time.monotonic
sleep: Sleep = time.sleep


class AdjustableClock:
    """A monotonic clock the control API can move forward (``PATCH /_admin/clock``):
    ``base()`` plus every ``advance`` so far. The emulator process runs on one, so a
    benchmark can age servers (BUILD ends, ``updated`` falls out of a ``changes-since``
    window) without waiting."""

    def __init__(self, base: Clock = monotonic) -> None:
        self._base = base
        self.offset = 0.0

    def __call__(self) -> float:
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError(f"the clock only moves forward (advance_s={seconds!r})")
        self.offset += seconds
