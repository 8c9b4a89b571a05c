"""Request body in, reply out: the one code path behind every entry point.

``Service`` is assembled once per process by ``wiring.build_service`` and is
safe to share between threads. ``main.py`` (HTTP and FunctionGraph) and
``cli.py`` (``invoke``, ``reconcile``) only translate to and from it.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudevents.http import CloudEvent

from function import logs
from function.auth import Auth
from function.compute.base import ComputeBackend
from function.config import Settings
from function.converge.flow import Flow
from function.converge.sweep import Summary, reconcile
from function.delivery import emit
from function.domain.codes import ErrorCode, SkipReason
from function.domain.errors import BodyTooLarge, InputError
from function.domain.model import ParsedEvent, ServerRef, check_project_id
from function.domain.outcome import (
    IGNORED,
    Outcome,
    Verdict,
    failed,
    input_verdict,
    skipped,
    verdict,
)
from function.domain.policy import Policy
from function.domain.timing import Deadline, Timing
from function.lifecycle.releaser import Releaser
from function.pool import map_in_context
from function.sources.inbound import BATCH, decode_request
from function.sources.parse import parse_event
from function.transport.api import CORRELATION_HEADER
from function.transport.session import HttpSession

log = logging.getLogger("nicattach.service")

SINK_HEADER = "X-Nicattach-Sink"
"""On every reply when a sink is configured: ``delivered``, ``failed`` (logged, counted),
or ``none`` (nothing to deliver: an ignored event or a refused request)."""
PACKAGE = "nic-autoattach"
SINK_RESERVE_S = 3.0
"""Deadline time kept back from the servers for delivering their events to the sink."""
REPLY_COST_S = 0.0003
"""Deadline time kept back per server for building its outcome event (measured ~0.13 ms)."""
RELEASE_RESERVE_S = 3.0
"""Deadline time kept back from the servers for answering their lifecycle hooks."""


@dataclass
class Reply:
    """What the entry point sends back."""

    status: int
    headers: dict[str, str]
    body: bytes
    verdict: Verdict
    outcomes: list[Outcome] = field(default_factory=list)
    events: list[CloudEvent] = field(default_factory=list)


class Service:
    def __init__(
        self,
        settings: Settings,
        policy: Policy,
        auth: Auth,
        backend: ComputeBackend,
        flow: Flow,
        sink: emit.Sink | None,
        session: HttpSession,
        timing: Timing,
        releaser: Releaser | None = None,
        compute_calls: Callable[[], int] = lambda: 0,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.auth = auth
        self.backend = backend
        self.flow = flow
        self.sink = sink
        self.session = session
        self.timing = timing
        self.releaser = releaser
        self.compute_calls = compute_calls  # requests sent to the compute API so far

    def health(self) -> Reply:
        """``GET /``: 200 and what is running (no secret, no endpoint, no API call)."""
        body = {
            "name": PACKAGE,
            "version": package_version(),
            "backend": self.settings.backend,
            "policy_rules": len(self.policy.rules),
        }
        return Reply(200, dict(_JSON), json.dumps(body).encode(), IGNORED)

    def deadline(self, budget_s: float | None = None) -> Deadline:
        """One event's deadline: ``NICATTACH_DEADLINE_S``, or the platform's remaining time
        (``budget_s``) if that is shorter."""
        seconds = self.settings.deadline_s
        if budget_s is not None:
            seconds = min(seconds, budget_s)
        return self.timing.deadline(seconds)

    def handle(
        self, headers: Mapping[str, str], body: bytes, *, budget_s: float | None = None
    ) -> Reply:
        """Decode, handle every server the event names, and build the reply.

        A correlation id (the caller's ``X-Request-Id`` if usable, else a new one) goes
        into every log line, every API request and every outcome event."""
        deadline = self.deadline(budget_s)
        correlation_id = correlation_id_of(headers)
        with logs.bind(correlation_id=correlation_id):
            reply = self._handle(headers, body, correlation_id, deadline)
        reply.headers[CORRELATION_HEADER] = correlation_id
        if self.sink is not None:
            reply.headers.setdefault(SINK_HEADER, "none")
        return reply

    def _handle(
        self, headers: Mapping[str, str], body: bytes, correlation_id: str, deadline: Deadline
    ) -> Reply:
        try:
            parsed = self.parse(headers, body)
        except InputError as exc:
            log.info("rejected input: %s", exc.message, extra={"ctx": {"outcome": "bad_input"}})
            return error_reply(exc)
        if parsed.ignored_reason is not None:
            return self._ignored(parsed)
        after = deadline.minus(SINK_RESERVE_S) if self.sink is not None else deadline
        # building one outcome event costs ~0.13 ms here: keep that back for a huge batch
        after = after.minus(min(0.25 * deadline.remaining(), len(parsed.servers) * REPLY_COST_S))
        hooks = any(ref.lifecycle is not None for ref in parsed.servers)
        work = after.minus(RELEASE_RESERVE_S) if hooks else after
        with logs.bind(event_id=parsed.trigger.id):
            outcomes = self.run_all(parsed.servers, work)
            if hooks and self.releaser is not None:
                outcomes = self.release_all(parsed.servers, outcomes, after)
        source = self.settings.event_source
        events = [emit.to_cloudevent(o, parsed.trigger, source, correlation_id) for o in outcomes]
        reply = _outcome_reply(outcomes, events)
        if self.sink is not None:  # never changes the status: the outcome stands
            sent = [self.sink.send(event, deadline) for event in events]
            reply.headers[SINK_HEADER] = "delivered" if all(sent) else "failed"
        return reply

    def run_all(self, refs: tuple[ServerRef, ...], deadline: Deadline) -> list[Outcome]:
        """Every server of one event, ``NICATTACH_CONCURRENCY`` at a time, one deadline."""
        return list(map_in_context(lambda ref: self._run(ref, deadline), refs,
                                   concurrency=self.settings.concurrency))  # fmt: skip

    def release_all(
        self, refs: tuple[ServerRef, ...], outcomes: list[Outcome], deadline: Deadline
    ) -> list[Outcome]:
        """Answer the lifecycle hook of every server that has one (``function/lifecycle``)."""
        assert self.releaser is not None
        releaser = self.releaser
        pairs = list(zip(refs, outcomes, strict=True))

        def release(pair: tuple[ServerRef, Outcome]) -> Outcome:
            with logs.bind(server_id=pair[0].server_id):
                return releaser.release(pair[0], pair[1], deadline)

        return list(map_in_context(release, pairs, concurrency=self.settings.concurrency))

    def reconcile(
        self,
        project_id: str | None = None,
        *,
        dry_run: bool = False,
        concurrency: int | None = None,
        full: bool = True,
        marker: str | None = None,
        budget_s: float | None = None,
        now: str | None = None,
    ) -> Summary:
        """The sweep over one project (default: the configured one); see ``sweep.py``.
        ``full=False`` looks only at servers changed within ``NICATTACH_SWEEP_WINDOW_S``
        before ``now`` (an ISO 8601 time)."""
        project = check_project_id(project_id or self.settings.project_id or "", "project")
        if not self.settings.project_allowed(project):
            raise InputError(f"project {project} is not allowed (NICATTACH_ALLOWED_PROJECTS)")
        changes_since = None if full else sweep_window_start(now, self.settings.sweep_window_s)
        deadline = self.deadline(budget_s)
        with logs.bind(project_id=project):
            return reconcile(self.backend, self.flow, project, deadline, dry_run=dry_run,
                             concurrency=concurrency or self.settings.concurrency,
                             changes_since=changes_since, marker=marker)  # fmt: skip

    def dry_run(self, headers: Mapping[str, str], body: bytes) -> list[dict[str, Any]]:
        """Per server: tags, matching rules, what would be attached or undone. Reads only.

        Raises ``InputError`` for a body ``handle`` would answer with 400."""
        parsed = self.parse(headers, body)
        if parsed.ignored_reason is not None:
            return [{"ignored": parsed.ignored_reason}]
        deadline = self.deadline()
        return list(map_in_context(lambda ref: self.flow.preview(ref, deadline), parsed.servers,
                                   concurrency=self.settings.concurrency))  # fmt: skip

    def parse(self, headers: Mapping[str, str], body: bytes) -> ParsedEvent:
        if len(body) > self.settings.max_body_bytes:
            raise BodyTooLarge(
                f"body is {len(body)} bytes; the limit is {self.settings.max_body_bytes}"
            )
        trigger, data = decode_request(headers, body)
        return parse_event(trigger, data)

    def _run(self, ref: ServerRef, deadline: Deadline) -> Outcome:
        started = self.timing.clock()
        calls_before = self.compute_calls()
        with logs.bind(server_id=ref.server_id):
            try:
                outcome = self._terminating(ref) or self.flow.run(ref, deadline)
            except Exception as exc:  # a bug must cost one server, never the whole reply
                log.exception("server %s: unexpected %s", ref.server_id, type(exc).__name__)
                outcome = failed(ref.server_id, ref.project_id, ErrorCode.INTERNAL_ERROR,
                                 f"unexpected {type(exc).__name__}", retryable=True)  # fmt: skip
            ctx = {
                "project_id": outcome.project_id,
                "rules": list(outcome.rules),
                "outcome": outcome.label,
                "detail": outcome.status or outcome.reason or outcome.error_code,
                "duration_ms": round((self.timing.clock() - started) * 1000, 1),
                "api_calls": self.compute_calls() - calls_before,
            }
            log.info("server %s: %s", ref.server_id, outcome.label, extra={"ctx": ctx})
        return outcome

    def _terminating(self, ref: ServerRef) -> Outcome | None:
        """A server leaving its scaling group: no NIC work, its hook is answered CONTINUE."""
        if ref.lifecycle is None or not ref.lifecycle.terminating:
            return None
        project = self.flow.project_of(ref)
        return project if isinstance(project, Outcome) else skipped(
            ref.server_id, project, SkipReason.INSTANCE_TERMINATING)  # fmt: skip

    def _ignored(self, parsed: ParsedEvent) -> Reply:
        reason = parsed.ignored_reason
        log.info("ignored event %s: %s", parsed.trigger.id, reason,
                 extra={"ctx": {"event_id": parsed.trigger.id, "outcome": "ignored",
                                "reason": reason}})  # fmt: skip
        body = {"outcome": "ignored", "reason": reason, "trigger": _trigger_json(parsed)}
        return Reply(IGNORED.http_status, dict(_JSON), json.dumps(body).encode(), IGNORED)


_JSON = {"Content-Type": "application/json"}
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def package_version() -> str:
    """The installed package's version; ``unknown`` where it is not installed (the zip)."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def correlation_id_of(headers: Mapping[str, str]) -> str:
    """The caller's ``X-Request-Id`` when it is a plain token, else a new id."""
    for name, value in headers.items():
        if name.lower() == CORRELATION_HEADER.lower() and _SAFE_ID.fullmatch(value.strip()):
            return value.strip()
    return f"req-{uuid.uuid4()}"


def sweep_window_start(now: str | None, window_s: float) -> str:
    """``changes-since`` for a sweep window ending ``now`` (default: the current time)."""
    end = dt.datetime.fromisoformat(now) if now else dt.datetime.now(dt.timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=dt.timezone.utc)
    start = end - dt.timedelta(seconds=window_s)
    return start.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_reply(exc: InputError) -> Reply:
    """400 (413, 405) with ``{"error": {"code", "message"}}``: nothing was done."""
    body = {"error": {"code": exc.code, "message": logs.redact(exc.message)}}
    return Reply(exc.http_status, dict(_JSON), json.dumps(body).encode(),
                 input_verdict(exc.http_status))  # fmt: skip


def _outcome_reply(outcomes: list[Outcome], events: list[CloudEvent]) -> Reply:
    result = verdict(outcomes)
    if len(events) == 1:
        headers, body = emit.binary(events[0])
        return Reply(result.http_status, headers, body, result, outcomes, events)
    batch = [emit.structured_json(e) for e in events]
    headers = {"Content-Type": BATCH}
    return Reply(result.http_status, headers, json.dumps(batch).encode(), result, outcomes,
                 events)  # fmt: skip


def _trigger_json(parsed: ParsedEvent) -> dict[str, Any]:
    t = parsed.trigger
    return {"id": t.id, "source": t.source, "type": t.type}
