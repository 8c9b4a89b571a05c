"""What the entry points send back: ``Reply`` and the reply bodies built outside the flow.

Every reply body passes ``logs.redact_bytes`` when the ``Reply`` is made, whoever made
it: a new way to answer cannot forget the redaction.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudevents.http import CloudEvent

from function import logs
from function.delivery import emit
from function.domain.errors import InputError
from function.domain.model import ParsedEvent
from function.domain.outcome import Outcome, Verdict, input_verdict, verdict
from function.sources.inbound import BATCH
from function.transport.api import CORRELATION_HEADER

PACKAGE = "nic-autoattach"


JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass
class Reply:
    """What the entry point sends back: the HTTP answer (``status``, ``headers``,
    ``body``), and the same typed, for an entry that answers otherwise (FunctionGraph's
    handler): the outcome events, or the JSON ``document`` of a reply that has none."""

    status: int
    headers: dict[str, str]
    body: bytes
    verdict: Verdict
    outcomes: list[Outcome] = field(default_factory=list)
    events: list[CloudEvent] = field(default_factory=list)
    document: dict[str, Any] | None = None
    """The body as JSON, scrubbed, when the reply carries no outcome event."""

    def __post_init__(self) -> None:  # every reply body, whoever built it: one redaction
        self.body = logs.redact_bytes(self.body)

    @classmethod
    def of_json(cls, status: int, document: dict[str, Any], result: Verdict) -> Reply:
        """A JSON reply; ``document`` is scrubbed once, for the body and for itself."""
        scrubbed: dict[str, Any] = logs.scrub(document)
        body = json.dumps(scrubbed).encode()
        return cls(status, dict(JSON_HEADERS), body, result, document=scrubbed)


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


def error_reply(exc: InputError) -> Reply:
    """400 (413, 405) with ``{"error": {"code", "message"}}``: nothing was done."""
    body = {"error": {"code": exc.code, "message": exc.message}}
    return Reply.of_json(exc.http_status, body, input_verdict(exc.http_status))


def outcome_reply(outcomes: list[Outcome], events: list[CloudEvent]) -> Reply:
    result = verdict(outcomes)
    if len(events) == 1:
        headers, body = emit.binary(events[0])
        return Reply(result.http_status, headers, body, result, outcomes, events)
    batch = [emit.structured_json(e) for e in events]
    headers = {"Content-Type": BATCH}
    body = json.dumps(batch).encode()
    return Reply(result.http_status, headers, body, result, outcomes, events)


def trigger_json(parsed: ParsedEvent) -> dict[str, Any]:
    t = parsed.trigger
    return {"id": t.id, "source": t.source, "type": t.type}
