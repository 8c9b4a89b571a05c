"""A request's whole life bounded: the watchdog that ends it at its budget.

Socket timeouts bound each socket operation, not the exchange: a server (or a
proxy) that sends its answer a byte at a time, or its TLS handshake, holds a request
for as long as it likes. ``Session.request`` arms a ``Watchdog`` with the request's
``total``; the connections (``transport/wire.py``, ``transport/proxied.py``) hand it
their socket once the request is sent, and at ``total`` it shuts that socket down, so
whatever the request is doing (waiting for the status line, reading headers or the
body) fails at once. One thread serves every watchdog of the process (a heap of
deadlines): arming one costs a heap push, not a thread.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import os
import socket
import threading
import time

CURRENT: contextvars.ContextVar[Watchdog | None] = contextvars.ContextVar(
    "nicattach_watchdog", default=None
)


class Watchdog:
    """Shuts down the socket of this request's connection when ``total`` seconds pass."""

    def __init__(self, total: float | None) -> None:
        self.fired = False
        self.cancelled = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        if total is not None:
            _REAPER.add(time.monotonic() + max(0.0, total), self)

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shut()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            self._sock = None

    def fire(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.fired = True
            self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)  # a blocked recv/send returns at once
            except OSError:
                pass


class _Reaper:
    """One thread for the process fires every watchdog at its time (a heap of deadlines):
    a request costs a heap push, not a thread. Restarted in a forked child."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._cond = threading.Condition()
        self._order = itertools.count()
        self._running = False
        os.register_at_fork(after_in_child=self._forked)

    def add(self, at: float, watchdog: Watchdog) -> None:
        with self._cond:
            heapq.heappush(self._heap, (at, next(self._order), watchdog))
            if not self._running:  # first use, or a fork: the thread is not here
                self._running = True
                threading.Thread(target=self._run, name="nicattach-watchdog", daemon=True).start()
            elif self._heap[0][2] is watchdog:
                self._cond.notify()

    def _forked(self) -> None:
        """In a forked child: no thread yet, and the parent's requests are not ours."""
        self._cond = threading.Condition()
        self._heap = []
        self._running = False

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                due = heapq.heappop(self._heap)[2]
            due.fire()


_REAPER = _Reaper()
