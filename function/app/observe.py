"""What the function tells its operators about each event: the outcome log line's fields,
its level, the metrics and the FaaS span attributes (``docs/observability.md``)."""

from __future__ import annotations

import logging
import re
from typing import Any

from function import telemetry
from function.domain.model import ParsedEvent
from function.domain.outcome import Kind, Outcome
from function.sources.inbound import BARE_SOURCE

HUAWEI_REGION = re.compile(r"\.([a-z]{2}-[a-z]+-[0-9]+)\.myhuaweicloud\.com")


def level_of(outcome: Outcome) -> int:
    """INFO, or for a final failure WARNING (retryable) or ERROR (permanent)."""
    if outcome.kind is not Kind.FAILED:
        return logging.INFO
    return logging.WARNING if outcome.retryable else logging.ERROR


def outcome_record(outcome: Outcome, duration_ms: float, calls: dict[str, int]) -> dict[str, Any]:
    """The fields of a server's outcome log line (``docs/observability.md``)."""
    return {
        "project_id": outcome.project_id,
        "rules": list(outcome.rules),
        "outcome": outcome.label,
        "code": outcome.error_code or outcome.reason,
        "detail": outcome.status or outcome.reason or outcome.error_code,
        "duration_ms": round(duration_ms, 1),
        "api_calls_by_api": dict(calls),
    }


def observe(outcome: Outcome, duration_ms: float) -> None:
    """The outcome's metrics (no-ops without OpenTelemetry)."""
    meter = telemetry.get()
    code = str(outcome.error_code or outcome.reason or outcome.status or "")
    meter.count(telemetry.OUTCOMES, outcome=outcome.label, code=code)
    meter.record(telemetry.ATTACH_DURATION, duration_ms, outcome=outcome.label)


def hook_answers(outcomes: list[Outcome]) -> None:
    """One count per lifecycle hook answered (or not: ``result`` ``none``)."""
    meter = telemetry.get()
    for outcome in outcomes:
        if outcome.lifecycle is not None:
            result = outcome.lifecycle.result
            meter.count(telemetry.HOOK_ANSWERS, result=result.value if result else "none")


FAAS_TRIGGERS = {"cts": "datasource", "smn": "pubsub", "nova-notification": "pubsub"}


def faas_attributes(parsed: ParsedEvent, invocation_id: str) -> dict[str, Any]:
    """The FaaS semantic-convention attributes of one event's span."""
    trigger = parsed.trigger
    bare = trigger.source == BARE_SOURCE
    kind = FAAS_TRIGGERS.get(trigger.type, "other") if bare else "pubsub"
    return {
        "faas.trigger": kind,
        "faas.invocation_id": invocation_id,
        "cloudevents.event_id": trigger.id,
        "cloudevents.event_type": trigger.type,
    }


def cloud_attributes(endpoint: str) -> dict[str, str]:
    """``cloud.provider`` and ``cloud.region`` where the endpoint names them (Huawei's)."""
    found = HUAWEI_REGION.search(endpoint)
    if not found:
        return {}
    return {"cloud.provider": "huawei_cloud", "cloud.region": found.group(1)}
