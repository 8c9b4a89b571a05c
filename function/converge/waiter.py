"""Waiting, bounded by the event's deadline: for a server to take NICs, for a new
port to come up, and between attempts after a busy or throttled answer."""

from __future__ import annotations

import logging

from function.compute.base import ComputeBackend
from function.domain.codes import ErrorCode
from function.domain.errors import (
    ApiPermanentError,
    ApiTemporaryError,
    PermanentError,
    ServerGone,
    TemporaryError,
)
from function.domain.plan import Interface
from function.domain.timing import API_BACKOFF, PORT_BACKOFF, READY_BACKOFF, Deadline, Timing

log = logging.getLogger("nicattach.converge")

READY = frozenset({"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"})
GONE = frozenset({"DELETED", "SOFT_DELETED"})


class Waiter:
    def __init__(
        self,
        backend: ComputeBackend,
        timing: Timing,
        *,
        wait_active_s: float,
        wait_port_active_s: float,
    ) -> None:
        self._backend = backend
        self._timing = timing
        self._wait_active_s = wait_active_s
        self._wait_port_active_s = wait_port_active_s

    def until_ready(self, project_id: str, server_id: str, status: str, deadline: Deadline) -> bool:
        """Poll until the server can take a NIC (capped backoff with jitter). Returns
        whether it had to wait (what was read before is then stale)."""
        limit = deadline.earlier(self._wait_active_s)
        attempt = 0
        while True:
            status = status.upper()
            if status == "ERROR":
                raise PermanentError(
                    f"server {server_id} is in ERROR", code=ErrorCode.SERVER_ERROR_STATE
                )
            if status in GONE:
                raise ServerGone()
            if status in READY:
                return attempt > 0
            attempt += 1
            limit.pause(READY_BACKOFF.delay(attempt, self._timing.rng))
            if limit.expired:
                raise TemporaryError(
                    f"server {server_id} still {status}", code=ErrorCode.SERVER_NOT_READY
                )
            status = self._backend.get_server(project_id, server_id, deadline).status

    def until_port_active(
        self, project_id: str, server_id: str, interface: Interface, deadline: Deadline
    ) -> Interface:
        """Poll a new NIC until its port is ACTIVE; report the state actually observed."""
        if self._wait_port_active_s <= 0:
            return interface
        limit = deadline.earlier(self._wait_port_active_s)
        attempt = 0
        while interface.port_state != "ACTIVE" and not limit.expired:
            attempt += 1
            limit.pause(PORT_BACKOFF.delay(attempt, self._timing.rng))
            if limit.expired:
                break
            try:
                interface = self._backend.get_interface(
                    project_id, server_id, interface.port_id, deadline
                )
            except (ApiTemporaryError, ApiPermanentError, TemporaryError) as exc:
                log.info("port %s state unknown (%s)", interface.port_id, exc.code)
                break
        return interface

    def after(self, attempt: int, hint: float | None, deadline: Deadline) -> None:
        """The pause after a busy, throttled or failed answer, before re-reading."""
        deadline.pause(API_BACKOFF.delay(attempt, self._timing.rng, hint))
