"""Outcome → CloudEvent (``events/schemas/``; codes in ``docs/errors.md``), and delivery to a sink.

Event ids are derived from the trigger's id and the server id, so a
redelivered trigger produces the same completion id and consumers can drop
the repeat. A sink failure is logged and counted; it never changes the
outcome (the NICs are attached either way).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
import uuid
from typing import Any

from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from function import logs, telemetry
from function.auth import Auth
from function.config import ConfigError, Settings
from function.domain.errors import NicAttachError, SinkError
from function.domain.model import Trigger
from function.domain.outcome import Kind, Outcome
from function.domain.plan import Interface
from function.domain.timing import SINK_BACKOFF, Deadline, Timing, parse_retry_after
from function.transport.session import HttpSession, Response, TransportError

log = logging.getLogger("nicattach.emit")
EG_SCHEME = "eg://"

TYPE_PREFIX = "nicattach.attachment."
ID_NAMESPACE = uuid.UUID("6f1c1d2e-5c1a-4a8e-9d0e-6e1c4b0a7a11")


def event_id(trigger: Trigger, server_id: str) -> str:
    """Stable per (trigger event, server): a redelivery yields the same id."""
    key = json.dumps([trigger.source, trigger.id, server_id])  # unambiguous, unlike a join
    return str(uuid.uuid5(ID_NAMESPACE, key))


def to_cloudevent(
    outcome: Outcome,
    trigger: Trigger,
    source: str,
    correlation_id: str | None = None,
    traceparent: str | None = None,
) -> CloudEvent:
    attributes = {
        "id": event_id(trigger, outcome.server_id),
        "source": source,
        "type": TYPE_PREFIX + outcome.kind.value,
        "subject": outcome.server_id,
        "datacontenttype": "application/json",
        "time": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    if correlation_id:
        attributes["correlationid"] = correlation_id  # a CloudEvents extension attribute
    if traceparent:  # the distributed-tracing extension: the incoming trace, continued
        attributes["traceparent"] = traceparent
    # every text of the event (error messages, lifecycle details, ids) passes one redaction:
    # replies, sink bodies and FunctionGraph return values are all made from this event
    return CloudEvent(logs.scrub(attributes), logs.scrub(event_data(outcome, trigger)))


def event_data(outcome: Outcome, trigger: Trigger) -> dict[str, Any]:
    data: dict[str, Any] = {"server_id": outcome.server_id, "project_id": outcome.project_id}
    if outcome.kind is Kind.COMPLETED:
        data["rules"] = list(outcome.rules)
        data["status"] = outcome.status
        data["interfaces"] = [i.to_json() for i in outcome.interfaces]
        if outcome.stale:
            data["stale_interfaces"] = [_brief(i) for i in outcome.stale]
        if outcome.suspected:
            data["suspected_duplicates"] = [_brief(i) for i in outcome.suspected]
        if outcome.drift:
            data["profile_drift"] = [d.to_json() for d in outcome.drift]
    elif outcome.kind is Kind.SKIPPED:
        data["reason"] = outcome.reason
    else:
        data["rules"] = list(outcome.rules)
        data["error"] = {
            "code": outcome.error_code,
            "message": outcome.error_message or "",
            "retryable": outcome.retryable,
        }
    if outcome.lifecycle is not None:
        data["lifecycle"] = outcome.lifecycle.to_json()
    data["trigger"] = {"id": trigger.id, "source": trigger.source, "type": trigger.type}
    return data


def _brief(interface: Interface) -> dict[str, str]:
    return {"port_id": interface.port_id, "net_id": interface.net_id}


def binary(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    """The SDK's binary mode, headers and body byte for byte, without its marshaller's
    per-event event objects (a share of the CPU of an event): our attributes are strings."""
    attributes = event.get_attributes()
    data = event.get_data()
    if data is None or not all(isinstance(v, str) for v in attributes.values()):
        headers, body = to_binary(event)
        return dict(headers), body if isinstance(body, bytes) else str(body).encode()
    out = {"content-type": attributes["datacontenttype"]} if "datacontenttype" in attributes else {}
    out["ce-specversion"] = attributes["specversion"]
    for name, value in attributes.items():
        if name not in ("datacontenttype", "specversion"):
            out["ce-" + name] = value
    return out, json.dumps(data).encode()


_STRUCTURED_ORDER = ("id", "source", "type", "datacontenttype", "dataschema", "subject", "time")


def structured_json(event: CloudEvent) -> dict[str, Any]:
    """The SDK's structured form as a dict, built once (no encode and decode again): the
    keys in the SDK's order, so the batch reply's bytes are the same."""
    attributes = event.get_attributes()
    data = event.get_data()
    if isinstance(data, dict) and all(isinstance(v, str) for v in attributes.values()):
        out: dict[str, Any] = {"specversion": attributes["specversion"]}
        out.update((k, attributes[k]) for k in _STRUCTURED_ORDER if k in attributes)
        out["data"] = data
        out.update((k, v) for k, v in attributes.items() if k not in out)
        return out
    _, body = to_structured(event)
    parsed: dict[str, Any] = json.loads(body)
    return parsed


class Sink:
    """POSTs binary-mode CloudEvents to a URL (``NICATTACH_SINK`` / Knative's ``K_SINK``).

    Bounded: ``attempts`` tries with short timeouts and exponential backoff,
    retrying only connection errors, 429 and 5xx. A failure is logged and
    counted and ``send`` returns False; it never raises, so a completed attach
    stays completed and nothing asks the platform to redeliver (and attach again).
    """

    kind = "sink"

    def __init__(
        self,
        session: HttpSession,
        url: str,
        *,
        attempts: int = 3,
        timeout: tuple[float, float] = (2.0, 5.0),
        timing: Timing | None = None,
    ) -> None:
        self._session = session
        self._url = url
        self._attempts = attempts
        self._timeout = timeout
        self._timing = timing or Timing(time.monotonic, time.sleep, random.random)
        self.delivered = 0
        self.failures = 0

    def send(self, event: CloudEvent, deadline: Deadline | None = None) -> bool:
        """Deliver within ``deadline`` (default: this sink's own attempts and timeouts)."""
        deadline = deadline or self._timing.deadline(sum(self._timeout) * self._attempts + 2)
        for attempt in range(1, self._attempts + 1):
            try:
                if deadline.expired:
                    raise SinkError("the event's deadline passed", retryable=False)
                self._post(event, deadline)
                self.delivered += 1
                return True
            except SinkError as exc:
                last = attempt == self._attempts or not exc.retryable
                log.warning(
                    "%s delivery of %s attempt #%d/%d failed: %s%s",
                    self.kind,
                    event["id"],
                    attempt,
                    self._attempts,
                    exc,
                    "" if last else "; will retry",
                )
                if last:
                    break
                deadline.pause(SINK_BACKOFF.delay(attempt, self._timing.rng, exc.delay))
        self.failures += 1
        telemetry.get().count(telemetry.SINK_FAILURES, sink=self.kind)
        log.error(
            "%s delivery of %s failed; the outcome stands (failures so far: %d)",
            self.kind,
            event["id"],
            self.failures,
            extra={"ctx": {"event_id": event["id"], "sink": "failed"}},
        )
        return False

    def _post(self, event: CloudEvent, deadline: Deadline) -> None:
        headers, body = binary(event)
        self._check(self._request(self._url, headers, body, deadline))

    def _request(
        self, url: str, headers: dict[str, str], body: bytes, deadline: Deadline
    ) -> Response:
        remaining = deadline.remaining()
        timeout = (min(self._timeout[0], remaining), min(self._timeout[1], remaining))
        try:
            return self._session.request(
                "POST", url, data=body, headers=headers, timeout=timeout, total=remaining
            )
        except TransportError as exc:
            raise SinkError(str(exc), retryable=True) from None

    @staticmethod
    def _check(response: Response) -> None:
        status = response.status_code
        if status < 300:
            return
        delay = parse_retry_after(response.headers.get("Retry-After")) if status == 429 else None
        raise SinkError(f"HTTP {status}", retryable=status == 429 or status >= 500, delay=delay)


class EventGridSink(Sink):
    """Publishes structured CloudEvents to a Huawei EventGrid custom channel
    (``POST /v1/{project_id}/channels/{channel_id}/events``), with the function's credentials."""

    kind = "EventGrid"

    def __init__(
        self,
        session: HttpSession,
        endpoint: str,
        project_id: str,
        channel_id: str,
        auth: Auth,
        **options: Any,
    ) -> None:
        url = f"{endpoint.rstrip('/')}/v1/{project_id}/channels/{channel_id}/events"
        super().__init__(session, url, **options)
        self._auth = auth

    def _post(self, event: CloudEvent, deadline: Deadline) -> None:
        body = json.dumps({"events": [structured_json(event)]}).encode()
        try:  # per attempt: a signature carries its time, a token may have been renewed
            auth = self._auth.headers("POST", self._url, body)
        except NicAttachError as exc:
            raise SinkError(f"no credentials: {exc.message}", retryable=False) from None
        headers = {"Content-Type": "application/json", **auth}
        response = self._request(self._url, headers, body, deadline)
        self._check(response)
        try:
            failed = int(response.json().get("failed_count") or 0)
        except (ValueError, AttributeError, TypeError, OverflowError, RecursionError):
            failed = 0
        if failed:
            raise SinkError(f"EventGrid refused {failed} event(s)", retryable=False)


def sink_from_settings(
    settings: Settings, session: HttpSession, auth: Auth, **options: Any
) -> Sink | None:
    """``NICATTACH_SINK`` (else ``K_SINK``): an http(s) URL, or ``eg://{channel_id}``."""
    if not settings.sink:
        return None
    if settings.sink.startswith(EG_SCHEME):
        channel = settings.sink[len(EG_SCHEME) :].strip("/")
        project = settings.credentials_project_id or settings.project_id
        if not (channel and project and settings.eg_endpoint):
            raise ConfigError(
                "an eg:// sink needs a channel id, a project and NICATTACH_EG_ENDPOINT"
            )
        return EventGridSink(session, settings.eg_endpoint, project, channel, auth, **options)
    return Sink(session, settings.sink, **options)
