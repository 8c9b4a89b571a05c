"""The writes of one convergence and what they learned (``Attempt``).

Every refusal is re-read before it is believed: a racing copy may have attached
the same port or IP to this very server. With ports, an attach of the function's
own port refused as in use, unknown or over quota is a race or a job in flight
(another copy attached it, deleted it as an extra, or its job still counts
against the room): the re-read decides, never the refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from function import pool, telemetry
from function.compute.base import Attached, ComputeBackend
from function.converge.ports import PortOwner
from function.converge.waiter import Waiter
from function.domain.codes import ErrorCode
from function.domain.errors import (
    ApiPermanentError,
    ApiTemporaryError,
    JobPending,
    NicAttachError,
    PermanentError,
    ServerBusy,
)
from function.domain.ownership import Claim, Port, State
from function.domain.plan import Detach, Plan
from function.domain.policy import NicRequest
from function.domain.timing import Deadline

log = logging.getLogger("nicattach.converge")

RACED = frozenset(
    {
        ErrorCode.PORT_IN_USE,
        ErrorCode.PORT_NOT_FOUND,
        ErrorCode.NIC_QUOTA_EXCEEDED,
        ErrorCode.NOT_FOUND,
    }
)
"""Refusals of an attach of our own port that a racing copy or a running job explains."""


class Attempt:
    """The writes of one convergence and what they learned."""

    def __init__(
        self,
        backend: ComputeBackend,
        waiter: Waiter,
        project_id: str,
        server_id: str,
        deadline: Deadline,
        owner: PortOwner | None = None,
        marks: ThreadPoolExecutor | None = None,
    ) -> None:
        self.backend, self.waiter, self.owner = backend, waiter, owner
        self._marks = marks
        self._marking: list[Future[None]] = []
        self.project_id, self.server_id, self.deadline = project_id, server_id, deadline
        self.last_error: NicAttachError | None = None
        self.refused: dict[NicRequest, ApiPermanentError] = {}
        self.raced: dict[NicRequest, tuple[str, ApiPermanentError]] = {}
        """Refusals of our own port's attach that a race or a running job may explain."""
        self.waiting = False
        """A NIC of ours is in flight (bound, not listed yet; or its job still running)."""
        self.started: set[str] = set()
        """Our ports this delivery asked to attach (never twice in one delivery)."""
        self.kept: set[str] = set()
        """Ports marked to go with the server in this delivery."""

    def read(self) -> Attached:
        return self.backend.list_interfaces(self.project_id, self.server_id, self.deadline)

    def note(self, error: NicAttachError) -> None:
        self.last_error = error

    def attach(self, nic: NicRequest, mark: str | None, attempt: int) -> bool:
        """POST one NIC (a port request, or a tagged network request)."""
        try:
            self.backend.attach(self.project_id, self.server_id, nic, self.deadline, mark=mark)
        except ApiPermanentError as exc:
            log.warning("attach %s refused (%s); re-reading", describe(nic), exc.code)
            self.refused[nic] = exc
            self.note(exc)
            return False
        except ApiTemporaryError as exc:
            self._temporary(nic, exc, attempt)
            return False
        log.debug("attached %s to server %s", describe(nic), self.server_id)
        return True

    def attach_port(self, nic: NicRequest, found: Claim, free: int | None, attempt: int) -> bool:
        """Port first: the request's named port (created if there is none), attached by id."""
        assert self.owner is not None
        if found.state is State.ELSEWHERE and found.port is not None:
            raise PermanentError(
                f"port {found.port.id}, named for server {self.server_id} ({describe(nic)}), "
                f"is bound to server {found.port.device_id}",
                code=ErrorCode.PORT_IN_USE,
            )
        port = found.port
        in_flight = port is not None and (
            found.state is State.ON_SERVER or port.id in self.started or free == 0
        )
        if port is not None and in_flight:
            self.waiting = True
            self.note(
                JobPending(
                    f"port {port.id} of ours for {describe(nic)} is still being "
                    f"attached to server {self.server_id}"
                )
            )
            return False
        if port is None:
            try:
                port = self.owner.create(self.project_id, self.server_id, nic, self.deadline)
            except ApiPermanentError as exc:
                log.warning("port for %s refused (%s); re-reading", describe(nic), exc.code)
                self.refused[nic] = exc
                self.note(exc)
                return False
            except ApiTemporaryError as exc:
                self._temporary(nic, exc, attempt)
                return False
        self.started.add(port.id)
        by_port = NicRequest(None, port.id, None, nic.rules)
        try:
            self.backend.attach(self.project_id, self.server_id, by_port, self.deadline)
        except ApiPermanentError as exc:
            log.warning("attach of port %s refused (%s); re-reading", port.id, exc.code)
            self.started.discard(port.id)
            if exc.code in RACED:  # believed only if the re-read shows no race (see below)
                self.raced[nic] = (port.id, exc)
                self.waiting = True
                self.note(JobPending(f"{exc.message}: a copy or job of ours may hold it"))
            else:
                self.refused[nic] = exc
                self.note(exc)
            return False
        except ApiTemporaryError as exc:
            if isinstance(exc, JobPending):  # its job runs on: never a second one here
                self.waiting = True
            else:
                self.started.discard(port.id)
            self._temporary(nic, exc, attempt)
            return False
        log.debug("attached port %s (%s) to server %s", port.id, describe(nic), self.server_id)
        self.started.discard(port.id)
        self.keep(port.id)
        return True

    def keep(self, port_id: str) -> None:
        """Mark our NIC to go with its server, where the API offers it: in the background,
        beside the re-read (``settle_marks`` waits for it). A failure is left to the next
        delivery, which finds the flag unset (``keep_unmarked``)."""
        if not self.backend.capabilities.delete_on_termination or port_id in self.kept:
            return
        self.kept.add(port_id)
        if self._marks is None:
            self._mark(port_id)
        else:
            self._marking.append(pool.submit(self._marks, lambda: self._mark(port_id)))

    def _mark(self, port_id: str) -> None:
        try:
            self.backend.keep_with_server(self.project_id, self.server_id, port_id, self.deadline)
        except NicAttachError as exc:  # the next delivery finds the flag unset
            log.warning("port %s: delete_on_termination not set (%s)", port_id, exc.code)

    def settle_marks(self) -> None:
        """Wait for the marks set in the background."""
        for future in self._marking:
            future.result()
        self._marking.clear()

    def keep_unmarked(self, current: Plan, owned: frozenset[str]) -> None:
        """Our NICs the API shows as not going with the server (a copy killed between the
        attach and the mark): mark them now."""
        for interface in current.assigned:
            if (
                interface is not None
                and interface.port_id in owned
                and interface.delete_on_termination is False
            ):
                self.keep(interface.port_id)
        self.settle_marks()

    def remove(self, port: Port, attempt: int) -> None:
        """An extra port of ours (a racing copy made two): detach it if it is on this
        server, then delete it. The lowest id is never an extra, so one port stays."""
        assert self.owner is not None
        if port.device_id not in ("", self.server_id):
            return
        log.warning("removing extra port %s of server %s", port.id, self.server_id)
        try:
            if port.device_id == self.server_id:
                self.backend.detach(self.project_id, self.server_id, port.id, self.deadline)
            self.owner.delete(self.project_id, port.id, self.deadline)
        except ApiPermanentError as exc:
            self.note(exc)
        except ApiTemporaryError as exc:
            self.note(exc)
            self.waiter.after(attempt, exc.delay, self.deadline)

    def detach(self, item: Detach, attempt: int) -> None:
        what = "duplicate" if item.keep else "stale"
        log.warning(
            "detaching %s NIC %s from server %s%s",
            what,
            item.port_id,
            self.server_id,
            f" (keeping {item.keep})" if item.keep else "",
        )
        try:  # a NIC already gone is done: every backend's detach is idempotent
            self.backend.detach(self.project_id, self.server_id, item.port_id, self.deadline)
            if item.keep:
                telemetry.get().count(telemetry.DUPLICATES_HEALED)
        except ApiPermanentError as exc:
            self.note(exc)
        except ApiTemporaryError as exc:
            self.note(exc)
            self.waiter.after(attempt, exc.delay, self.deadline)

    def raise_if_refused(
        self,
        missing: tuple[NicRequest, ...],
        claims: Mapping[NicRequest, Claim],
        free: int | None,
    ) -> None:
        """A NIC refused for good and still missing after the re-read: that is the outcome
        (one POST and one re-read, not one POST per round). A refusal of our own port
        stands only when the re-read shows no race: the same port, still unbound, and
        room on the server (no job of ours counted against it)."""
        for nic in missing:
            if nic in self.refused:
                raise self.refused[nic]
            port_id, exc = self.raced.pop(nic, ("", None))
            found = claims.get(nic)
            if exc is not None and found is not None and found.port is not None:
                if found.port.id == port_id and found.state is State.FREE and free != 0:
                    raise exc

    def _temporary(self, nic: NicRequest, exc: ApiTemporaryError, attempt: int) -> None:
        log.warning("attach %s: %s; re-reading", describe(nic), exc.code)
        self.note(exc)
        self.waiter.after(attempt, exc.delay, self.deadline)
        if isinstance(exc, ServerBusy):  # building, or another task: wait for the server
            status = self.backend.get_server(self.project_id, self.server_id, self.deadline)
            self.waiter.until_ready(self.project_id, self.server_id, status.status, self.deadline)


def describe(nic: NicRequest) -> str:
    if nic.port_id is not None:
        return f"port {nic.port_id}"
    return f"net {nic.net_id}" + (f" ip {nic.fixed_ip}" if nic.fixed_ip else "")
