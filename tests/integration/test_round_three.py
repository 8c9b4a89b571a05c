"""Issue 22 (round three of the attack on the promise): each item reproduced end to end
against the emulator, and fixed. Item 1 (404 shapes) lives with the backends."""

from __future__ import annotations

import http.server
import json
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from test_reliability import PROJECT, ROOT, SERVER, deliver, make_service

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app.views import summary_json
from function.converge.sweep import Failure
from function.transport.session import Session, TransportTimeout

V6_NET = "6e6e6e6e-0000-4000-8000-000000000006"


def v6_policy(tmp_path: Path, ip: str) -> Path:
    path = tmp_path / "v6.yaml"
    path.write_text(
        "version: 1\nrules:\n  - name: v6\n    when: {role: db}\n    attach:\n"
        f"      - {{net_id: {V6_NET}, fixed_ip: '{ip}'}}\n"
    )
    return path


def test_an_ipv6_address_spelled_in_upper_case_by_the_api_satisfies_the_policy(
    emulator: EmulatorServer, admin: AdminClient, backend: str, tmp_path: Path
) -> None:
    admin.create_network("2001:db8::/64", id=V6_NET, name="v6")
    upper = [{"net_id": V6_NET, "fixed_ip": "2001:DB8::10"}]  # as an API may spell it
    server = admin.create_server(PROJECT, tags=["role=db"], interfaces=upper)
    service = make_service(emulator, v6_policy(tmp_path, "2001:db8:0::10"), backend=backend)
    for _ in range(2):  # and on every redelivery
        status, body = deliver(service, {"server_id": server["id"], "project_id": PROJECT})
        assert status == 200, body
        assert body["status"] == "already_attached", body
    assert [i["net_id"] for i in admin.interfaces(server["id"])] == [V6_NET]
    writes = [r for r in admin.requests_log() if r["method"] in ("POST", "DELETE")]
    assert writes == []


def test_a_v1_server_without_a_time_zone_in_updated_costs_nothing_in_the_sweep(
    emulator: EmulatorServer, admin: AdminClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NICATTACH_BACKEND", "huawei-v1")
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    admin.set_faults(zoneless_times=True)  # `updated` as some v1 answers have it: no zone
    service = make_service(emulator, backend="huawei-v1", project_id=PROJECT)
    summary = service.reconcile(full=False)
    assert not summary.incomplete and summary.failures == [], summary_json(summary)
    assert summary.checked == summary.attached == 4, summary_json(summary)  # read as UTC


@pytest.mark.parametrize("dry_run", [False, True])
def test_one_server_whose_data_breaks_a_parser_is_one_failure_and_the_sweep_goes_on(
    emulator: EmulatorServer,
    admin: AdminClient,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
    dry_run: bool,
) -> None:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    service = make_service(emulator, backend=backend, project_id=PROJECT)
    read = service.backend.list_interfaces

    def unparsable(project: str, server_id: str, deadline: Any) -> Any:
        if server_id == SERVER:  # a parse that was not total, for this one server
            raise TypeError("can't compare offset-naive and offset-aware datetimes")
        return read(project, server_id, deadline)

    monkeypatch.setattr(service.backend, "list_interfaces", unparsable)
    summary = service.reconcile(dry_run=dry_run)
    assert summary.failed == 1 and not summary.incomplete, summary_json(summary)
    assert summary.failures == [Failure(SERVER, "internal_error", "unexpected TypeError")]
    assert summary.checked == 4


def test_a_listing_that_breaks_a_parser_ends_the_sweep_with_a_marker_not_a_raise(
    emulator: EmulatorServer, admin: AdminClient, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    service = make_service(emulator, backend=backend, project_id=PROJECT)

    def unparsable(*args: Any, **kwargs: Any) -> Any:
        raise AttributeError("'str' object has no attribute 'get'")

    monkeypatch.setattr(service.backend, "list_servers", unparsable)
    summary = service.reconcile(marker="m-1")
    assert summary.incomplete and summary.marker == "m-1", summary_json(summary)
    assert summary.failures == [Failure(None, "internal_error", "unexpected AttributeError")]


STATUS_LINE = b"HTTP/1.1 200 OK\r\n"
HEAD = STATUS_LINE + b"Content-Length: 2\r\n\r\n{}"


class _SlowStatus(socketserver.BaseRequestHandler):
    """Reads the request, then sends its status line one byte every 0.2 s (about 8 s):
    each read gets a byte well within any read timeout. ``sent`` counts the bytes the
    client stayed for."""

    sent = 0
    done = threading.Event()
    url = ""

    def handle(self) -> None:
        self.request.recv(65536)
        try:
            for byte in HEAD:
                self.request.sendall(bytes([byte]))
                type(self).sent += 1
                time.sleep(0.2)
        except OSError:
            pass  # the client hung up
        finally:
            type(self).done.set()


@pytest.fixture
def slow_status() -> Iterator[type[_SlowStatus]]:
    handler = type("Handler", (_SlowStatus,), {"done": threading.Event()})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield handler
    server.shutdown()
    server.server_close()


def test_a_status_line_sent_slowly_cannot_hold_a_request_past_its_total(
    slow_status: type[_SlowStatus],
) -> None:
    """Tried: a status line and headers a byte at a time, each read within its timeout.
    Before the watchdog the request waited for all of it (the total bounded the body)."""
    with Session() as session, pytest.raises(TransportTimeout):
        session.request("GET", f"{slow_status.url}/x", timeout=(1.0, 1.0), total=0.6)
    assert slow_status.done.wait(30)
    assert slow_status.sent < len(STATUS_LINE)  # it hung up before the status line was in


def test_a_slow_status_line_is_the_events_deadline_not_the_endpoints(
    slow_status: type[_SlowStatus],
) -> None:
    """Through the whole service: a retryable failure, and the API left mid-answer."""
    service = make_service(_Endpoint(slow_status.url), deadline_s=1.0)  # type: ignore[arg-type]
    event = {"server_id": SERVER, "project_id": PROJECT, "tags": ["role=db", "env=prod"]}
    status, body = deliver(service, event)
    assert status == 503 and body["error"]["retryable"] is True, body
    assert slow_status.done.wait(30)
    assert slow_status.sent < len(STATUS_LINE)


class _Endpoint:
    """Stands for an emulator where only its URL is needed."""

    def __init__(self, url: str) -> None:
        self.url = url


class _Accept(http.server.BaseHTTPRequestHandler):
    """A sink that takes every event."""

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sink() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/events"
    server.shutdown()
    server.server_close()


GROUP = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"
HOOKED = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"  # the launching sample's instance


def test_a_3_s_deadline_with_a_sink_and_an_as_endpoint_attaches_against_a_50_ms_api(
    emulator: EmulatorServer, admin: AdminClient, backend: str, sink: str
) -> None:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    hook = {
        "lifecycle_hook_name": "nic-attach",
        "lifecycle_hook_type": "INSTANCE_LAUNCHING",
        "default_timeout": 3600,
        "notification_topic_urn": f"urn:smn:cn-north-4:{PROJECT}:as-lifecycle-hooks",
    }
    admin.autoscaling.create_group(PROJECT, id=GROUP, hooks=[hook])
    admin.autoscaling.hang(GROUP, HOOKED, "nic-attach")
    admin.set_latency(read_ms=50, attach_ms=50, detach_ms=50)
    service = make_service(
        emulator, backend=backend, deadline_s=3.0, sink=sink, as_endpoint=emulator.url
    )
    reply = service.handle(
        {"Content-Type": "application/json"},
        (ROOT / "events" / "smn-as-hook-launching.json").read_bytes(),
    )
    body = json.loads(reply.body)
    assert reply.status == 200, body
    assert body["status"] == "attached" and body["lifecycle"]["result"] == "CONTINUE", body
    assert reply.headers["X-Nicattach-Sink"] == "delivered"


def test_a_forged_hook_notification_over_http_is_refused_without_a_call(
    emulator: EmulatorServer, admin: AdminClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anyone who reaches the HTTP endpoint could send a hook notification: the
    FunctionGraph record shape, or SMN's HTTP shape with no (or a made-up) signature.
    (The signed path: tests/integration/test_smn_http.py.)"""
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    hook = {
        "lifecycle_hook_name": "nic-release",
        "lifecycle_hook_type": "INSTANCE_TERMINATING",
        "default_timeout": 3600,
        "notification_topic_urn": f"urn:smn:cn-north-4:{PROJECT}:as-lifecycle-hooks",
    }
    admin.autoscaling.create_group(PROJECT, id=GROUP, hooks=[hook])
    admin.autoscaling.hang(GROUP, HOOKED, "nic-release")
    for key, value in {
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": emulator.url,
        "NICATTACH_TOKEN": "emulator-token",
        "NICATTACH_AS_ENDPOINT": emulator.url,
        "NICATTACH_PROJECT_ID": PROJECT,
        "NICATTACH_SMN_TOPICS": f"urn:smn:cn-north-4:{PROJECT}:as-lifecycle-hooks",
    }.items():
        monkeypatch.setenv(key, value)
    client = create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()
    record = json.loads((ROOT / "events" / "smn-as-hook-terminating.json").read_text())
    smn = record["record"][0]["smn"]
    http_shape = {
        **{k: smn[k] for k in ("topic_urn", "message", "subject", "message_id")},
        "type": "Notification",
        "timestamp": "2026-11-30T09:58:11Z",
        "signature_version": "v1",
        "signature": "Zm9yZ2Vk",
        "signing_cert_url": "https://attacker.example.com/cert.pem",
    }
    admin.clear_requests()
    for body, headers in (
        (record, {}),
        (http_shape, {"X-SMN-MESSAGE-TYPE": "Notification"}),
        ({**http_shape, "signature": ""}, {}),
    ):
        response = client.post("/", json=body, headers=headers)
        assert response.status_code == 403, response.get_data(as_text=True)
    assert admin.autoscaling.state()["answers"] == []
    assert admin.requests_log() == []
