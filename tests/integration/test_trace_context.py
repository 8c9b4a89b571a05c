"""The incoming trace context and the outcome log line, without OpenTelemetry.

The ``traceparent`` an event arrives with (``ce-traceparent`` in binary mode, the
``traceparent`` attribute in structured mode, the plain HTTP header on a bare body)
comes back on every outcome event with the same trace id and a new span id, and goes
out on every API request; a malformed one is ignored. One JSON log line per server
outcome: its outcome, code, a numeric ``duration_ms`` and the API calls by API, at
WARNING for a retryable failure and ERROR for a permanent one."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from functions_framework import create_app
from support import PROJECT  # the sample project, defined once (tests/support.py)
from werkzeug.test import TestResponse

from emulator.client import AdminClient
from function.domain import tracecontext

ROOT = Path(__file__).resolve().parents[2]
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"  # seeded, tagged role=db env=prod
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
INCOMING = f"00-{TRACE}-{SPAN}-01"
DATA = {"server_id": SERVER, "project_id": PROJECT}

Post = Callable[..., TestResponse]


@pytest.fixture
def post(function_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Post]:
    monkeypatch.setenv("NICATTACH_WAIT_ACTIVE_S", "10")
    client = create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()

    def send(data: bytes, headers: dict[str, str]) -> TestResponse:
        return client.post("/", data=data, headers=headers)

    yield send


def event(**extensions: str) -> CloudEvent:
    attributes = {"id": "evt-trace", "source": "/tests", "type": "server.created", **extensions}
    return CloudEvent(attributes, DATA)


def request(mode: str, traceparent: str) -> tuple[dict[str, str], bytes]:
    if mode == "bare":
        return {"Content-Type": "application/json", "traceparent": traceparent}, json.dumps(
            DATA
        ).encode()
    encode = to_binary if mode == "binary" else to_structured
    headers, body = encode(event(traceparent=traceparent))
    return dict(headers), body if isinstance(body, bytes) else str(body).encode()


def continued(value: str | None) -> bool:
    """Same trace as ``INCOMING``, a different (new) span."""
    parent = tracecontext.parse(value)
    return parent is not None and parent.trace_id == TRACE and parent.span_id != SPAN


@pytest.mark.parametrize("mode", ["binary", "structured", "bare"])
def test_the_incoming_trace_comes_back_on_the_outcome_event_and_goes_to_the_api(
    mode: str, post: Post, admin: AdminClient
) -> None:
    admin.clear_requests()
    headers, body = request(mode, INCOMING)
    if mode == "binary":
        assert headers["ce-traceparent"] == INCOMING
    response = post(body, headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["ce-type"] == "nicattach.attachment.completed"
    assert continued(response.headers.get("ce-traceparent")), dict(response.headers)
    calls = admin.requests_log()
    assert calls and all(continued(call["traceparent"]) for call in calls), calls


def test_every_outcome_event_of_a_batch_carries_the_trace(post: Post) -> None:
    batch = json.loads((ROOT / "events" / "cts-create-servers-batch.json").read_text())
    headers = {"Content-Type": "application/json", "traceparent": INCOMING}
    response = post(json.dumps(batch).encode(), headers)
    events = response.get_json()
    assert isinstance(events, list) and len(events) == 2, events
    assert all(continued(e.get("traceparent")) for e in events), events


@pytest.mark.parametrize("value", ["00-nonsense", f"00-{TRACE.upper()}-{SPAN}-01", "x" * 2000])
def test_a_malformed_traceparent_is_ignored_not_refused(
    value: str, post: Post, admin: AdminClient
) -> None:
    admin.clear_requests()
    response = post(*reversed(request("binary", value)))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "ce-traceparent" not in response.headers
    assert all(call["traceparent"] is None for call in admin.requests_log())


def test_no_incoming_trace_no_traceparent(post: Post, admin: AdminClient) -> None:
    admin.clear_requests()
    response = post(json.dumps(DATA).encode(), {"Content-Type": "application/json"})
    assert response.status_code == 200 and "ce-traceparent" not in response.headers
    assert all(call["traceparent"] is None for call in admin.requests_log())


def outcome_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    records = [r for r in caplog.records if isinstance(getattr(r, "ctx", None), dict)]
    return [r for r in records if "duration_ms" in r.ctx]  # type: ignore[attr-defined]


def test_the_outcome_line_has_code_duration_and_calls_by_api(
    post: Post, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nicattach")
    post(json.dumps(DATA).encode(), {"Content-Type": "application/json"})
    (record,) = outcome_lines(caplog)
    ctx: dict[str, Any] = record.ctx  # type: ignore[attr-defined]
    assert record.levelno == logging.INFO and ctx["outcome"] == "completed"
    assert isinstance(ctx["duration_ms"], float) and ctx["duration_ms"] >= 0
    assert ctx["api_calls_by_api"] and set(ctx["api_calls_by_api"]) <= {"nova", "huaweiv1"}
    assert sum(ctx["api_calls_by_api"].values()) == ctx["api_calls"]


def test_a_retryable_failure_logs_at_warning(
    post: Post, admin: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nicattach")
    admin.set_faults(error_rate=1.0)
    try:
        response = post(json.dumps(DATA).encode(), {"Content-Type": "application/json"})
    finally:
        admin.set_faults(error_rate=0.0)
    assert response.status_code == 503
    (record,) = outcome_lines(caplog)
    assert record.levelno == logging.WARNING
    assert record.ctx["outcome"] == "failed-retryable" and record.ctx["code"]  # type: ignore[attr-defined]


def test_a_permanent_failure_logs_at_error(
    function_env: None,
    admin: AdminClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    policy = (ROOT / "examples" / "policy.yaml").read_text()
    missing = "3cb9bc59-5699-4588-a4b1-000000000000"  # a network the cloud does not have
    (tmp_path / "policy.yaml").write_text(
        policy.replace("3cb9bc59-5699-4588-a4b1-b87f96708bc6", missing)
    )
    monkeypatch.setenv("NICATTACH_POLICY", str(tmp_path / "policy.yaml"))
    monkeypatch.setenv("NICATTACH_WAIT_ACTIVE_S", "10")
    client = create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()
    caplog.set_level(logging.INFO, logger="nicattach")
    response = client.post("/", data=json.dumps(DATA), headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.get_data(as_text=True)
    (record,) = outcome_lines(caplog)
    assert record.levelno == logging.ERROR
    assert record.ctx["outcome"] == "failed-permanent" and record.ctx["code"]  # type: ignore[attr-defined]
