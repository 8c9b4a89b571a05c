"""The reconcile sweep: every ACTIVE/SHUTOFF server of a project against the policy.

The safety net for events that never arrived (a trigger misconfigured, a
delivery dropped after its retries). It pages through ``GET /servers/detail``
(tags included at microversion 2.26) and runs the same per-server flow as an
event, so it is as safe to run alongside event deliveries as two deliveries are.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from function import logs
from function.compute.os_interface import EcsClient
from function.converge.flow import Flow
from function.domain.errors import InputError
from function.domain.model import ServerRef
from function.domain.outcome import Kind, Outcome, failed
from function.domain.tags import parse_tags

log = logging.getLogger("nicattach.sweep")

T = TypeVar("T")
SWEPT_STATUSES = frozenset({"ACTIVE", "SHUTOFF"})
PAGE_SIZE = 100


@dataclass
class Summary:
    project_id: str
    checked: int = 0
    attached: int = 0
    already: int = 0
    skipped: int = 0
    failed: int = 0
    planned: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        body = {k: v for k, v in self.__dict__.items() if k not in ("planned", "failures")}
        if self.planned:
            body["planned"] = self.planned
        if self.failures:
            body["failures"] = self.failures
        return body


def servers(client: EcsClient, project_id: str) -> Iterator[dict[str, Any]]:
    """Every server of the project, page by page."""
    marker = None
    while True:
        page = client.list_servers(project_id, limit=PAGE_SIZE, marker=marker)
        yield from page
        if len(page) < PAGE_SIZE:
            return
        marker = str(page[-1].get("id"))


def reconcile(
    client: EcsClient, flow: Flow, project_id: str, *, dry_run: bool = False, concurrency: int = 4
) -> Summary:
    summary = Summary(project_id)
    refs = [
        ServerRef(str(s["id"]), project_id, tags=s.get("tags") or [], status=str(s["status"]))
        for s in servers(client, project_id)
        if str(s.get("status", "")).upper() in SWEPT_STATUSES and s.get("id")
    ]
    summary.checked = len(refs)
    fields = {"correlation_id": f"sweep-{uuid.uuid4()}", **logs.snapshot()}

    def in_context(work: Callable[[Flow, ServerRef], T]) -> Callable[[ServerRef], T]:
        def call(ref: ServerRef) -> T:  # pool threads do not inherit the caller's context
            with logs.bind(**fields, server_id=ref.server_id):
                return work(flow, ref)

        return call

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        if dry_run:
            views = pool.map(in_context(_preview), refs)
            summary.planned = [v for v in views if v.get("planned") or "error" in v]
            return summary
        for outcome in pool.map(in_context(_run), refs):
            _count(summary, outcome)
    log.info("reconcile %s: %s", project_id, summary.as_dict())
    return summary


def _run(flow: Flow, ref: ServerRef) -> Outcome:
    try:
        tags = parse_tags(ref.tags)
    except InputError as exc:
        return failed(ref.server_id, ref.project_id, "bad_tags", exc.message, retryable=False)
    return flow.run(ref, tags)


def _preview(flow: Flow, ref: ServerRef) -> dict[str, Any]:
    try:
        return flow.preview(ref, parse_tags(ref.tags))
    except InputError as exc:
        return {"server_id": ref.server_id, "error": {"code": "bad_tags", "message": exc.message}}


def _count(summary: Summary, outcome: Outcome) -> None:
    if outcome.kind is Kind.COMPLETED:
        if outcome.status == "attached":
            summary.attached += 1
        else:
            summary.already += 1
    elif outcome.kind is Kind.SKIPPED:
        summary.skipped += 1
    else:
        summary.failed += 1
        summary.failures.append(
            {"server_id": outcome.server_id, "code": outcome.error_code,
             "message": outcome.error_message}
        )  # fmt: skip
