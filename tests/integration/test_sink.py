"""Sinks: binary-mode POSTs with bounded retries; a failing sink never changes the outcome,
it is logged, counted and reported (``X-Nicattach-Sink``). EventGrid: signed publishing."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import from_http
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.identity.keystone import FakeKeystone
from emulator.server import EmulatorServer, FakeCloudServer
from function.app.service import Reply, Service
from function.app.wiring import build_service
from function.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
BATCH = ["7b2d4c8f-1e6c-4d2f-8b68-3a8e1d3caf22", "8c3e5d90-2f7d-4e30-9c79-4b9f2e4db033"]
EVENT = {"server_id": SERVER, "project_id": PROJECT, "tags": ["role=db", "env=prod"]}
JSON = {"Content-Type": "application/json"}


class FakeSink:
    """Answers the statuses in ``script`` one by one (then 202), recording what it got."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sink.received.append((dict(self.headers), body))
                status = sink.script.pop(0) if sink.script else 202
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"

    def __enter__(self) -> FakeSink:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def sink() -> Iterator[FakeSink]:
    with FakeSink() as server:
        yield server


@pytest.fixture
def make(emulator: EmulatorServer, admin: AdminClient) -> Any:
    seed = json.loads((ROOT / "examples" / "emulator-seed.json").read_text())
    admin.seed(seed)  # the seed holds the batch servers too

    def build(**env: str) -> Service:
        base = {
            "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
            "NICATTACH_ECS_ENDPOINT": emulator.url,
            "NICATTACH_TOKEN": "emulator-token",
        }
        return build_service(Settings.from_env({**base, **env}))

    return build


def post(service: Service, data: Any) -> Reply:
    return service.handle({"Content-Type": "application/json"}, json.dumps(data).encode())


def test_binary_mode_delivery_after_retrying_5xx_and_429(make: Any, sink: FakeSink) -> None:
    sink.script = [503, 429]
    service = make(NICATTACH_SINK=sink.url)
    reply = post(service, EVENT)
    assert reply.status == 200 and reply.headers["X-Nicattach-Sink"] == "delivered"
    assert len(sink.received) == 3
    headers, body = sink.received[-1]
    event = from_http(headers, body)
    assert headers["ce-id"] == reply.headers["ce-id"] and "ce-type" in headers
    assert event["type"] == "nicattach.attachment.completed" and event.data["server_id"] == SERVER
    assert service.sink is not None and (service.sink.delivered, service.sink.failures) == (1, 0)


@pytest.mark.parametrize(("script", "attempts"), [([500, 502, 504], 3), ([400], 1), ([404], 1)])
def test_a_failing_sink_never_fails_the_attach(
    make: Any, sink: FakeSink, caplog: pytest.LogCaptureFixture, script: list[int], attempts: int
) -> None:
    sink.script = list(script)
    service = make(K_SINK=sink.url)  # Knative's variable when NICATTACH_SINK is unset
    with caplog.at_level(logging.WARNING):
        reply = post(service, EVENT)
    assert reply.status == 200 and reply.outcomes[0].status == "attached"
    assert reply.headers["X-Nicattach-Sink"] == "failed"
    assert len(sink.received) == attempts
    assert service.sink is not None and service.sink.failures == 1
    assert f"attempt #{attempts}/3 failed: HTTP {script[-1]}" in caplog.text
    assert "the outcome stands" in caplog.text


def test_unreachable_sink_with_a_batch(make: Any, caplog: pytest.LogCaptureFixture) -> None:
    service = make(NICATTACH_SINK="http://127.0.0.1:9/")
    body = (ROOT / "events" / "cts-create-servers-batch.json").read_bytes()
    reply = service.handle({"Content-Type": "application/json"}, body)
    assert [o.server_id for o in reply.outcomes] == BATCH
    assert reply.status == 200 and reply.headers["X-Nicattach-Sink"] == "failed"
    assert reply.headers["Content-Type"] == "application/cloudevents-batch+json"
    assert "ConnectionError" in caplog.text
    assert service.sink is not None and service.sink.failures == 2


def test_no_sink_no_header(make: Any) -> None:
    assert "X-Nicattach-Sink" not in post(make(), EVENT).headers


def test_eventgrid_sink_publishes_signed_structured_events(
    make: Any, emulator: EmulatorServer
) -> None:
    keystone = FakeKeystone(project_id=PROJECT)
    keystone.access_keys["AKEVENTGRID000000001"] = ("eg-sk", "eg-sts")
    with FakeCloudServer(keystone, emulator.backend) as cloud:
        service = make(
            NICATTACH_AUTH="aksk",
            NICATTACH_ECS_ENDPOINT=cloud.compute_url,
            HUAWEICLOUD_SDK_AK="AKEVENTGRID000000001",
            HUAWEICLOUD_SDK_SK="eg-sk",
            HUAWEICLOUD_SDK_SECURITY_TOKEN="eg-sts",
            HUAWEICLOUD_SDK_PROJECT_ID=PROJECT,
            NICATTACH_SINK="eg://channel-1",
            NICATTACH_EG_ENDPOINT=cloud.url,
        )
        reply = post(service, EVENT)
        assert reply.headers["X-Nicattach-Sink"] == "delivered"
        assert keystone.rejected == []
        [published] = cloud.eventgrid.published
        assert published["id"] == reply.headers["ce-id"] and published["specversion"] == "1.0"
        assert published["data"]["server_id"] == SERVER
        signed = cloud.eventgrid.published[0]
        assert signed["source"] == "/nic-autoattach"


def test_eventgrid_unreachable_is_reported_not_fatal(make: Any, sink: FakeSink) -> None:
    sink.script = [401]
    service = make(
        NICATTACH_SINK="eg://channel-1",
        NICATTACH_EG_ENDPOINT=sink.url.rstrip("/"),
        NICATTACH_PROJECT_ID=PROJECT,
    )
    reply = post(service, EVENT)
    assert reply.status == 200 and reply.headers["X-Nicattach-Sink"] == "failed"
    [(headers, body)] = sink.received  # a 401 is not retried
    assert headers["X-Auth-Token"] == "emulator-token"  # token auth signs EventGrid calls too
    assert json.loads(body)["events"][0]["subject"] == SERVER


def test_eventgrid_sink_needs_its_endpoint(make: Any) -> None:
    with pytest.raises(ConfigError, match="NICATTACH_EG_ENDPOINT"):
        make(NICATTACH_SINK="eg://channel-1")


def test_the_sink_header_is_on_every_reply_when_a_sink_is_set(make: Any, sink: FakeSink) -> None:
    service = make(NICATTACH_SINK=sink.url)
    ignored = service.handle(
        JSON, (ROOT / "events" / "ignored-cts-other-service.json").read_bytes()
    )
    refused = service.handle(JSON, b"{not json")
    too_large = service.handle(JSON, b" " * (service.settings.max_body_bytes + 1))
    for reply, status in ((ignored, 200), (refused, 400), (too_large, 413)):
        assert reply.status == status and reply.headers["X-Nicattach-Sink"] == "none"
    assert post(service, EVENT).headers["X-Nicattach-Sink"] == "delivered"
