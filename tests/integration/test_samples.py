"""Every sample in events/ posted to the HTTP entry (against the emulator), and the
FunctionGraph handler called with a context shaped like FunctionGraph's."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ONE = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
BATCH = ["7b2d4c8f-1e6c-4d2f-8b68-3a8e1d3caf22", "8c3e5d90-2f7d-4e30-9c79-4b9f2e4db033"]
GENERIC = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
STORAGE = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
BACKUP = "0dc714fa-9022-4a03-bb22-9821a396bb9d"


@pytest.fixture
def client(
    emulator: EmulatorServer, admin: AdminClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FlaskClient]:
    seed = json.loads((ROOT / "examples" / "emulator-seed.json").read_text())
    seed["servers"] = [
        {"id": sid, "project_id": PROJECT, "tags": ["role=db", "env=prod"], "status": "ACTIVE"}
        for sid in [ONE, *BATCH, GENERIC]
    ]
    admin.seed(seed)
    monkeypatch.setenv("NICATTACH_POLICY", str(ROOT / "examples" / "policy.yaml"))
    monkeypatch.setenv("NICATTACH_ECS_ENDPOINT", emulator.url)
    monkeypatch.setenv("NICATTACH_TOKEN", "emulator-token")
    monkeypatch.setenv("NICATTACH_PROJECT_ID", PROJECT)
    for name in ("NICATTACH_SINK", "K_SINK", "NICATTACH_ALLOWED_PROJECTS"):
        monkeypatch.delenv(name, raising=False)
    yield create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()


ATTACHING = [
    ("cts-create-server.json", [ONE]),
    ("cts-create-servers-batch.json", BATCH),
    ("cts-create-servers-batch-job.json", BATCH),
    ("cts-server-tags-changed.json", [ONE]),
    ("eventgrid-cts-create-server.json", [ONE]),
    ("nova-instance-create-end.json", [ONE]),
    ("nova-instance-create-end-oslo.json", [ONE]),
    ("nova-instance-update-tags.json", [ONE]),
    ("knative-rabbitmq-instance-create-end.json", [ONE]),
    ("server-created.json", [GENERIC]),
    ("generic-object-tags.json", [GENERIC]),
    ("generic-no-tags.json", [GENERIC]),
]
IGNORED = [
    "ignored-cts-create-failed.json",
    "ignored-cts-other-service.json",
]
SMN_TRIGGER = ["smn-as-hook-launching.json", "ignored-smn-other-message.json"]
"""FunctionGraph's SMN trigger calls ``handler``; over HTTP the shape is refused unsigned."""


def outcomes(response: Any) -> list[dict[str, Any]]:
    """The outcome events of a reply: one binary-mode event, or a batch of structured ones."""
    if response.headers.get("ce-specversion"):
        return [
            {
                "type": response.headers["ce-type"],
                "subject": response.headers["ce-subject"],
                "data": response.get_json(),
            }
        ]
    assert response.headers["Content-Type"] == "application/cloudevents-batch+json"
    batch: list[dict[str, Any]] = response.get_json()
    return batch


@pytest.mark.parametrize(("name", "servers"), ATTACHING)
def test_sample_attaches_per_policy(
    client: FlaskClient, admin: AdminClient, name: str, servers: list[str]
) -> None:
    response = client.post(
        "/", data=(EVENTS / name).read_bytes(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    events = outcomes(response)
    assert [e["subject"] for e in events] == servers
    assert {e["type"] for e in events} == {"nicattach.attachment.completed"}
    for server in servers:
        attached = {i["net_id"] for i in admin.interfaces(server)}
        assert {STORAGE, BACKUP} <= attached


@pytest.mark.parametrize("name", IGNORED)
def test_sample_is_ignored_without_any_api_call(
    client: FlaskClient, admin: AdminClient, name: str
) -> None:
    admin.clear_requests()
    response = client.post(
        "/", data=(EVENTS / name).read_bytes(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "ignored"
    assert admin.requests_log() == []


@pytest.mark.parametrize("name", SMN_TRIGGER)
def test_smn_trigger_samples_go_to_the_handler_and_are_refused_over_http(
    client: FlaskClient, admin: AdminClient, name: str
) -> None:
    import main  # the module functions-framework loaded for this test's app

    admin.clear_requests()
    response = client.post(
        "/", data=(EVENTS / name).read_bytes(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 403 and admin.requests_log() == []
    answer = main.handler(json.loads((EVENTS / name).read_text()), FunctionGraphContext())
    if name.startswith("ignored"):
        assert answer["outcome"] == "ignored"
    else:
        assert answer["type"] == "nicattach.attachment.completed", answer
        assert {STORAGE, BACKUP} <= {i["net_id"] for i in admin.interfaces(ONE)}


class FunctionGraphContext:
    """The getters FunctionGraph's Python runtime offers (see docs/research-notes.md)."""

    def getRequestID(self) -> str:  # noqa: N802
        return "req-1"

    def getRemainingTimeInMilliSeconds(self) -> int:  # noqa: N802
        return 30_000

    def getToken(self) -> str:  # noqa: N802
        return ""

    def getProjectID(self) -> str:  # noqa: N802
        return PROJECT


def test_functiongraph_handler_runs_the_same_code(client: FlaskClient, admin: AdminClient) -> None:
    import main  # the module functions-framework loaded for this test's app

    result = main.handler(
        json.loads((EVENTS / "cts-create-servers-batch.json").read_text()), FunctionGraphContext()
    )
    assert [e["subject"] for e in result] == BATCH
    assert {e["type"] for e in result} == {"nicattach.attachment.completed"}
    ignored = main.handler(json.loads((EVENTS / IGNORED[1]).read_text()), FunctionGraphContext())
    assert ignored["outcome"] == "ignored"


def test_functiongraph_handler_raises_on_retryable_failure(
    client: FlaskClient, admin: AdminClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NICATTACH_WAIT_ACTIVE_S", "0.5")
    create_app("handle_event", str(ROOT / "function" / "main.py"))
    import main

    building = "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b"
    admin.create_server(
        PROJECT, tags=["role=db", "env=prod"], id=building, status="BUILD", build_seconds=3600
    )
    event = {"server_id": building, "project_id": PROJECT, "tags": ["role=db", "env=prod"]}
    with pytest.raises(main.RetryableFailure, match="server_not_ready"):
        main.handler(event, FunctionGraphContext())
    assert [i["net_id"] for i in admin.interfaces(building)] == []


def test_timer_trigger_runs_the_reconcile_sweep(client: FlaskClient, admin: AdminClient) -> None:
    import main

    timer = {
        "version": "v1.0",
        "time": "2026-11-28T10:00:00+08:00",
        "trigger_type": "TIMER",
        "trigger_name": "reconcile",
        "user_event": '{"nicattach": "reconcile"}',
    }
    summary = main.handler(timer, FunctionGraphContext())
    assert (summary["checked"], summary["attached"], summary["failed"]) == (4, 4, 0)
    assert main.handler(timer, FunctionGraphContext())["already"] == 4
    other = dict(timer, user_event='{"something": "else"}')
    assert main.handler(other, FunctionGraphContext())["error"]["code"] == "bad_input"


class ShortContext(FunctionGraphContext):
    def getRemainingTimeInMilliSeconds(self) -> int:  # noqa: N802
        return 4_500  # the platform stops this invocation in 4.5 s


def test_the_handler_deadline_follows_the_platforms_remaining_time(
    client: FlaskClient, admin: AdminClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NICATTACH_WAIT_ACTIVE_S", "120")  # would wait far past the platform
    create_app("handle_event", str(ROOT / "function" / "main.py"))
    import main

    building = "2e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b"
    admin.create_server(
        PROJECT, tags=["role=db", "env=prod"], id=building, status="BUILD", build_seconds=3600
    )
    event = {"server_id": building, "project_id": PROJECT, "tags": ["role=db", "env=prod"]}
    started = time.monotonic()
    with pytest.raises(main.RetryableFailure, match="server_not_ready|deadline_exceeded"):
        main.handler(event, ShortContext())
    assert time.monotonic() - started < 4.5  # remaining time minus the 3 s margin, then out


@pytest.mark.parametrize("name", ["cts-delete-server.json", "nova-instance-delete-end.json"])
def test_delete_samples_skip_the_server_and_touch_no_nic(
    client: FlaskClient, admin: AdminClient, name: str
) -> None:
    """The server still exists: nothing is detached; without a network endpoint no call."""
    admin.clear_requests()
    response = client.post(
        "/", data=(EVENTS / name).read_bytes(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    events = outcomes(response)
    assert [(e["subject"], e["data"]["reason"]) for e in events] == [(ONE, "server_deleted")]
    assert admin.requests_log() == []
