"""The emulated cloud's time: wall-clock stamps from an injectable clock, and changes due later.

Everything in the emulator that changes with time (a server leaves BUILD, a detach
finishes, an ECS job ends, a hook times out) is computed lazily from a monotonic
``clock``; wall-clock times (``created``, ``updated``, ``changes-since``) are the wall
time when the timeline was made plus the clock's progress since, so a fake clock moves
them too. ``schedule`` keeps the changes other services want run at a given clock time;
the owner runs ``pop_due`` under its own lock before anything reads the state.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from datetime import datetime, timezone

from emulator.core import clock as clocks
from emulator.core.errors import BadRequest


def iso_time(epoch_s: float) -> str:
    """Nova's timestamp format (seconds, UTC)."""
    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Timeline:
    """A clock, the wall time it stands for, and a queue of changes by due time.

    Not thread-safe on its own: its owner (``FakeBackend``) calls it under its lock.
    """

    def __init__(self, clock: clocks.Clock) -> None:
        self.epoch = time.time() - clock()
        """Wall time (epoch seconds) when ``clock()`` read 0."""
        self._scheduled: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def schedule(self, at: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._scheduled, (at, next(self._order), action))

    def pop_due(self, now: float) -> list[Callable[[], None]]:
        """The scheduled changes due at ``now``, in order, taken off the queue."""
        due = []
        while self._scheduled and self._scheduled[0][0] <= now:
            due.append(heapq.heappop(self._scheduled)[2])
        return due

    def clear(self) -> None:
        self._scheduled.clear()


def advance(clock: clocks.Clock, seconds: float) -> None:
    """Move ``clock`` forward (it must be an ``AdjustableClock``), else a 400."""
    move = getattr(clock, "advance", None)
    if move is None:
        raise BadRequest("This emulator's clock cannot be moved (not an AdjustableClock).")
    try:
        move(seconds)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
