"""One server, start to outcome: project, tags, desired NICs, wait, converge.

Whatever happens, ``run`` returns exactly one ``Outcome``: every error is
mapped here, in one place, to completed / skipped / failed-retryable /
failed-permanent.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

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
from function.domain.policy import NicRequest, Policy, evaluate
from function.domain.tags import Tags
from function.domain.timing import Deadline

log = logging.getLogger("nicattach.flow")


class Flow:
    """Brings one server to the policy's NICs. Stateless between servers; thread-safe."""

    def __init__(
        self,
        settings: Settings,
        policy: Policy,
        backend: ComputeBackend,
        waiter: Waiter,
        converger: Converger,
        reads: ThreadPoolExecutor,
    ) -> None:
        self._settings = settings
        self._policy = policy
        self._backend = backend
        self._waiter = waiter
        self._converger = converger
        self._reads = reads

    @property
    def ports(self) -> PortOwner | None:
        """The function's ports through the network API, when one is configured."""
        return self._converger.ports

    def project_of(self, ref: ServerRef) -> str | Outcome:
        """The project to act in, or the outcome that ends the run before any call."""
        project = ref.project_id or self._settings.project_id
        if project is None:
            return failed(ref.server_id, None, ErrorCode.NO_PROJECT,
                          "the event names no project and NICATTACH_PROJECT_ID is not set",
                          retryable=False)  # fmt: skip
        if not self._settings.project_allowed(project):
            return skipped(ref.server_id, project, SkipReason.PROJECT_NOT_ALLOWED)
        return project

    def run(self, ref: ServerRef, deadline: Deadline) -> Outcome:
        project = self.project_of(ref)
        if isinstance(project, Outcome):
            return project
        if ref.deleted:
            return self.release(ref, project, deadline)
        rules: tuple[str, ...] = ()
        if deadline.expired:  # a batch larger than one deadline: the rest is redelivered
            return failed(ref.server_id, project, ErrorCode.DEADLINE_EXCEEDED,
                          "the event's deadline passed before this server's turn",
                          retryable=True)  # fmt: skip
        try:
            self._backend.discover(deadline)  # what the API can do: read once per process
            status, tags, first = self._status_and_tags(project, ref, deadline)
            desired = evaluate(self._policy, tags)
            rules = desired.rules
            if not desired.nics:
                return skipped(ref.server_id, project, SkipReason.NO_RULE_MATCHED)
            if status and self._waiter.until_ready(project, ref.server_id, status, deadline):
                first = None  # read while it was building: stale
            done = self._converger.converge(project, ref.server_id, desired.nics, deadline,
                                            first=first)  # fmt: skip
        except ServerGone:
            return skipped(ref.server_id, project, SkipReason.SERVER_GONE)
        except TemporaryError as exc:
            return failed(ref.server_id, project, exc.code, exc.message, retryable=True,
                          rules=rules)  # fmt: skip
        except PermanentError as exc:
            return failed(ref.server_id, project, exc.code, exc.message, retryable=False,
                          rules=rules)  # fmt: skip
        for nic in done.suspected:
            log.warning(
                "server %s: NIC %s is beyond the one asked for on net %s (not ours: never touched)",
                ref.server_id,
                nic.port_id,
                nic.net_id,
            )
        return completed(ref.server_id, project, rules, done.attached, done.interfaces,
                         stale=done.stale, suspected=done.suspected,
                         drift=done.drift)  # fmt: skip

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

    def preview(self, ref: ServerRef, deadline: Deadline) -> dict[str, Any]:
        """Reads only: the tags, the matching rules and what ``run`` would do now."""
        view: dict[str, Any] = {"server_id": ref.server_id}
        project = self.project_of(ref)
        if isinstance(project, Outcome):
            view["project_id"] = project.project_id
            key = "skipped" if project.reason else "error"
            reason = project.reason or {"code": project.error_code,
                                        "message": project.error_message}  # fmt: skip
            return {**view, key: reason}
        view["project_id"] = project
        if ref.deleted:
            return {**view, "skipped": SkipReason.SERVER_DELETED}
        try:
            self._backend.discover(deadline)
            status, tags, first = self._status_and_tags(project, ref, deadline)
            desired = evaluate(self._policy, tags)
            view.update(status=status, tags=tags.as_strings(), rules=list(desired.rules))
            if not desired.nics:
                return {**view, "would_attach": [], "would_detach": []}
            if status and status.upper() not in READY:
                return {**view, "pending": f"server is {status}"}
            current = first or self._backend.list_interfaces(project, ref.server_id, deadline)
            interfaces = current.interfaces
            result = plan(desired.nics, interfaces)  # reads only: marks, no port listing
        except ServerGone:
            return {**view, "skipped": SkipReason.SERVER_GONE}
        except NicAttachError as exc:
            retryable = isinstance(exc, TemporaryError)
            return {**view, "error": {"code": exc.code, "message": exc.message,
                                      "retryable": retryable}}  # fmt: skip
        return {
            **view,
            "would_attach": [_request_json(nic) for nic in result.missing],
            "would_detach": [d.port_id for d in result.duplicates],
            "stale": [i.port_id for i in result.stale],
            "suspected_duplicates": [i.port_id for i in result.suspected],
        }

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
                f"the compute API ({self._settings.api_version}) does not show tags; send them "
                "in the event, or use v2.1", code=ErrorCode.TAGS_UNAVAILABLE,
            )  # fmt: skip
        if server.ignored_tags:
            log.warning("server %s: ignoring %d tag(s) that cannot be used", server.id,
                        len(server.ignored_tags),
                        extra={"ctx": {"ignored_tags": list(server.ignored_tags)}})  # fmt: skip
        return server.tags


def _request_json(nic: NicRequest) -> dict[str, str]:
    fields = {"net_id": nic.net_id, "port_id": nic.port_id, "fixed_ip": nic.fixed_ip}
    return {k: v for k, v in fields.items() if v is not None}


def _result(listing: Future[Attached]) -> Attached | None:
    """The parallel read, or ``None`` if it failed (the converger reads again)."""
    try:
        return listing.result()
    except (NicAttachError, ServerGone):
        return None
