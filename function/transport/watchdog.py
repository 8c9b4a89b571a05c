"""A request's whole life bounded: the watchdog that ends it at its budget.

urllib3's timeouts bound each socket operation, not the exchange: a server (or a
proxy) that sends its status line and headers a byte at a time holds a request
for as long as it likes. ``Session.request`` arms a ``Watchdog`` with the
request's ``total``; the connection classes below hand it their socket once the
request is sent, and at ``total`` it shuts that socket down, so whatever the
request is doing (waiting for the status line, reading headers or the body)
fails at once. One timer thread per bounded request (~0.1 ms).
"""

from __future__ import annotations

import contextvars
import socket
import threading
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

CURRENT: contextvars.ContextVar[Watchdog | None] = contextvars.ContextVar(
    "nicattach_watchdog", default=None
)


class Watchdog:
    """Shuts down the socket of this request's connection when ``total`` seconds pass."""

    def __init__(self, total: float | None) -> None:
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = None if total is None else threading.Timer(max(0.0, total), self._fire)
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shut()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)  # a blocked recv/send returns at once
            except OSError:
                pass


class _WatchedHTTP(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)  # connects first, when the connection is new
        watchdog = CURRENT.get()
        if watchdog is not None:
            watchdog.watch(self.sock)


class _WatchedHTTPS(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)
        watchdog = CURRENT.get()
        if watchdog is not None:
            watchdog.watch(self.sock)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTP


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


def watched(manager: urllib3.PoolManager) -> urllib3.PoolManager:
    """``manager`` whose connections report their socket to the current watchdog."""
    manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager
