"""A wrong endpoint is not a deleted server (issue 22, item 1): against the emulator, an
endpoint with a wrong path answers every call with a 404 that names no server; the
event is retryable (503, ``api_not_found``), never ``skipped/server_gone``, while a
really unknown server still is."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app.service import Reply
from function.app.wiring import build_service
from function.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"


def handle(emulator: EmulatorServer, admin: AdminClient, endpoint: str, server: str) -> Reply:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    env = {
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": endpoint,
        "NICATTACH_TOKEN": "emulator-token",
        "NICATTACH_WAIT_ACTIVE_S": "0.3",
    }
    service = build_service(Settings.from_env(env))
    body = json.dumps({"server_id": server, "project_id": PROJECT}).encode()
    return service.handle({"Content-Type": "application/json"}, body)


def test_a_wrong_endpoint_path_is_retryable_not_gone(
    backend: str, emulator: EmulatorServer, admin: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    reply = handle(emulator, admin, emulator.url + "/wrong", SERVER)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("404 that names no server" in m and SERVER in m for m in errors), errors
    [event] = reply.events
    assert reply.status == 503, event.data
    assert event["type"] == "nicattach.attachment.failed"
    assert event.data["error"]["code"] == "api_not_found" and event.data["error"]["retryable"]


def test_a_really_unknown_server_is_still_gone(
    backend: str, emulator: EmulatorServer, admin: AdminClient
) -> None:
    reply = handle(emulator, admin, emulator.url, "00000000-0000-4000-8000-000000000001")
    [event] = reply.events
    assert (reply.status, event.data["reason"]) == (200, "server_gone")
