"""The OpenTelemetry implementation (the ``otel`` extra), configured by ``OTEL_*`` only.

Imported by ``telemetry.get`` on the first event of a process when an ``OTEL_*``
variable is set. The exporters (OTLP over HTTP/protobuf) read
``OTEL_EXPORTER_OTLP_ENDPOINT`` and the rest of the standard variables themselves;
``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` name the resource;
``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` set to ``none`` turn one off.
Providers are this object's own (not the global ones), so a forked process makes new
ones with live export threads.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import Counter, Histogram
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from function.domain import tracecontext
from function.telemetry import _SPAN, API_CALLS, ATTACH_DURATION, Call, Telemetry, _count_call

NAME = "nic-autoattach"
UNITS = {ATTACH_DURATION: "ms"}


def _off(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() == "none"


class OtelTelemetry(Telemetry):
    enabled = True

    def __init__(self) -> None:
        super().__init__()
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", NAME)})
        self._traces = TracerProvider(resource=resource)
        if not _off("OTEL_TRACES_EXPORTER"):
            self._traces.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        readers: list[MetricReader] = []
        if not _off("OTEL_METRICS_EXPORTER"):
            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
        self._metrics = MeterProvider(resource=resource, metric_readers=readers)
        self._tracer = self._traces.get_tracer(NAME)
        self._meter = self._metrics.get_meter(NAME)
        self._propagator = TraceContextTextMapPropagator()
        self._counters: dict[str, Counter] = {}
        self._histograms: dict[str, Histogram] = {}

    @contextlib.contextmanager
    def event(
        self, name: str, traceparent: str | None, attributes: Mapping[str, Any]
    ) -> Iterator[str | None]:
        parent = self._propagator.extract({"traceparent": traceparent} if traceparent else {})
        attrs = {**attributes, "faas.coldstart": self.coldstart()}
        with self._tracer.start_as_current_span(
            name, context=parent, kind=trace.SpanKind.SERVER, attributes=attrs
        ) as span:
            own = _traceparent(span)
            token = _SPAN.set(tracecontext.parse(own))
            try:
                yield own
            finally:
                _SPAN.reset(token)

    @contextlib.contextmanager
    def api_call(self, api: str, method: str, route: str) -> Iterator[Call]:
        _count_call(api)
        attributes = {"rpc.system": api, "http.request.method": method, "url.path": route}
        with self._tracer.start_as_current_span(
            f"{api} {route}", kind=trace.SpanKind.CLIENT, attributes=attributes
        ) as span:
            headers: dict[str, str] = {}
            self._propagator.inject(headers)
            call = Call(headers)
            try:
                yield call
            finally:
                status = str(call.status_code) if call.status_code is not None else "error"
                if call.status_code is not None:
                    span.set_attribute("http.response.status_code", call.status_code)
                self.count(API_CALLS, api=api, route=route, status=status)

    def count(self, name: str, value: int = 1, **attributes: str) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = self._meter.create_counter(name)
        counter.add(value, attributes)

    def record(self, name: str, value: float, **attributes: str) -> None:
        histogram = self._histograms.get(name)
        if histogram is None:
            unit = UNITS.get(name, "")
            histogram = self._histograms[name] = self._meter.create_histogram(name, unit=unit)
        histogram.record(value, attributes)

    def flush(self) -> None:
        self._traces.force_flush()
        self._metrics.force_flush()


def _traceparent(span: trace.Span) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
