"""Deadline time kept back for what follows the servers' work, scaled to the deadline.

An event's deadline pays for the compute work, then the lifecycle hooks' callbacks,
then the sink deliveries. Each later step keeps back a *share* of the deadline,
bounded below by what the step costs (its floor, measured: see docs/reliability.md)
and above by what it can ever use (its cap). Fixed 3 s reserves made a deadline of
6 s or less with a sink and an AS endpoint answer every event ``deadline_exceeded``
without one compute call; FunctionGraph's default function timeout is 3 s.

``smallest_deadline`` is the shortest ``NICATTACH_DEADLINE_S`` that leaves one
server the time to be attached against an API answering in 50 ms once every
reserve is taken; a shorter one is refused at start-up (``check_deadline``).
"""

from __future__ import annotations

from dataclasses import dataclass

from function.config import DEADLINE_S, ConfigError, Settings


@dataclass(frozen=True)
class Reserve:
    """A share of an event's deadline kept back for one step, between a floor and a cap."""

    share: float
    """Of the event's deadline."""
    floor: float
    """Seconds: what the step costs at the least (measured against a 50 ms API)."""
    cap: float
    """Seconds: more would never be used."""

    def of(self, deadline_s: float) -> float:
        return min(self.cap, max(self.floor, self.share * deadline_s))


SINK = Reserve(share=0.15, floor=0.4, cap=3.0)
"""One POST per outcome event (a sink answering in 50 ms: +0.4 s on the smallest
deadline that works, bench/deadlines.py), and a retry when there is time."""
RELEASE = Reserve(share=0.15, floor=0.5, cap=3.0)
"""The hook's callback (1 call; 3 when AS refuses a stale key: callback, list, callback);
+0.5 s on the smallest deadline that works against a 50 ms AS (bench/deadlines.py)."""
WRITES = Reserve(share=0.2, floor=0.4, cap=5.0)
"""Kept back from new attaches for the re-read (and an undo) after them."""
PLATFORM = Reserve(share=0.1, floor=0.3, cap=3.0)
"""Kept back from FunctionGraph's remaining time: the reply must leave before it ends."""
WORK_S = 1.0
"""One server, reads to a settled re-read and its port ACTIVE, against a 50 ms API:
the smallest deadline that works is 0.5 s on Nova, 0.7 s on the v1 API (its job poll),
measured by bench/deadlines.py; the rest is room for TLS set-up and a real network."""


def smallest_deadline(*, sink: bool, hooks: bool) -> float:
    """The shortest deadline that still does the work, with these steps after it."""
    return WORK_S + (SINK.floor if sink else 0.0) + (RELEASE.floor if hooks else 0.0)


def check_deadline(settings: Settings) -> None:
    """Refuse (one line) a deadline shorter than ``smallest_deadline`` for this setup."""
    sink, hooks = settings.sink is not None, settings.as_endpoint is not None
    least = smallest_deadline(sink=sink, hooks=hooks)
    if settings.deadline_s < least:
        parts = (
            " with a sink" * sink
            + " and" * (sink and hooks)
            + " with NICATTACH_AS_ENDPOINT" * hooks
        )
        raise ConfigError(
            f"{DEADLINE_S}={settings.deadline_s:g} is shorter than the {least:g} s the work"
            f"{parts} needs at the least (docs/reliability.md)"
        )
