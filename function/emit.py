"""Outcome → CloudEvent (DESIGN.md §4), and delivery to a sink.

Event ids are derived from the trigger's id and the server id, so a
redelivered trigger produces the same completion id and consumers can drop
the repeat. A sink failure is logged and counted; it never changes the
outcome (the NICs are attached either way).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import Any

import requests
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from function.model import Trigger
from function.outcome import Kind, Outcome

log = logging.getLogger("nicattach.emit")

TYPE_PREFIX = "nicattach.attachment."
ID_NAMESPACE = uuid.UUID("6f1c1d2e-5c1a-4a8e-9d0e-6e1c4b0a7a11")


def event_id(trigger: Trigger, server_id: str) -> str:
    """Stable per (trigger event, server): a redelivery yields the same id."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{trigger.source}\n{trigger.id}\n{server_id}"))


def to_cloudevent(outcome: Outcome, trigger: Trigger, source: str) -> CloudEvent:
    attributes = {
        "id": event_id(trigger, outcome.server_id),
        "source": source,
        "type": TYPE_PREFIX + outcome.kind.value,
        "subject": outcome.server_id,
        "datacontenttype": "application/json",
        "time": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    return CloudEvent(attributes, event_data(outcome, trigger))


def event_data(outcome: Outcome, trigger: Trigger) -> dict[str, Any]:
    data: dict[str, Any] = {"server_id": outcome.server_id, "project_id": outcome.project_id}
    if outcome.kind is Kind.COMPLETED:
        data["rules"] = list(outcome.rules)
        data["status"] = outcome.status
        data["interfaces"] = [i.to_json() for i in outcome.interfaces]
    elif outcome.kind is Kind.SKIPPED:
        data["reason"] = outcome.reason
    else:
        data["rules"] = list(outcome.rules)
        data["error"] = {
            "code": outcome.error_code,
            "message": outcome.error_message,
            "retryable": outcome.retryable,
        }
    data["trigger"] = {"id": trigger.id, "source": trigger.source, "type": trigger.type}
    return data


def binary(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    headers, body = to_binary(event)
    return dict(headers), body if isinstance(body, bytes) else str(body).encode()


def structured_json(event: CloudEvent) -> dict[str, Any]:
    _, body = to_structured(event)
    parsed: dict[str, Any] = json.loads(body)
    return parsed


class Sink:
    """POSTs binary-mode CloudEvents to a URL, with a bounded number of attempts."""

    def __init__(self, session: requests.Session, url: str, attempts: int = 2) -> None:
        self._session = session
        self._url = url
        self._attempts = attempts
        self.failures = 0

    def send(self, event: CloudEvent) -> bool:
        headers, body = binary(event)
        for attempt in range(1, self._attempts + 1):
            try:
                response = self._session.post(self._url, data=body, headers=headers, timeout=5)
                if response.status_code < 300:
                    return True
                problem = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            log.warning("sink delivery attempt #%d/%d failed: %s", attempt, self._attempts, problem)
        self.failures += 1
        return False
