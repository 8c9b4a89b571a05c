"""Read → attach what is missing → re-read → undo duplicates, until the plan is settled.

Converge, don't replay: every write is preceded by a read, and the loop that
re-reads is the retry. The rules of what to attach and what to undo are the
pure ``domain.plan``; this module only carries them out within the deadline.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from function.compute.base import Attached, ComputeBackend
from function.converge.waiter import Waiter
from function.domain.codes import ErrorCode
from function.domain.errors import (
    ApiPermanentError,
    ApiTemporaryError,
    DeadlineExceeded,
    NicAttachError,
    PermanentError,
    ServerBusy,
    TemporaryError,
)
from function.domain.plan import MARK_PREFIX, Detach, Interface, Plan, plan
from function.domain.policy import NicRequest
from function.domain.timing import Deadline

log = logging.getLogger("nicattach.converge")

ROUNDS = 6
"""read → write → re-read rounds, each also bounded by the deadline."""


@dataclass(frozen=True)
class Converged:
    attached: bool
    """Whether this delivery attached anything."""
    interfaces: tuple[Interface, ...]
    stale: tuple[Interface, ...]
    suspected: tuple[Interface, ...]


class Converger:
    def __init__(
        self,
        backend: ComputeBackend,
        waiter: Waiter,
        *,
        prune: bool = False,
        write_reserve: float = 5.0,
    ) -> None:
        self._backend = backend
        self._waiter = waiter
        self._prune = prune
        self._write_reserve = write_reserve
        """Deadline time kept back from new attaches, for the re-read and undo after them."""

    def converge(
        self,
        project_id: str,
        server_id: str,
        desired: tuple[NicRequest, ...],
        deadline: Deadline,
        first: Attached | None = None,
    ) -> Converged:
        """Bring the server to ``desired``; ``first`` is a first read already made."""
        run = _Round(self._backend, self._waiter, project_id, server_id, deadline)
        marks = self._backend.discover(deadline).marks
        first = first or run.read()
        before = frozenset(i.port_id for i in first.interfaces)
        current = plan(desired, first.interfaces, before)
        if first.free is not None and len(current.missing) > first.free:
            raise PermanentError(
                f"server {server_id} takes {first.free} more NIC(s); the policy asks for "
                f"{len(current.missing)} more",
                code=ErrorCode.NIC_QUOTA_EXCEEDED,
            )
        writes = deadline.minus(self._write_reserve)
        attached = False
        for attempt in range(1, ROUNDS + 1):
            undo = self._undo(current)
            if not current.missing and not undo:
                break
            for nic in current.missing:
                if writes.expired:  # the reason this round failed says more, if there is one
                    run.last_error = run.last_error or DeadlineExceeded("deadline near")
                    break
                attached = run.attach(nic, _mark(nic) if marks else None, attempt) or attached
            for item in undo:
                run.detach(item, attempt)
            if deadline.expired:
                break
            current = plan(desired, run.read().interfaces, before)
            run.raise_if_refused(current.missing)
        if current.missing:
            raise run.last_error or TemporaryError(
                "NICs still missing", code=ErrorCode.NOT_CONVERGED
            )
        if self._undo(current):
            raise run.last_error or TemporaryError(
                "duplicate NICs are left to undo", code=ErrorCode.NOT_CONVERGED
            )
        interfaces = tuple(
            self._waiter.until_port_active(project_id, server_id, i, deadline)
            for i in current.assigned
            if i is not None
        )
        stale = () if self._prune else current.stale
        return Converged(attached, interfaces, stale, current.suspected)

    def _undo(self, current: Plan) -> list[Detach]:
        stale = [Detach(i.port_id, keep=None) for i in current.stale] if self._prune else []
        return [*current.duplicates, *stale]


class _Round:
    """The writes of one convergence and what they learned."""

    def __init__(
        self,
        backend: ComputeBackend,
        waiter: Waiter,
        project_id: str,
        server_id: str,
        deadline: Deadline,
    ) -> None:
        self.backend, self.waiter = backend, waiter
        self.project_id, self.server_id, self.deadline = project_id, server_id, deadline
        self.last_error: NicAttachError | None = None
        self.refused: dict[NicRequest, ApiPermanentError] = {}

    def read(self) -> Attached:
        return self.backend.list_interfaces(self.project_id, self.server_id, self.deadline)

    def note(self, error: NicAttachError) -> None:
        self.last_error = error

    def attach(self, nic: NicRequest, mark: str | None, attempt: int) -> bool:
        """POST one NIC. Every refusal is re-read before it is believed: a racing copy may
        have attached the same port or IP to this very server."""
        try:
            self.backend.attach(self.project_id, self.server_id, nic, self.deadline, mark=mark)
        except ApiPermanentError as exc:
            log.warning("attach %s refused (%s); re-reading", describe(nic), exc.code)
            self.refused[nic] = exc
            self.note(exc)
            return False
        except ApiTemporaryError as exc:
            log.warning("attach %s: %s; re-reading", describe(nic), exc.code)
            self.note(exc)
            self.waiter.after(attempt, exc.delay, self.deadline)
            if isinstance(exc, ServerBusy):  # building, or another task: wait for the server
                status = self.backend.get_server(self.project_id, self.server_id, self.deadline)
                self.waiter.until_ready(self.project_id, self.server_id, status.status,
                                        self.deadline)  # fmt: skip
            return False
        log.info("attached %s to server %s", describe(nic), self.server_id)
        return True

    def detach(self, item: Detach, attempt: int) -> None:
        what = "duplicate" if item.keep else "stale"
        log.warning("detaching %s NIC %s from server %s%s", what, item.port_id, self.server_id,
                    f" (keeping {item.keep})" if item.keep else "")  # fmt: skip
        try:  # a NIC already gone is done: every backend's detach is idempotent
            self.backend.detach(self.project_id, self.server_id, item.port_id, self.deadline)
        except ApiPermanentError as exc:
            self.note(exc)
        except ApiTemporaryError as exc:
            self.note(exc)
            self.waiter.after(attempt, exc.delay, self.deadline)

    def raise_if_refused(self, missing: tuple[NicRequest, ...]) -> None:
        """A NIC refused for good and still missing after the re-read: that is the outcome
        (one POST and one re-read, not one POST per round)."""
        for nic in missing:
            if nic in self.refused:
                raise self.refused[nic]


def _mark(nic: NicRequest) -> str:
    """``nicattach:<first rule>``, within Nova's 60 characters and without '/' or ','."""
    rule = re.sub(r"[/,]", "-", nic.rules[0] if nic.rules else "policy")
    return (MARK_PREFIX + rule)[:60]


def describe(nic: NicRequest) -> str:
    if nic.port_id is not None:
        return f"port {nic.port_id}"
    return f"net {nic.net_id}" + (f" ip {nic.fixed_ip}" if nic.fixed_ip else "")
