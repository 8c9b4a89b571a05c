"""The reconcile sweep: the servers of a project against the policy.

The safety net for events that never arrived (a trigger misconfigured, a
delivery dropped after its retries). It pages through the server list (tags
included), following the API's next links, and runs the same per-server flow
as an event, so it is as safe alongside event deliveries as two deliveries
are. The TIMER sweep looks only at servers changed within a window, so its
cost follows what is new, not the fleet; ``--all`` does a full pass. Both stop
cleanly before the deadline and report where to resume (``marker``).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

from function import logs, telemetry
from function.compute.base import ComputeBackend, Server
from function.converge.flow import Flow
from function.converge.ports import PortOwner
from function.converge.preview import Preview
from function.domain.errors import NicAttachError, ServerGone
from function.domain.model import ServerRef
from function.domain.outcome import Kind, Outcome, failed
from function.domain.timing import Deadline
from function.pool import Admit, map_in_context

log = logging.getLogger("nicattach.sweep")

SWEPT_STATUSES = frozenset({"ACTIVE", "SHUTOFF"})
PAGE_RESERVE_S = 2.0
"""A new page is started only with this much of the deadline left."""


@dataclass(frozen=True)
class Failure:
    """A server the sweep could not bring to the policy (``server_id`` None: the listing)."""

    server_id: str | None
    code: str
    message: str


@dataclass(frozen=True)
class NicSeen:
    """A NIC the sweep reports on a server (a suspected duplicate, a stale NIC)."""

    server_id: str
    port_id: str
    net_id: str | None = None
    """Known when the server was converged; a dry run names the port only."""


@dataclass
class SweepSummary:
    """Every listed server is counted once: ``checked`` = the sum of the others. Its JSON
    form is made at the edge (``app/views.summary_json``)."""

    project_id: str
    dry_run: bool = False
    checked: int = 0
    attached: int = 0
    already: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0
    """Servers not ACTIVE/SHUTOFF (BUILD, ERROR, …): left to their own events."""
    would_attach: int = 0
    incomplete: bool = False
    marker: str | None = None
    """Resume here (``reconcile --marker``) when ``incomplete``."""
    tags_unavailable: bool = False
    planned: list[Preview] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    suspected_duplicates: list[NicSeen] = field(default_factory=list)
    stale_interfaces: list[NicSeen] = field(default_factory=list)
    ports_collected: int = 0
    """The function's ports whose server is gone, deleted by this sweep."""


def reconcile(
    backend: ComputeBackend,
    flow: Flow,
    project_id: str,
    deadline: Deadline,
    *,
    dry_run: bool = False,
    concurrency: int = 8,
    changes_since: str | None = None,
    marker: str | None = None,
    admit: Admit | None = None,
) -> SweepSummary:
    """Converge (or with ``dry_run`` preview) every server of the project, page by page,
    ``concurrency`` at most at once and, with ``admit`` (the compute gate), as many as it
    admits; never raises: what stopped it is in the summary, with where to resume."""
    summary = SweepSummary(project_id, dry_run=dry_run)
    fields = {"correlation_id": logs.bound("correlation_id") or f"sweep-{uuid.uuid4()}"}
    with logs.bind(**fields):
        while True:
            if not deadline.allows(PAGE_RESERVE_S):
                summary.incomplete, summary.marker = True, marker
                break
            try:
                page = backend.list_servers(
                    project_id, deadline, marker=marker, changes_since=changes_since
                )
            except Exception as exc:  # a sweep never raises: it reports where to resume
                code, message = _error(exc)
                log.warning(
                    "reconcile %s: listing servers failed (%s)",
                    project_id,
                    code,
                    exc_info=not isinstance(exc, NicAttachError),
                )
                summary.incomplete, summary.marker = True, marker
                summary.failures.append(Failure(None, code, message))
                break
            _sweep_page(summary, flow, page.servers, deadline, dry_run, concurrency, admit)
            if page.next_marker is None:  # an empty page may have more behind it (v1)
                break
            marker = page.next_marker
        if flow.ports is not None and not dry_run and not summary.incomplete:
            summary.ports_collected = collect_ports(flow.ports, backend, project_id, deadline)
            telemetry.get().count(telemetry.PORTS_COLLECTED, summary.ports_collected)
    return summary


def collect_ports(
    ports: PortOwner, backend: ComputeBackend, project_id: str, deadline: Deadline
) -> int:
    """Delete the function's unbound ports whose server is gone (a copy killed between
    creating and attaching, or a Nova server deleted without its delete event). A port of
    a server that exists is left to that server's deliveries, which attach it."""
    try:
        found = ports.of_project(project_id, deadline)
    except NicAttachError as exc:
        log.warning("reconcile %s: listing ports failed (%s)", project_id, exc.code)
        return 0
    collected, alive = 0, {}
    for server_id, port in found:
        if not deadline.allows(PAGE_RESERVE_S):
            break
        try:
            if server_id not in alive:
                try:
                    backend.get_server(project_id, server_id, deadline)
                    alive[server_id] = True
                except ServerGone:
                    alive[server_id] = False
            if not alive[server_id]:
                ports.delete(project_id, port.id, deadline)
                log.info("reconcile: deleted port %s of server %s (gone)", port.id, server_id)
                collected += 1
        except NicAttachError as exc:
            log.warning("reconcile: port %s not collected (%s)", port.id, exc.code)
    return collected


def _sweep_page(
    summary: SweepSummary,
    flow: Flow,
    servers: tuple[Server, ...],
    deadline: Deadline,
    dry_run: bool,
    concurrency: int,
    admit: Admit | None,
) -> None:
    summary.checked += len(servers)
    swept = [s for s in servers if s.status in SWEPT_STATUSES]
    summary.pending += len(servers) - len(swept)
    if swept and any(s.tags is None for s in swept):
        summary.tags_unavailable = True
    refs = [
        ServerRef(s.id, summary.project_id, s.tags, s.status) for s in swept if s.tags is not None
    ]
    summary.skipped += len(swept) - len(refs)  # tags not visible (API v2): reported above

    def one(ref: ServerRef) -> Outcome | Preview:
        with logs.bind(server_id=ref.server_id):
            try:
                return flow.preview(ref, deadline) if dry_run else flow.run(ref, deadline)
            except Exception as exc:  # bad API data (or a bug) costs this server only
                log.exception(
                    "reconcile: server %s: unexpected %s", ref.server_id, type(exc).__name__
                )
                code, message = _error(exc)
                return failed(ref.server_id, ref.project_id, code, message, retryable=True)

    for result in map_in_context(one, refs, concurrency=concurrency, admit=admit):
        if isinstance(result, Preview):
            _count_preview(summary, result)
        else:
            _count(summary, result)


def _error(exc: Exception) -> tuple[str, str]:
    """The code and message a failure entry shows: the project's own, else the type only
    (an unexpected error's text may quote anything, a credential included)."""
    if isinstance(exc, NicAttachError):
        return exc.code, exc.message
    return "internal_error", f"unexpected {type(exc).__name__}"


def _count_preview(summary: SweepSummary, view: Preview) -> None:
    if view.error is not None:
        summary.failed += 1
        summary.failures.append(Failure(view.server_id, view.error.code, view.error.message))
    elif view.changes:
        summary.would_attach += 1
        summary.planned.append(view)
    elif view.skipped is not None or not view.rules:
        summary.skipped += 1
    else:
        summary.already += 1
    for port in view.suspected_duplicates:
        summary.suspected_duplicates.append(NicSeen(view.server_id, port))
    for port in view.stale or ():
        summary.stale_interfaces.append(NicSeen(view.server_id, port))


def _count(summary: SweepSummary, outcome: Outcome) -> None:
    if outcome.kind is Kind.COMPLETED:
        if outcome.status == "attached":
            summary.attached += 1
        else:
            summary.already += 1
    elif outcome.kind is Kind.SKIPPED:
        summary.skipped += 1
    else:
        summary.failed += 1
        code, message = outcome.error_code or "", outcome.error_message or ""
        summary.failures.append(Failure(outcome.server_id, code, message))
    for nic in outcome.suspected:
        summary.suspected_duplicates.append(NicSeen(outcome.server_id, nic.port_id, nic.net_id))
        log.warning(
            "reconcile: server %s has NIC %s beyond the one asked for on net %s",
            outcome.server_id,
            nic.port_id,
            nic.net_id,
        )
    for nic in outcome.stale:
        summary.stale_interfaces.append(NicSeen(outcome.server_id, nic.port_id, nic.net_id))


def sweep_window_start(now: str | None, window_s: float) -> str:
    """``changes-since`` for a sweep window ending ``now`` (default: the current time)."""
    end = dt.datetime.fromisoformat(now) if now else dt.datetime.now(dt.timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=dt.timezone.utc)
    start = end - dt.timedelta(seconds=window_s)
    return start.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
