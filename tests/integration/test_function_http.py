"""The HTTP entry, end to end: functions-framework's app → real HTTP → the emulator."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from functions_framework import create_app
from support import PROJECT  # the sample project, defined once (tests/support.py)
from werkzeug.test import TestResponse

from emulator.client import AdminClient

ROOT = Path(__file__).resolve().parents[2]
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
BOOT_NET = "5b1f2c3d-0a4e-4f6b-9c8d-7e6f5a4b3c2d"
STORAGE = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
BACKUP = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
TOKEN = "emulator-token"
SAMPLE = json.loads((ROOT / "events" / "server-created.json").read_text())

Post = Callable[..., TestResponse]


@pytest.fixture
def env(function_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NICATTACH_WAIT_ACTIVE_S", "10")


@pytest.fixture
def post(env: None) -> Iterator[Post]:
    """POST to the function as functions-framework serves it (app built after env is set)."""
    client = create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()

    def send(body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(body).encode()
        return client.post("/", data=data, headers=headers or {"Content-Type": "application/json"})

    yield send


def event(data: dict[str, Any], event_id: str = "evt-1") -> CloudEvent:
    return CloudEvent({"id": event_id, "source": "/tests", "type": "server.created"}, data)


def reply_data(response: TestResponse) -> dict[str, Any]:
    assert response.headers["ce-specversion"] == "1.0", response.get_data(as_text=True)
    data: dict[str, Any] = response.get_json()
    return data


def writes(admin: AdminClient) -> list[dict[str, Any]]:
    return [r for r in admin.requests_log() if r["method"] in ("POST", "DELETE")]


def nets(admin: AdminClient, server: str = SERVER) -> list[str]:
    return sorted(i["net_id"] for i in admin.interfaces(server))


@pytest.mark.parametrize("mode", ["structured", "binary", "bare"])
def test_attaches_missing_nics_and_reports_what_the_api_returned(
    backend: str, post: Post, admin: AdminClient, mode: str
) -> None:
    if mode == "bare":
        response = post(SAMPLE["data"])
    else:
        encode = to_structured if mode == "structured" else to_binary
        headers, body = encode(event(SAMPLE["data"]))
        response = post(headers=dict(headers), raw=body)
    assert response.status_code == 200
    assert response.headers["ce-type"] == "nicattach.attachment.completed"
    assert response.headers["ce-subject"] == SERVER
    data = reply_data(response)
    assert data["status"] == "attached"
    assert data["rules"] == ["db-storage", "db-backup"]
    actual = {i["net_id"]: i for i in admin.interfaces(SERVER)}
    assert sorted(actual) == sorted([BOOT_NET, STORAGE, BACKUP])
    for reported in data["interfaces"]:
        assert set(reported) == {"port_state", "fixed_ips", "port_id", "net_id", "mac_addr"}
        emulator_view = actual[reported["net_id"]]
        for key in ("port_id", "mac_addr", "port_state"):
            assert reported[key] == emulator_view[key]
        assert reported["fixed_ips"] == emulator_view["fixed_ips"]
        assert reported["fixed_ips"][0]["subnet_id"] and reported["fixed_ips"][0]["ip_address"]
    posts = (
        [json.loads(r["body"]) for r in writes(admin) if "/v2.0/" not in r["path"]]
        if "body" in admin.requests_log()[0]
        else []
    )
    assert len(posts) == 2
    for body in posts:  # the emulator offers 2.70: NICs carry the function's mark by default
        if backend == "huawei-v1":  # no mark on that API: a port the function named first
            assert list(body) == ["nics"] and list(body["nics"][0]) == ["port_id"]
            continue
        attachment = body["interfaceAttachment"]
        assert set(attachment) == {"net_id", "tag"} and attachment["tag"].startswith("nicattach:")


def test_posting_the_same_event_twice_leaves_one_nic(
    backend: str, post: Post, admin: AdminClient
) -> None:
    first = reply_data(post(SAMPLE))
    second = reply_data(post(SAMPLE))
    assert (first["status"], second["status"]) == ("attached", "already_attached")
    assert nets(admin) == sorted([BOOT_NET, STORAGE, BACKUP])
    assert [i["port_id"] for i in first["interfaces"]] == [
        i["port_id"] for i in second["interfaces"]
    ]


def test_same_trigger_gives_the_same_completion_id(post: Post) -> None:
    assert post(SAMPLE).headers["ce-id"] == post(SAMPLE).headers["ce-id"]
    other = dict(SAMPLE, id="another-trigger")
    assert post(other).headers["ce-id"] != post(SAMPLE).headers["ce-id"]


def test_tags_are_read_from_the_api_when_the_event_has_none(
    backend: str, post: Post, admin: AdminClient
) -> None:
    admin.clear_requests()
    response = post({"server_id": SERVER, "project_id": PROJECT})
    assert reply_data(response)["status"] == "attached"
    reads = [r for r in admin.requests_log() if r["method"] == "GET"]
    if backend == "huawei-v1":  # status from the server, tags from its tags API
        assert any(r["path"].endswith(f"/cloudservers/{SERVER}/tags") for r in reads)
        return
    assert any(
        r["path"].endswith(f"/servers/{SERVER}") and r["microversion"] == "2.26" for r in reads
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"server_id": "../../etc"}).encode(), "not a UUID"),
        (json.dumps({"something": "else"}).encode(), "unknown event shape"),
        (json.dumps({"server_id": SERVER, "tags": 5}).encode(), "tags"),
        (json.dumps({"server_id": SERVER, "tags": [{"deep": {"x": 1}}]}).encode(), "tag"),
    ],
)
def test_malformed_input_is_a_400_and_changes_nothing(
    post: Post, admin: AdminClient, raw: bytes, problem: str
) -> None:
    admin.clear_requests()
    response = post(raw=raw)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_input" and problem in error["message"]
    assert admin.requests_log() == []


def test_oversized_body_is_413(
    post: Post, admin: AdminClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = post(raw=b" " * 1_048_577)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "body_too_large"


def test_no_rule_matched_is_skipped_without_writes(post: Post, admin: AdminClient) -> None:
    response = post({"server_id": SERVER, "project_id": PROJECT, "tags": ["role=web"]})
    assert response.status_code == 200
    assert response.headers["ce-type"] == "nicattach.attachment.skipped"
    assert reply_data(response)["reason"] == "no_rule_matched"
    assert writes(admin) == []


def test_unknown_server_is_skipped(backend: str, post: Post) -> None:
    gone = "00000000-0000-4000-8000-000000000001"
    response = post({"server_id": gone, "project_id": PROJECT})
    assert response.headers["ce-type"] == "nicattach.attachment.skipped"
    assert reply_data(response)["reason"] == "server_gone"


def test_unknown_network_is_a_permanent_failure(
    backend: str, env: None, admin: AdminClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - name: ghost\n    when: {}\n    attach:\n"
        "      - net_id: 11111111-2222-4333-8444-555555555555\n"
    )
    monkeypatch.setenv("NICATTACH_POLICY", str(policy))
    client = create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()
    response = client.post("/", json=SAMPLE["data"])
    assert response.status_code == 422
    assert response.headers["ce-type"] == "nicattach.attachment.failed"
    error = response.get_json()["error"]
    assert error["code"] == "network_not_found" and error["retryable"] is False


def test_project_not_allowed_is_403_before_any_call(
    post: Post, admin: AdminClient, monkeypatch: pytest.MonkeyPatch, env: None
) -> None:
    monkeypatch.setenv("NICATTACH_ALLOWED_PROJECTS", "someone-else")
    client = create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()
    admin.clear_requests()
    response = client.post("/", json=SAMPLE["data"])
    assert response.status_code == 403
    assert reply_data(response)["reason"] == "project_not_allowed"
    assert admin.requests_log() == []


def test_building_server_is_waited_for(backend: str, post: Post, admin: AdminClient) -> None:
    building = "7e2a1d3c-4b5f-4a6e-8d9c-0b1a2c3d4e5f"
    admin.create_server(
        PROJECT, tags=["role=db", "env=prod"], id=building, status="BUILD", build_seconds=1.0
    )
    response = post({"server_id": building, "project_id": PROJECT, "tags": ["role=db", "env=prod"]})
    assert reply_data(response)["status"] == "attached"
    assert nets(admin, building) == sorted([STORAGE, BACKUP])


class _Sink(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers["Content-Length"])
        self.received.append((dict(self.headers), self.rfile.read(length)))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_completion_event_is_posted_to_the_sink(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("NICATTACH_SINK", f"http://127.0.0.1:{sink.server_port}/")
        client = create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()
        response = client.post("/", json=SAMPLE["data"])
    finally:
        sink.shutdown()
        sink.server_close()
    headers, body = _Sink.received[-1]
    assert headers["ce-type"] == "nicattach.attachment.completed"
    assert headers["ce-id"] == response.headers["ce-id"]
    assert json.loads(body)["interfaces"] == response.get_json()["interfaces"]


def test_no_secret_in_logs(
    post: Post, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    post(SAMPLE)
    post(raw=b'{"token": "emulator-token"')
    post({"server_id": "00000000-0000-4000-8000-000000000001"})
    out, err = capfd.readouterr()
    assert TOKEN not in caplog.text + out + err


def test_correlation_id_reaches_api_calls_logs_and_event(
    backend: str, post: Post, admin: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    admin.clear_requests()
    response = post(SAMPLE, headers={"Content-Type": "application/json", "X-Request-Id": "ops-42"})
    assert response.headers["X-Request-Id"] == "ops-42"
    assert response.headers["ce-correlationid"] == "ops-42"
    compute = [r for r in admin.requests_log() if "/v2" in r["path"] or "/v1/" in r["path"]]
    assert compute and {r["x_request_id"] for r in compute} == {"ops-42"}
    admin.clear_requests()
    generated = post(SAMPLE, headers={"Content-Type": "application/json", "X-Request-Id": "a b"})
    minted = generated.headers["X-Request-Id"]
    assert minted.startswith("req-") and generated.headers["ce-correlationid"] == minted
    assert {r["x_request_id"] for r in admin.requests_log()} == {minted}


def test_log_lines_are_json_with_the_event_context(
    backend: str, post: Post, capfd: pytest.CaptureFixture[str]
) -> None:
    post(SAMPLE, headers={"Content-Type": "application/json", "X-Request-Id": "ops-43"})
    lines = [
        json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")
    ]
    summary = [entry for entry in lines if entry.get("outcome") == "completed"]
    assert summary, lines
    entry = summary[-1]
    assert entry["level"] == "INFO" and entry["correlation_id"] == "ops-43"
    assert (entry["event_id"], entry["server_id"]) == (SAMPLE["id"], SERVER)
    assert entry["project_id"] == PROJECT and entry["rules"] == ["db-storage", "db-backup"]
    # nova: the version document (once per process), list, 2 attaches, re-read;
    # huawei-v1 (ports first): list ∥ ports, 2 × (port POST, NIC POST, one job poll,
    # delete_on_termination PUT), re-read ∥ ports
    assert entry["api_calls"] == {"nova": 5, "huawei-v1": 12}[backend]
    assert entry["duration_ms"] >= 0
