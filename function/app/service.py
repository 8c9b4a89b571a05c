"""Request body in, reply out: the one code path behind every entry point.

``Service`` is built once per process (settings, policy, one HTTP session)
and is safe to share between threads. ``main.py`` (HTTP and FunctionGraph)
and ``cli.py`` (``invoke``) only translate to and from it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudevents.http import CloudEvent

from function import logs
from function.auth import auth_from_settings, bind
from function.compute.os_interface import CORRELATION_HEADER, EcsClient
from function.config import Settings
from function.config.policy_file import load_policy
from function.converge.flow import Flow
from function.converge.sweep import Summary, reconcile
from function.delivery import emit
from function.domain.errors import BodyTooLarge, InputError
from function.domain.model import ParsedEvent, ServerRef, check_project_id
from function.domain.outcome import Kind, Outcome
from function.domain.policy import Policy
from function.domain.tags import Tags, parse_tags
from function.sources.inbound import BATCH, decode_request
from function.sources.parse import parse_event
from function.transport import tls
from function.transport.session import HttpSession, Session

log = logging.getLogger("nicattach.service")


@dataclass
class Reply:
    """What the entry point sends back."""

    status: int
    headers: dict[str, str]
    body: bytes
    outcomes: list[Outcome] = field(default_factory=list)
    events: list[CloudEvent] = field(default_factory=list)
    ignored_reason: str | None = None


class Service:
    def __init__(self, settings: Settings, policy: Policy, session: HttpSession) -> None:
        self.auth = auth_from_settings(settings)
        settings = bind(settings, self.auth)  # keystone: catalog endpoint, token's project
        self.settings = settings
        self.policy = policy
        self.session = session
        client = EcsClient(
            session,
            settings.ecs_endpoint,
            self.auth,
            api_version=settings.api_version,
            timeout=(settings.connect_timeout_s, settings.read_timeout_s),
        )
        self.client = client
        self.flow = Flow(settings, policy, client)
        self.sink = emit.sink_from_settings(settings, session, self.auth)

    @classmethod
    def from_settings(cls, settings: Settings) -> Service:
        return cls(settings, load_policy(settings.policy_path), new_session(settings))

    def handle(self, headers: Mapping[str, str], body: bytes) -> Reply:
        """Decode, handle every server the event names, and build the reply.

        A correlation id (the caller's ``X-Request-Id`` if usable, else a new one) goes
        into every log line, every API request and every outcome event."""
        correlation_id = correlation_id_of(headers)
        with logs.bind(correlation_id=correlation_id):
            reply = self._handle(headers, body, correlation_id)
        reply.headers[CORRELATION_HEADER] = correlation_id
        return reply

    def _handle(self, headers: Mapping[str, str], body: bytes, correlation_id: str) -> Reply:
        started = time.monotonic()
        try:
            parsed = self.parse(headers, body)
            servers = [(ref, _event_tags(ref)) for ref in parsed.servers]
        except InputError as exc:
            log.info("rejected input: %s", exc.message, extra={"ctx": {"outcome": "bad_input"}})
            return _error_reply(exc)
        if parsed.ignored_reason is not None:
            return self._ignored(parsed)
        with logs.bind(event_id=parsed.trigger.id):
            outcomes = [self._run(ref, tags, started) for ref, tags in servers]
        source = self.settings.event_source
        events = [emit.to_cloudevent(o, parsed.trigger, source, correlation_id) for o in outcomes]
        reply = _outcome_reply(outcomes, events)
        if self.sink is not None:  # never changes the status: the outcome stands
            sent = [self.sink.send(event) for event in events]
            reply.headers[SINK_HEADER] = "delivered" if all(sent) else "failed"
        return reply

    def reconcile(
        self, project_id: str | None = None, *, dry_run: bool = False, concurrency: int = 4
    ) -> Summary:
        """The sweep over one project (default: the configured one); see ``sweep.py``."""
        project = check_project_id(project_id or self.settings.project_id or "", "project")
        if not self.settings.project_allowed(project):
            raise InputError(f"project {project} is not allowed (NICATTACH_ALLOWED_PROJECTS)")
        with logs.bind(project_id=project):
            return reconcile(self.client, self.flow, project, dry_run=dry_run,
                             concurrency=concurrency)  # fmt: skip

    def dry_run(self, headers: Mapping[str, str], body: bytes) -> list[dict[str, Any]]:
        """Per server: tags, matching rules, planned attach requests. Reads only.

        Raises ``InputError`` for a body ``handle`` would answer with 400."""
        parsed = self.parse(headers, body)
        if parsed.ignored_reason is not None:
            return [{"ignored": parsed.ignored_reason}]
        servers = [(ref, _event_tags(ref)) for ref in parsed.servers]
        return [self.flow.preview(ref, tags) for ref, tags in servers]

    def parse(self, headers: Mapping[str, str], body: bytes) -> ParsedEvent:
        if len(body) > self.settings.max_body_bytes:
            raise BodyTooLarge(
                f"body is {len(body)} bytes; the limit is {self.settings.max_body_bytes}"
            )
        trigger, data = decode_request(headers, body)
        return parse_event(trigger, data)

    def _run(self, ref: ServerRef, tags: Tags | None, started: float) -> Outcome:
        calls_before = self.client.calls
        with logs.bind(server_id=ref.server_id):
            outcome = self.flow.run(ref, tags)
        ctx = {
            "server_id": ref.server_id,
            "project_id": outcome.project_id,
            "rules": list(outcome.rules),
            "outcome": outcome.label,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "api_calls": self.client.calls - calls_before,
        }
        detail = outcome.status or outcome.reason or outcome.error_code
        log.info("server %s: %s (%s)", ref.server_id, outcome.label, detail, extra={"ctx": ctx})
        return outcome

    def _ignored(self, parsed: ParsedEvent) -> Reply:
        reason = parsed.ignored_reason
        log.info(
            "ignored event %s: %s",
            parsed.trigger.id,
            reason,
            extra={"ctx": {"event_id": parsed.trigger.id, "outcome": "ignored"}},
        )
        body = {"outcome": "ignored", "reason": reason, "trigger": _trigger_json(parsed)}
        return Reply(200, _JSON, json.dumps(body).encode(), ignored_reason=reason)


_JSON = {"Content-Type": "application/json"}
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
SINK_HEADER = "X-Nicattach-Sink"
"""On replies when a sink is configured: ``delivered``, or ``failed`` (logged, counted)."""


def new_session(settings: Settings) -> Session:
    """One keep-alive session per process, shared by threads (see ``transport.py``)."""
    verify = tls.verify(settings.ca_bundle)
    return Session(ca_certs=verify if isinstance(verify, str) else None)


def correlation_id_of(headers: Mapping[str, str]) -> str:
    """The caller's ``X-Request-Id`` when it is a plain token, else a new id."""
    for name, value in headers.items():
        if name.lower() == CORRELATION_HEADER.lower() and _SAFE_ID.fullmatch(value.strip()):
            return value.strip()
    return f"req-{uuid.uuid4()}"


def _event_tags(ref: ServerRef) -> Tags | None:
    """Tags carried by the event, validated before anything is called."""
    return None if ref.tags is None else parse_tags(ref.tags)


def _error_reply(exc: InputError) -> Reply:
    body = {"error": {"code": exc.code, "message": exc.message}}
    return Reply(exc.http_status, dict(_JSON), json.dumps(body).encode())


def _outcome_reply(outcomes: list[Outcome], events: list[CloudEvent]) -> Reply:
    if len(events) == 1:
        headers, body = emit.binary(events[0])
        return Reply(outcomes[0].http_status, headers, body, outcomes, events)
    batch = [emit.structured_json(e) for e in events]
    headers = {"Content-Type": BATCH}
    return Reply(batch_status(outcomes), headers, json.dumps(batch).encode(), outcomes, events)


def batch_status(outcomes: list[Outcome]) -> int:
    """503 if any server should be retried (redelivery is idempotent), else 422 if any
    failed for good, else 200."""
    failed = [o for o in outcomes if o.kind is Kind.FAILED]
    if any(o.retryable for o in failed):
        return 503
    return 422 if failed else 200


def _trigger_json(parsed: ParsedEvent) -> dict[str, Any]:
    t = parsed.trigger
    return {"id": t.id, "source": t.source, "type": t.type}
