"""One server, start to outcome: project, tags, desired NICs, wait, converge.

Whatever happens, ``run`` returns exactly one ``Outcome``: every error is
mapped here, in one place, to completed / skipped / failed-retryable /
failed-permanent.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from function import pool
from function.compute.base import Attached, ComputeBackend, Server
from function.config import Settings
from function.converge.convergence import Converger
from function.converge.ports import PortOwner
from function.converge.waiter import READY, Waiter
from function.domain.codes import ErrorCode, SkipReason
from function.domain.errors import NicAttachError, PermanentError, ServerGone, TemporaryError
from function.domain.model import ServerRef
from function.domain.outcome import Outcome, completed, failed, skipped
from function.domain.plan import plan
from function.domain.policy import Policy, evaluate
from function.domain.tags import Tags
from function.domain.timing import Deadline

if TYPE_CHECKING:  # dry runs and sweeps only: imported by preview when one runs
    from function.converge.preview import Preview

log = logging.getLogger("nicattach.flow")


@dataclass(frozen=True)
class FlowScope:
    """What the flow reads of the settings: where to act, and the API it talks to."""

    default_project: str | None
    """``NICATTACH_PROJECT_ID``: the project of an event that names none."""
    allowed_projects: tuple[str, ...]
    """The projects it may act in; empty: any (``Settings.allowed_project_ids``)."""
    api_version: str

    @classmethod
    def of(cls, settings: Settings) -> FlowScope:
        return cls(settings.project_id, settings.allowed_project_ids, settings.api_version)

    def decide(self, ref: ServerRef) -> ProjectDecision:
        """The one project decision for a server, before any call."""
        project = ref.project_id or self.default_project
        if project is None:
            refusal = failed(
                ref.server_id,
                None,
                ErrorCode.NO_PROJECT,
                "the event names no project and NICATTACH_PROJECT_ID is not set",
                retryable=False,
            )
            return ProjectDecision("", refusal)
        if self.allowed_projects and project not in self.allowed_projects:
            refused = skipped(ref.server_id, project, SkipReason.PROJECT_NOT_ALLOWED)
            return ProjectDecision(project, refused)
        return ProjectDecision(project)


@dataclass(frozen=True)
class ProjectDecision:
    """The project a server is acted on in, or the outcome that ends its run first."""

    project_id: str
    """The project to act in (empty when refused: ``refusal`` says why)."""
    refusal: Outcome | None = None


class Flow:
    """Brings one server to the policy's NICs. Stateless between servers; thread-safe."""

    def __init__(
        self,
        scope: FlowScope,
        policy: Policy,
        backend: ComputeBackend,
        waiter: Waiter,
        converger: Converger,
        reads: ThreadPoolExecutor,
    ) -> None:
        self._scope = scope
        self._policy = policy
        self._backend = backend
        self._waiter = waiter
        self._converger = converger
        self._reads = reads

    @property
    def ports(self) -> PortOwner | None:
        """The function's ports through the network API, when one is configured."""
        return self._converger.ports

    def run(self, ref: ServerRef, deadline: Deadline) -> Outcome:
        """The server's one outcome. A server leaving its scaling group gets no NIC work
        (its lifecycle hook is answered CONTINUE)."""
        decision = self._scope.decide(ref)
        if decision.refusal is not None:
            return decision.refusal
        project = decision.project_id
        if ref.lifecycle is not None and ref.lifecycle.terminating:
            return skipped(ref.server_id, project, SkipReason.INSTANCE_TERMINATING)
        if ref.deleted:
            return self.release(ref, project, deadline)
        rules: tuple[str, ...] = ()
        if deadline.expired:  # a batch larger than one deadline: the rest is redelivered
            return failed(
                ref.server_id,
                project,
                ErrorCode.DEADLINE_EXCEEDED,
                "the event's deadline passed before this server's turn",
                retryable=True,
            )
        try:
            self._backend.discover(deadline)  # what the API can do: read once per process
            status, tags, first = self._status_and_tags(project, ref, deadline)
            desired = evaluate(self._policy, tags)
            rules = desired.rules
            if not desired.nics:
                return skipped(ref.server_id, project, SkipReason.NO_RULE_MATCHED)
            if status and self._waiter.until_ready(project, ref.server_id, status, deadline):
                first = None  # read while it was building: stale
            done = self._converger.converge(
                project, ref.server_id, desired.nics, deadline, first=first
            )
        except ServerGone:
            return skipped(ref.server_id, project, SkipReason.SERVER_GONE)
        except TemporaryError as exc:
            return failed(
                ref.server_id, project, exc.code, exc.message, retryable=True, rules=rules
            )
        except PermanentError as exc:
            return failed(
                ref.server_id, project, exc.code, exc.message, retryable=False, rules=rules
            )
        for nic in done.suspected:
            log.warning(
                "server %s: NIC %s is beyond the one asked for on net %s (not ours: never touched)",
                ref.server_id,
                nic.port_id,
                nic.net_id,
            )
        return completed(
            ref.server_id,
            project,
            rules,
            done.attached,
            done.interfaces,
            stale=done.stale,
            suspected=done.suspected,
            drift=done.drift,
        )

    def release(self, ref: ServerRef, project: str, deadline: Deadline) -> Outcome:
        """A delete event: once the server is gone, delete the function's ports made for it
        (Nova keeps ports passed by id; Huawei's go with the server when marked). While the
        server still exists (its deletion is a job) the event is retried."""
        if self.ports is None:
            return skipped(ref.server_id, project, SkipReason.SERVER_DELETED)
        try:
            try:
                status = self._backend.get_server(project, ref.server_id, deadline).status
            except ServerGone:
                status = "DELETED"
            if status not in ("DELETED", "SOFT_DELETED"):
                raise TemporaryError(
                    f"server {ref.server_id} is still {status or 'there'}; its ports are "
                    "released once it is gone",
                    code=ErrorCode.SERVER_BUSY,
                )
            released = self.ports.release(project, ref.server_id, deadline)
        except TemporaryError as exc:
            return failed(ref.server_id, project, exc.code, exc.message, retryable=True)
        except PermanentError as exc:
            return failed(ref.server_id, project, exc.code, exc.message, retryable=False)
        if released:
            log.info("server %s: deleted %d port(s) of the function", ref.server_id, len(released))
        return skipped(ref.server_id, project, SkipReason.SERVER_DELETED)

    def preview(self, ref: ServerRef, deadline: Deadline) -> Preview:
        """Reads only: the tags, the matching rules and what ``run`` would do now."""
        from function.converge.preview import Preview, PreviewError

        decision = self._scope.decide(ref)
        if decision.refusal is not None:
            return _refused(decision.refusal)
        project = decision.project_id
        if ref.deleted:
            return Preview(ref.server_id, project, skipped=SkipReason.SERVER_DELETED)
        read: Preview | None = None
        try:
            self._backend.discover(deadline)
            status, tags, first = self._status_and_tags(project, ref, deadline)
            desired = evaluate(self._policy, tags)
            read = Preview(
                ref.server_id, project, status, tuple(tags.as_strings()), rules=desired.rules
            )
            if not desired.nics:
                return replace(read, would_attach=())
            if status and status.upper() not in READY:
                return replace(read, pending=f"server is {status}")
            current = first or self._backend.list_interfaces(project, ref.server_id, deadline)
            result = plan(desired.nics, current.interfaces)  # reads only: no port listing
        except ServerGone:
            return replace(read or Preview(ref.server_id, project), skipped=SkipReason.SERVER_GONE)
        except NicAttachError as exc:
            error = PreviewError(exc.code, exc.message, isinstance(exc, TemporaryError))
            return replace(read or Preview(ref.server_id, project), error=error)
        return replace(
            read,
            would_attach=tuple(result.missing),
            would_detach=tuple(d.port_id for d in result.duplicates),
            stale=tuple(i.port_id for i in result.stale),
            suspected_duplicates=tuple(i.port_id for i in result.suspected),
        )

    def _status_and_tags(
        self, project: str, ref: ServerRef, deadline: Deadline
    ) -> tuple[str | None, Tags, Attached | None]:
        """The server's status and tags (from the event, else the API) and, when the API
        had to be asked, its NICs read at the same time (one round trip, not two)."""
        if ref.tags is not None:
            return ref.status, ref.tags, None
        listing: Future[Attached] = pool.submit(
            self._reads, lambda: self._backend.list_interfaces(project, ref.server_id, deadline)
        )
        try:
            server = self._backend.get_server(project, ref.server_id, deadline)
        except BaseException:
            listing.cancel()
            raise
        first = _result(listing)
        return server.status, self._usable_tags(server), first

    def _usable_tags(self, server: Server) -> Tags:
        if server.tags is None:
            raise PermanentError(
                f"the compute API ({self._scope.api_version}) does not show tags; send them "
                "in the event, or use v2.1",
                code=ErrorCode.TAGS_UNAVAILABLE,
            )
        if server.ignored_tags:
            log.warning(
                "server %s: ignoring %d tag(s) that cannot be used",
                server.id,
                len(server.ignored_tags),
                extra={"ctx": {"ignored_tags": list(server.ignored_tags)}},
            )
        return server.tags


def _refused(refusal: Outcome) -> Preview:
    """The preview of a server whose project decision ended it before any call."""
    from function.converge.preview import Preview, PreviewError

    if refusal.reason is not None:
        return Preview(refusal.server_id, refusal.project_id, skipped=refusal.reason)
    code, message = refusal.error_code or "", refusal.error_message or ""
    error = PreviewError(code, message, refusal.retryable)
    return Preview(refusal.server_id, refusal.project_id, error=error)


def _result(listing: Future[Attached]) -> Attached | None:
    """The parallel read, or ``None`` if it failed (the converger reads again)."""
    try:
        return listing.result()
    except (NicAttachError, ServerGone):
        return None
