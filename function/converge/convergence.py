"""Read → attach what is missing → re-read → undo duplicates, until the plan is settled.

Converge, don't replay: every write is preceded by a read, and the loop that
re-reads is the retry. The rules of what to attach and what to undo are the
pure ``domain.plan``; this module only carries them out within the deadline.

Ownership is read from the cloud, never remembered. With ports (``port_first``)
each network request is made from a port the function named first
(``domain/ownership.py``): found by name, else created, then attached by id; a
redelivery anywhere finds that port and continues. A port of ours bound to the
server but not yet listed, or unbound while the server has no room (its attach
job still running), is work in flight: waited for, then ``job_pending``, never a
second NIC and never a full quota.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from function import pool
from function.compute.base import Attached, ComputeBackend
from function.converge.attempt import Attempt, describe
from function.converge.bandwidth import bandwidth_drift
from function.converge.ports import PortOwner
from function.converge.public_ip import PoolEmpty, ensure_public_ip
from function.converge.waiter import Waiter
from function.domain.codes import ErrorCode
from function.domain.errors import (
    ApiPermanentError,
    DeadlineExceeded,
    PermanentError,
    TemporaryError,
)
from function.domain.ownership import Claim, Port, State, claim
from function.domain.plan import MARK_PREFIX, Detach, Interface, Plan, plan
from function.domain.policy import NicRequest
from function.domain.port_profile import PortDrift
from function.domain.profile import PublicIp
from function.domain.timing import Deadline

log = logging.getLogger("nicattach.converge")

ROUNDS = 6
"""read → write → re-read rounds, each also bounded by the deadline."""


@dataclass(frozen=True)
class Converged:
    """Where a server's NICs settled: what is attached now and what needs a look."""

    attached: bool
    """Whether this delivery attached anything."""
    interfaces: tuple[Interface, ...]
    stale: tuple[Interface, ...]
    suspected: tuple[Interface, ...]
    drift: tuple[PortDrift, ...] = ()
    """The function's ports found to have lost part of their NIC profile."""


@dataclass(frozen=True)
class View:
    """One read of the cloud: the server's NICs and, with ports, the function's ports."""

    attached: Attached
    claims: dict[NicRequest, Claim] = field(default_factory=dict)
    server_id: str = ""

    @property
    def extras(self) -> tuple[Port, ...]:
        """Our extra ports this server can shed: unbound, or bound to it (one bound to
        another server is not this delivery's to touch)."""
        return tuple(
            p for c in self.claims.values() for p in c.extras if p.device_id in ("", self.server_id)
        )

    @property
    def owned(self) -> frozenset[str]:
        return frozenset(c.port.id for c in self.claims.values() if c.port is not None)

    def plan(self, desired: tuple[NicRequest, ...]) -> Plan:
        extra = {p.id for p in self.extras}
        present = [i for i in self.attached.interfaces if i.port_id not in extra]
        return plan(desired, present, self.owned)


class Converger:
    def __init__(
        self,
        backend: ComputeBackend,
        waiter: Waiter,
        *,
        prune: bool = False,
        write_reserve: Callable[[float], float] = lambda seconds: min(5.0, 0.2 * seconds),
        ports: PortOwner | None = None,
        ownership: str = "auto",
        reads: ThreadPoolExecutor | None = None,
        fix_drift: bool = True,
    ) -> None:
        self._backend = backend
        self._waiter = waiter
        self._prune = prune
        self._write_reserve = write_reserve
        """Deadline time kept back from new attaches, for the re-read and undo after them,
        given the time the deadline leaves (a share of it: ``app/reserves.WRITES``)."""
        self._ports = ports
        self.ports = ports
        """The function's ports (``None`` without a network endpoint), for the sweep."""
        self._ownership = ownership
        self._fix_drift = fix_drift
        self._reads = reads or ThreadPoolExecutor(max_workers=4, thread_name_prefix="converge")

    def port_first(self, marks: bool | None) -> bool:
        """Ports first: asked for, or ``auto`` where the API gives no mark of its own."""
        if self._ports is None or self._ownership == "device-tag":
            return False
        return self._ownership == "port" or not marks

    def converge(
        self,
        project_id: str,
        server_id: str,
        desired: tuple[NicRequest, ...],
        deadline: Deadline,
        first: Attached | None = None,
    ) -> Converged:
        """Bring the server to ``desired``; ``first`` is a first read already made."""
        marks = self._backend.discover(deadline).marks
        owner = self._ports if self.port_first(marks) else None
        run = Attempt(
            self._backend, self._waiter, project_id, server_id, deadline, owner, self._reads
        )
        view = self._look(run, desired, first)
        current = view.plan(desired)
        self._check_room(server_id, view, current)
        writes = deadline.minus(self._write_reserve(deadline.remaining()))
        attached = False
        for attempt in range(1, ROUNDS + 1):
            undo = self._undo(current)
            if not current.missing and not undo and not view.extras:
                break
            for nic in current.missing:
                if writes.expired:  # the reason this round failed says more, if there is one
                    run.last_error = run.last_error or DeadlineExceeded("deadline near")
                    break
                if owner is not None and nic.port_id is None:
                    done = run.attach_port(nic, view.claims[nic], view.attached.free, attempt)
                else:
                    done = run.attach(nic, _mark(nic) if marks else None, attempt)
                attached = done or attached
            for item in undo:
                run.detach(item, attempt)
            for port in view.extras:
                run.remove(port, attempt)
            if run.waiting and not deadline.expired:
                self._waiter.after(attempt, None, deadline)
            if deadline.expired:
                break
            view = self._look(run, desired)
            current = view.plan(desired)
            run.raise_if_refused(current.missing, view.claims, view.attached.free)
        run.settle_marks()
        if current.missing:
            raise run.last_error or _unfinished("NICs still missing", deadline)
        if self._undo(current) or view.extras:
            raise run.last_error or _unfinished("duplicate NICs are left to undo", deadline)
        run.keep_unmarked(current, view.owned)
        drift = self._drift(run, view, desired, current, attached)
        interfaces = tuple(
            self._waiter.until_port_active(project_id, server_id, i, deadline)
            for i in current.assigned
            if i is not None
        )
        stale = () if self._prune else current.stale
        return Converged(attached, interfaces, stale, current.suspected, drift)

    def _drift(
        self,
        run: Attempt,
        view: View,
        desired: tuple[NicRequest, ...],
        current: Plan,
        attached: bool,
    ) -> tuple[PortDrift, ...]:
        """Every delivery checks the profile of each of the function's ports that carries
        one (a port is the function's only when it is the request's named port), binds
        its public IP if it has none, and puts it in its shared bandwidth (a port missing
        there is drift only when this delivery attached nothing)."""
        found = []
        for nic, nic_now in zip(desired, current.assigned, strict=True):
            held = view.claims.get(nic)
            if run.owner is None or nic_now is None or nic.profile.is_default or held is None:
                continue
            if held.port is None or held.port.id != nic_now.port_id:
                continue
            try:
                drift = run.owner.check_profile(
                    run.project_id, nic_now.port_id, nic, run.deadline, fix=self._fix_drift
                )
                if nic.profile.public_ip is not None:
                    self._public_ip(run, run.owner, nic_now.port_id, nic.profile.public_ip)
                wanted = nic.profile.ipv6_bandwidth
                if wanted is not None and run.owner.bandwidths is not None:
                    drift = bandwidth_drift(
                        run.owner.bandwidths,
                        run.project_id,
                        nic_now.port_id,
                        wanted,
                        run.deadline,
                        drift,
                        attached=attached,
                        fix=self._fix_drift,
                    )
            except ApiPermanentError as exc:
                if exc.code != ErrorCode.PORT_NOT_FOUND:
                    raise
                raise TemporaryError(  # a racing copy removed it as an extra: re-read
                    f"port {nic_now.port_id} went meanwhile", code=ErrorCode.NOT_CONVERGED
                ) from exc
            if drift is not None:
                found.append(drift)
        return tuple(found)

    def _public_ip(self, run: Attempt, owner: PortOwner, port_id: str, want: PublicIp) -> None:
        """Bind the port's public IP; a pool full because a racing copy's extra port (soon
        deleted, its IP with it) holds one is worth a retry, not a permanent failure."""
        assert owner.eips is not None
        try:
            ensure_public_ip(owner.eips, run.project_id, port_id, want, run.deadline)
        except PoolEmpty as exc:
            if exc.holders and owner.any_extra(run.project_id, exc.holders, run.deadline):
                raise TemporaryError(
                    f"{exc.message}; one is held by a port being removed", code=ErrorCode.CONFLICT
                ) from exc
            raise

    def _look(
        self, run: Attempt, desired: tuple[NicRequest, ...], first: Attached | None = None
    ) -> View:
        """The server's NICs and (with ports) the function's ports, read at once."""
        if run.owner is None:
            return View(first or run.read())
        owner = run.owner
        nets = [nic for nic in desired if nic.port_id is None]
        found: Future[tuple[Port, ...]] = pool.submit(
            self._reads, lambda: owner.find(run.project_id, run.server_id, nets, run.deadline)
        )
        try:
            attached = first or run.read()
        except BaseException:
            found.cancel()
            raise
        ports = found.result()
        claims = {nic: claim(run.server_id, nic, ports) for nic in nets}
        return View(attached, claims, run.server_id)

    def _check_room(self, server_id: str, view: View, current: Plan) -> None:
        """Refuse for good only when the cloud confirms it: requests with no port of ours
        (none in flight) outnumber the NICs the server still takes."""
        free = view.attached.free
        needed = [
            nic
            for nic in current.missing
            if nic not in view.claims or view.claims[nic].state is State.NONE
        ]
        if free is not None and len(needed) > free:
            raise PermanentError(
                f"server {server_id} takes {free} more NIC(s); the policy asks for "
                f"{len(needed)} more",
                code=ErrorCode.NIC_QUOTA_EXCEEDED,
            )

    def _undo(self, current: Plan) -> list[Detach]:
        stale = [Detach(i.port_id, keep=None) for i in current.stale] if self._prune else []
        return [*current.duplicates, *stale]


def _mark(nic: NicRequest) -> str:
    """``nicattach:<first rule>``, within Nova's 60 characters and without '/' or ','."""
    rule = re.sub(r"[/,]", "-", nic.rules[0] if nic.rules else "policy")
    return (MARK_PREFIX + rule)[:60]


__all__ = ["Converged", "Converger", "View", "describe"]


def _unfinished(what: str, deadline: Deadline) -> TemporaryError:
    """Work left after the rounds: when the deadline has passed, that is the reason (the
    last read predates the last writes); otherwise the rounds ran out."""
    if deadline.expired:
        return DeadlineExceeded(f"deadline passed: {what}")
    return TemporaryError(what, code=ErrorCode.NOT_CONVERGED)
