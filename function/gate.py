"""The gate every request to a compute API passes: adaptive concurrency for the process.

One ``Gate`` per API client (``app/wiring.py``), shared by every thread of the process:
the servers of a batch, a sweep's pages, the parallel reads, huawei-v1's job polls.
Before a request, a thread waits for a slot (at most ``width`` requests in flight), for
any ``Retry-After`` pause another thread was told of, and for its turn in the pace; after
it, the answer (status, latency, ``Retry-After``) goes back to the state machine
(``domain/adaptive.py``), which widens or narrows the gate. ``NICATTACH_CONCURRENCY`` is
the ceiling.

The batch follows the width too: ``admitted()`` holds one unit of work (a server of a
batch, ``function/pool.py``) while fewer than ``width`` run, so a narrowed gate leaves the
rest of the batch unstarted, in about its order, rather than every server half-done and queued
request by request (at the deadline an unstarted server ends ``deadline_exceeded`` with no
API call; a started one may leave a write in flight).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol, TypeVar

from function.domain.adaptive import THROTTLED, Adaptive, Signal, Tuning
from function.domain.errors import TemporaryError
from function.domain.timing import Deadline, Timing, parse_retry_after

log = logging.getLogger("nicattach.gate")

WAIT_SLICE_S = 0.1
"""How often a thread waiting for a slot looks at its deadline."""


class Answer(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


A = TypeVar("A", bound=Answer)


class Gate:
    """Thread-safe; ``call`` is the only way through."""

    def __init__(self, ceiling: int, timing: Timing, tuning: Tuning | None = None) -> None:
        self._state = Adaptive(ceiling, tuning)
        self._timing = timing
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # requests waiting for a slot
        self._room = threading.Condition(lock)  # work waiting to start
        self._in_flight = 0
        self._running = 0

    @property
    def width(self) -> int:
        return self._state.width

    @property
    def ceiling(self) -> int:
        return self._state.ceiling

    @property
    def running(self) -> int:
        """Units of work admitted and not finished (``admitted``)."""
        return self._running

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """Hold one unit of work while it runs; it starts once fewer than ``width`` run.
        No deadline: the work checks its own when it starts, and what runs finishes."""
        with self._cond:
            while self._running >= self._state.width:
                self._room.wait()
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._room.notify()

    def call(self, kind: str, deadline: Deadline | None, send: Callable[[], A]) -> A:
        """``send()`` once the gate lets it through; its answer is reported on the way out.
        ``kind``: the HTTP method. An exception from ``send`` counts as no answer."""
        sent_at = self._enter(deadline)
        status: int | None = None
        retry_after: float | None = None
        try:
            answer = send()
            status = answer.status_code
            if status in THROTTLED:
                retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            return answer
        finally:
            self._leave(kind, status, sent_at, retry_after)

    def _enter(self, deadline: Deadline | None) -> float:
        """Wait for a slot, then for the pause and the pace; the moment the request leaves."""
        with self._cond:
            while self._in_flight >= self._state.width:
                if deadline is not None and deadline.expired:
                    raise TemporaryError("the event's deadline passed", code="deadline_exceeded")
                self._cond.wait(WAIT_SLICE_S)
            self._in_flight += 1
            now = self._timing.clock()
            wait = self._state.wait(now)
        if not wait:
            return now
        try:
            while wait:  # the pause and the pace, as they are each time it looks
                if deadline is not None and not deadline.allows(wait):
                    raise TemporaryError(
                        "the API's pause outlasts the event's deadline", code="deadline_exceeded"
                    )
                self._timing.sleep(wait)
                with self._cond:
                    now = self._timing.clock()
                    wait = self._state.wait(now)
            return now
        except BaseException:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify()
            raise

    def _leave(self, kind: str, status: int | None, sent_at: float, retry: float | None) -> None:
        with self._cond:
            self._in_flight -= 1
            now = self._timing.clock()
            signal = self._state.observe(kind, status, sent_at, now, retry)
            free = self._state.width - self._in_flight
            if free > 0:
                self._cond.notify(free)
            room = self._state.width - self._running
            if room > 0:
                self._room.notify(room)
            if signal is Signal.CUT:
                width, rate = self._state.width, self._state.rate(now)
        if signal is Signal.CUT:
            pace = f", {rate:.1f}/s" if rate is not None else ""
            log.info(
                "API answered %s: %d request(s) in flight at most%s",
                status or "slowly",
                width,
                pace,
            )
