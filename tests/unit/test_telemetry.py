"""The default telemetry (no OpenTelemetry): the trace context continued, calls counted,
and which ``OTEL_*`` environment asks for the otel implementation."""

from __future__ import annotations

from function import telemetry
from function.domain import tracecontext

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_any_otel_variable_asks_for_opentelemetry_unless_the_sdk_is_disabled() -> None:
    assert not telemetry.wanted({"PATH": "/bin", "NICATTACH_TOKEN": "x"})
    assert telemetry.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert telemetry.wanted({"OTEL_SERVICE_NAME": "attach"})
    assert not telemetry.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_SDK_DISABLED": "true"})


def test_the_default_continues_the_trace_into_api_calls_and_counts_them() -> None:
    default = telemetry.Telemetry()
    with telemetry.counting() as calls, default.event("e", INCOMING, {}) as own:
        event_span = tracecontext.parse(own)
        assert event_span is not None and event_span.span_id != "00f067aa0ba902b7"
        with default.api_call("nova", "GET", "GET /v2.1/{id}/servers") as call:
            sent = tracecontext.parse(call.headers["traceparent"])
        with default.api_call("as", "PUT", "PUT /v1/{id}/hooks"):
            pass
    assert sent is not None and sent.trace_id == event_span.trace_id
    assert sent.span_id not in (event_span.span_id, "00f067aa0ba902b7")
    assert calls == {"nova": 1, "as": 1}


def test_without_an_incoming_trace_nothing_is_invented() -> None:
    default = telemetry.Telemetry()
    with default.event("e", None, {}) as own, default.api_call("nova", "GET", "GET /") as call:
        assert own is None and call.headers == {}
    with default.event("e", "00-garbage", {}) as own:
        assert own is None


def test_only_the_first_event_of_a_process_is_a_cold_start() -> None:
    default = telemetry.Telemetry()
    assert [default.coldstart() for _ in range(3)] == [True, False, False]
