"""OpenTelemetry, the ``otel`` extra: off and unimported without ``OTEL_*``; with
``OTEL_EXPORTER_OTLP_ENDPOINT`` alone, plain ``functions-framework`` (gunicorn, the
worker forked after the module was imported) exports traces and metrics over OTLP/HTTP.

The receiver is a tiny local HTTP server taking ``/v1/traces`` and ``/v1/metrics``,
decoded with ``opentelemetry-proto`` (the exporter's own dependency)."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from support import PROJECT

ROOT = Path(__file__).resolve().parents[2]
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
TRACES = ["4bf92f3577b34da6a3ce929d0e0e47" + f"{n:02d}" for n in range(1, 4)]
PARENT_SPAN = "00f067aa0ba902b7"
BINARY = {
    "ce-specversion": "1.0",
    "ce-source": "/tests",
    "ce-type": "server.created",
    "Content-Type": "application/json",
}
WANTED_METRICS = {"nicattach.outcomes", "nicattach.attach.duration", "nicattach.api.calls"}


def clean_env() -> dict[str, str]:
    """The function's settings (set by ``function_env``) and nothing of OpenTelemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_without_otel_variables_no_opentelemetry_module_is_imported(function_env: None) -> None:
    env = clean_env()
    found = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import function.main"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert found.returncode == 0, found.stderr[-2000:]
    assert "function.main" in found.stderr  # the import-time table is there
    assert "opentelemetry" not in found.stderr
    # nor after an event: the default telemetry stays the no-op one
    script = (
        "import sys, json\nimport function.main as m\n"
        f"m.handler({{'server_id': '{SERVER}', 'project_id': '{PROJECT}'}})\n"
        "print(json.dumps(sorted(k for k in sys.modules if k.startswith('opentelemetry'))))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert json.loads(ran.stdout.splitlines()[-1]) == []


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[Any] = []
        self.metrics: set[str] = set()
        self.changed = threading.Condition()

    def wait_for(self, done: Any, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(done, timeout)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with self.server.changed:
            if self.path == "/v1/traces":
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        self.server.spans.extend(scope.spans)
            elif self.path == "/v1/metrics":
                metrics = ExportMetricsServiceRequest.FromString(body)
                for resource in metrics.resource_metrics:
                    for scope in resource.scope_metrics:
                        self.server.metrics.update(m.name for m in scope.metrics)
            self.server.changed.notify_all()
        self.send_response(200 if self.path in ("/v1/traces", "/v1/metrics") else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def attributes(span: Any) -> dict[str, Any]:
    values = {}
    for kv in span.attributes:
        kind = kv.value.WhichOneof("value")
        values[kv.key] = getattr(kv.value, kind) if kind else None
    return values


def test_an_otlp_receiver_gets_traces_and_metrics_from_plain_functions_framework(
    function_env: None, receiver: Receiver
) -> None:
    port = free_port()
    env = clean_env()
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{receiver.server_address[1]}"
    env["OTEL_BSP_SCHEDULE_DELAY"] = "100"  # standard variables: export soon, for the test
    env["OTEL_METRIC_EXPORT_INTERVAL"] = "300"
    env["NICATTACH_WAIT_ACTIVE_S"] = "10"
    framework = str(Path(sys.executable).parent / "functions-framework")
    process = subprocess.Popen(
        [
            framework,
            "--source",
            "function/main.py",
            "--target",
            "handle_event",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_up(url, process)
        for n, trace in enumerate(TRACES):
            headers = {
                **BINARY,
                "ce-id": f"evt-otel-{n}",
                "ce-traceparent": f"00-{trace}-{PARENT_SPAN}-01",
                "X-Request-Id": f"otel-{n}",
            }
            body = {"server_id": SERVER, "project_id": PROJECT}
            answer = requests.post(url, json=body, headers=headers, timeout=30)
            assert answer.status_code == 200, answer.text
            assert answer.headers["ce-traceparent"].split("-")[1] == trace

        def events() -> list[Any]:
            return [s for s in receiver.spans if s.kind == s.SPAN_KIND_SERVER]

        arrived = receiver.wait_for(
            lambda: len(events()) >= 3 and WANTED_METRICS <= receiver.metrics, timeout=60
        )
        assert arrived, (len(receiver.spans), receiver.metrics)
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    by_trace = {span.trace_id.hex(): span for span in events()}
    assert set(by_trace) == set(TRACES), err[-2000:]
    for n, trace in enumerate(TRACES):
        span = by_trace[trace]
        assert span.parent_span_id.hex() == PARENT_SPAN
        attrs = attributes(span)
        assert attrs["faas.trigger"] == "pubsub"
        assert attrs["faas.invocation_id"] == f"otel-{n}"
        assert attrs["faas.coldstart"] is (n == 0)
    calls = [s for s in receiver.spans if s.kind == s.SPAN_KIND_CLIENT]
    assert calls and {s.trace_id.hex() for s in calls} == set(TRACES)
    event_spans = {s.span_id for s in events()}
    assert all(s.parent_span_id in event_spans for s in calls)
    assert all("http.response.status_code" in attributes(s) for s in calls)


def wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    """Until functions-framework answers its health check (or has exited)."""
    ready = threading.Event()
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(process.communicate()[1][-2000:])
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            ready.wait(0.1)  # the process is still starting: poll again
    raise AssertionError("functions-framework did not start")
