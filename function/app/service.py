"""Request body in, reply out: the one code path behind every entry point. ``Service`` is
assembled once per process by ``wiring.build_service`` and is safe to share between
threads; ``main.py`` (HTTP, FunctionGraph) and ``cli.py`` only translate to and from it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from function import logs, telemetry
from function.app import reserves
from function.app.intake import Intake
from function.app.observe import (
    cloud_attributes,
    faas_attributes,
    hook_answers,
    level_of,
    observe,
    outcome_record,
)
from function.app.replies import PACKAGE, outcome_reply, trigger_json
from function.app.replies import Reply as Reply  # re-exported: the entry points' name
from function.app.replies import correlation_id_of as correlation_id_of
from function.app.replies import error_reply as error_reply
from function.app.replies import package_version as package_version
from function.auth import Auth
from function.compute.base import ComputeBackend
from function.config import Settings
from function.converge.flow import Flow
from function.delivery import emit
from function.domain.codes import ErrorCode
from function.domain.errors import InputError
from function.domain.model import ParsedEvent, ServerRef, check_project_id
from function.domain.outcome import IGNORED, Outcome, failed
from function.domain.policy import Policy
from function.domain.timing import Deadline, Timing
from function.pool import Admit, map_in_context
from function.transport.api import CORRELATION_HEADER
from function.transport.session import HttpSession

if TYPE_CHECKING:  # types only: these modules serve rare paths (see reconcile, dry_run)
    from function.app.ready import ReadyEvents
    from function.converge.sweep import SweepSummary
    from function.lifecycle.releaser import Releaser

log = logging.getLogger("nicattach.service")

SINK_HEADER = "X-Nicattach-Sink"
"""On every reply when a sink is configured: ``delivered``, ``failed`` (logged, counted),
or ``none`` (nothing to deliver: an ignored event or a refused request)."""
REPLY_COST_S = 0.0003
"""Deadline time kept back per server for building its outcome event (measured ~0.13 ms)."""


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
        releaser: Callable[[], Releaser] | None = None,
        compute_calls: Callable[[], int] = lambda: 0,
        ready: ReadyEvents | None = None,
        admit: Admit | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.auth = auth
        self.backend = backend
        self.flow = flow
        self.sink = sink
        self.session = session
        self.timing = timing
        self.releaser = releaser  # made when a lifecycle hook first needs an answer
        self.compute_calls = compute_calls  # requests sent to the compute API so far
        self.ready = ready  # NICATTACH_READY_EVENT: nicattach.nic.ready through the sink
        self.admit = admit  # a batch's servers start as the compute gate lets them
        self.intake = Intake(settings.max_body_bytes, session, settings.smn_topics)
        self.cloud = cloud_attributes(settings.ecs_endpoint)
        reserves.check_deadline(settings)

    def health(self) -> Reply:
        """``GET /``: 200 and what is running (no secret, no endpoint, no API call)."""
        body = {
            "name": PACKAGE,
            "version": package_version(),
            "backend": self.settings.backend,
            "policy_rules": len(self.policy.rules),
        }
        return Reply.of_json(200, body, IGNORED)

    def deadline(self, budget_s: float | None = None) -> Deadline:
        """One event's deadline: ``NICATTACH_DEADLINE_S``, or the platform's remaining time
        (``budget_s``) if that is shorter."""
        seconds = self.settings.deadline_s
        if budget_s is not None:
            seconds = min(seconds, budget_s)
        return self.timing.deadline(seconds)

    def handle(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        budget_s: float | None = None,
        trusted: bool = True,
    ) -> Reply:
        """Decode, handle every server the event names, and build the reply.

        A correlation id (the caller's ``X-Request-Id`` if usable, else a new one) goes
        into every log line, every API request and every outcome event. ``trusted`` False
        (the HTTP entry): SMN messages must be signed (``app/smn_gate.py``)."""
        return self._answer(
            headers,
            lambda deadline: self.intake.request(headers, body, None if trusted else deadline),
            budget_s,
        )

    def handle_parsed(
        self, event: object, headers: Mapping[str, str], *, budget_s: float | None = None
    ) -> Reply:
        """``handle`` for an event the platform already parsed (FunctionGraph's handler):
        no bytes to decode. The reply's ``events`` (or its ``document``) are the answer."""
        return self._answer(headers, lambda _: self.intake.parsed(headers, event), budget_s)

    def _answer(
        self,
        headers: Mapping[str, str],
        parse: Callable[[Deadline], ParsedEvent],
        budget_s: float | None,
    ) -> Reply:
        deadline = self.deadline(budget_s)
        correlation_id = correlation_id_of(headers)
        with logs.bind(correlation_id=correlation_id):
            reply = self._handle(parse, correlation_id, deadline)
        reply.headers[CORRELATION_HEADER] = correlation_id
        if self.sink is not None:
            reply.headers.setdefault(SINK_HEADER, "none")
        return reply

    def _handle(
        self, parse: Callable[[Deadline], ParsedEvent], correlation_id: str, deadline: Deadline
    ) -> Reply:
        try:
            parsed = parse(deadline)
        except InputError as exc:
            log.info("rejected input: %s", exc.message, extra={"ctx": {"outcome": "bad_input"}})
            return error_reply(exc)
        if parsed.ignored_reason is not None:
            return self._ignored(parsed)
        attributes = {**self.cloud, **faas_attributes(parsed, correlation_id)}
        with telemetry.get().event("nic-autoattach", parsed.trigger.traceparent, attributes) as tp:
            return self._work(parsed, correlation_id, deadline, tp)

    def _work(
        self, parsed: ParsedEvent, correlation_id: str, deadline: Deadline, traceparent: str | None
    ) -> Reply:
        total = deadline.remaining()  # the reserves are shares of it (app/reserves.py)
        after = deadline.minus(reserves.SINK.of(total)) if self.sink is not None else deadline
        # building one outcome event costs ~0.13 ms here: keep that back for a huge batch
        after = after.minus(min(0.25 * total, len(parsed.servers) * REPLY_COST_S))
        hooks = any(ref.lifecycle is not None for ref in parsed.servers)
        work = after.minus(reserves.RELEASE.of(total)) if hooks else after
        with logs.bind(event_id=parsed.trigger.id):
            outcomes = self.run_all(parsed.servers, work)
            if hooks and self.releaser is not None:
                outcomes = self.release_all(parsed.servers, outcomes, after)
                hook_answers(outcomes)
        source = self.settings.event_source
        trigger = parsed.trigger
        events = [
            emit.to_cloudevent(o, trigger, source, correlation_id, traceparent) for o in outcomes
        ]
        reply = outcome_reply(outcomes, events)
        if self.sink is not None:  # never changes the status: the outcome stands
            sent = [self.sink.send(event, deadline) for event in events]
            reply.headers[SINK_HEADER] = "delivered" if all(sent) else "failed"
        if self.ready is not None:  # after the completion events, never instead of them
            self.ready.send(outcomes, deadline, correlation_id, traceparent)
        return reply

    def run_all(self, refs: tuple[ServerRef, ...], deadline: Deadline) -> list[Outcome]:
        """Every server of one event, one deadline, as many at once as the compute gate admits."""
        servers = map_in_context(
            lambda ref: self._run(ref, deadline),
            refs,
            concurrency=self.settings.concurrency,
            admit=self.admit,
        )
        return list(servers)

    def release_all(
        self, refs: tuple[ServerRef, ...], outcomes: list[Outcome], deadline: Deadline
    ) -> list[Outcome]:
        """Answer the lifecycle hook of every server that has one (``function/lifecycle``)."""
        assert self.releaser is not None
        releaser = self.releaser()
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
    ) -> SweepSummary:
        """The sweep over one project (default: the configured one); see ``sweep.py``.
        ``full=False`` looks only at servers changed within ``NICATTACH_SWEEP_WINDOW_S``
        before ``now`` (an ISO 8601 time)."""
        # Imported here: a TIMER event or the CLI sweeps, most processes never do.
        from function.app.views import summary_json
        from function.converge.sweep import reconcile, sweep_window_start

        project = check_project_id(project_id or self.settings.project_id or "", "project")
        if not self.settings.project_allowed(project):
            raise InputError(f"project {project} is not allowed (NICATTACH_ALLOWED_PROJECTS)")
        changes_since = None if full else sweep_window_start(now, self.settings.sweep_window_s)
        deadline = self.deadline(budget_s)
        width = concurrency or self.settings.concurrency
        with logs.bind(project_id=project):
            summary = reconcile(
                self.backend,
                self.flow,
                project,
                deadline,
                dry_run=dry_run,
                concurrency=width,
                changes_since=changes_since,
                marker=marker,
                admit=self.admit,
            )
            ctx = {"summary": summary_json(summary)}
            log.info("reconcile %s: %d checked", project, summary.checked, extra={"ctx": ctx})
        return summary

    def dry_run(self, headers: Mapping[str, str], body: bytes) -> list[dict[str, Any]]:
        """Per server: tags, matching rules, what would be attached or undone. Reads only.

        Raises ``InputError`` for a body ``handle`` would answer with 400."""
        from function.app.views import preview_json  # the CLI's dry run only

        parsed = self.intake.request(headers, body)
        if parsed.ignored_reason is not None:
            return [{"ignored": parsed.ignored_reason}]
        deadline = self.deadline()
        views = map_in_context(
            lambda ref: self.flow.preview(ref, deadline),
            parsed.servers,
            concurrency=self.settings.concurrency,
        )
        return [preview_json(view) for view in views]

    def _run(self, ref: ServerRef, deadline: Deadline) -> Outcome:
        started = self.timing.clock()
        calls_before = self.compute_calls()
        with logs.bind(server_id=ref.server_id), telemetry.counting() as calls:
            try:
                outcome = self.flow.run(ref, deadline)
            except Exception as exc:  # a bug must cost one server, never the whole reply
                log.exception("server %s: unexpected %s", ref.server_id, type(exc).__name__)
                message = f"unexpected {type(exc).__name__}"
                code = ErrorCode.INTERNAL_ERROR
                outcome = failed(ref.server_id, ref.project_id, code, message, retryable=True)
            ctx = outcome_record(outcome, (self.timing.clock() - started) * 1000, calls)
            ctx["api_calls"] = self.compute_calls() - calls_before  # the compute API's
            log.log(
                level_of(outcome), "server %s: %s", ref.server_id, outcome.label, extra={"ctx": ctx}
            )
            observe(outcome, ctx["duration_ms"])
        return outcome

    def _ignored(self, parsed: ParsedEvent) -> Reply:
        reason = parsed.ignored_reason
        event_id = parsed.trigger.id
        ctx = {"event_id": event_id, "outcome": "ignored", "reason": reason}
        log.info("ignored event %s: %s", event_id, reason, extra={"ctx": ctx})
        body = {"outcome": "ignored", "reason": reason, "trigger": trigger_json(parsed)}
        return Reply.of_json(IGNORED.http_status, body, IGNORED)
