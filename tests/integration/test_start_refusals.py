"""Configuration that used to fail late or unsafely is refused at start-up, one line each
(issue 22, item 8): endpoints without a scheme or with plain http to another host, a
TIMER sweep without a project, the FunctionGraph entry behind functions-framework, a
busy emulator port."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app

from emulator.server import EmulatorServer
from function.app.functiongraph import remaining_seconds
from function.cli import main as cli
from function.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]
EVENT = str(ROOT / "events" / "server-created.json")
BASE = {"NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"), "NICATTACH_TOKEN": "t0ken-x"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NICATTACH_ECS_ENDPOINT", "ecs.example.com"),
        ("NICATTACH_ECS_ENDPOINT", "ftp://ecs.example.com"),
        ("NICATTACH_ECS_ENDPOINT", "http://ecs.example.com"),
        ("NICATTACH_ECS_ENDPOINT", "https://"),
        ("NICATTACH_ECS_ENDPOINT", "https://ecs.example.com/v2.1"),
        ("NICATTACH_ECS_ENDPOINT", "https://ecs.example.com/v1/"),
        ("NICATTACH_ECS_ENDPOINT", "https://ecs.example.com/v2.1/0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
        ("NICATTACH_AS_ENDPOINT", "http://as.example.com"),
        ("NICATTACH_EG_ENDPOINT", "http://10.0.0.8:8080"),
    ],
)
def test_an_unusable_endpoint_stops_invoke_with_one_line_naming_it(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**BASE, "NICATTACH_ECS_ENDPOINT": "https://ecs.example.com", name: value}
    for key in ("NICATTACH_SINK", "K_SINK", "NICATTACH_ALLOW_HTTP", "NICATTACH_AUTH"):
        monkeypatch.delenv(key, raising=False)
    for key, val in env.items():
        monkeypatch.setenv(key, val)
    assert cli(["invoke", EVENT]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"nic-autoattach: {name} "), err


def test_keystone_over_plain_http_to_another_host_is_refused() -> None:
    env = {**BASE, "NICATTACH_AUTH": "keystone", "OS_AUTH_URL": "http://keystone.example.com/v3"}
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env)
    assert refused.value.problems == [
        "OS_AUTH_URL is plain http:// to keystone.example.com: credentials would travel "
        "unencrypted; use https://, or set NICATTACH_ALLOW_HTTP=true"
    ]


@pytest.mark.parametrize(
    "env",
    [
        {"NICATTACH_ECS_ENDPOINT": "http://127.0.0.1:8774"},
        {"NICATTACH_ECS_ENDPOINT": "http://localhost:8774"},
        {"NICATTACH_ECS_ENDPOINT": "http://[::1]:8774"},
        {"NICATTACH_ECS_ENDPOINT": "http://ecs.internal", "NICATTACH_ALLOW_HTTP": "true"},
        {"NICATTACH_ECS_ENDPOINT": "https://ecs.example.com", "NICATTACH_SINK": "http://broker"},
    ],
)
def test_loopback_opted_in_http_and_a_plain_http_sink_start(env: dict[str, str]) -> None:
    Settings.from_env({**BASE, **env})


class Context:
    def __getattr__(self, name: str) -> Any:
        return lambda: ""


def test_a_timer_sweep_without_a_project_returns_its_reason(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {
        **BASE,
        "NICATTACH_TOKEN": "emulator-token",
        "NICATTACH_ECS_ENDPOINT": emulator.url,
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("NICATTACH_PROJECT_ID", "NICATTACH_ALLOWED_PROJECTS", "NICATTACH_SINK", "K_SINK"):
        monkeypatch.delenv(key, raising=False)
    create_app("handle_event", str(ROOT / "function" / "main.py"))
    import main

    timer = {"trigger_type": "TIMER", "user_event": '{"nicattach": "reconcile"}'}
    answer = main.handler(timer, Context())
    assert answer["error"]["message"] == "the TIMER sweep needs a project: set NICATTACH_PROJECT_ID"


def test_the_functiongraph_entry_behind_functions_framework_says_so_without_a_traceback(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {
        **BASE,
        "NICATTACH_TOKEN": "emulator-token",
        "NICATTACH_ECS_ENDPOINT": emulator.url,
    }.items():
        monkeypatch.setenv(key, value)
    app = create_app("handler", str(ROOT / "function" / "main.py"))
    response = app.test_client().post("/", json={"server_id": "x"})
    assert response.status_code == 500
    body = json.loads(response.get_data())
    assert body["error"]["code"] == "wrong_entry_point", body
    assert "--target handle_event" in body["error"]["message"]


def test_a_busy_emulator_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "emulator", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"emulator: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


@pytest.mark.parametrize(
    ("extra", "least"),
    [
        ({}, "1"),
        ({"NICATTACH_SINK": "http://127.0.0.1:9/events"}, "1.4"),
        ({"NICATTACH_AS_ENDPOINT": "http://127.0.0.1:9"}, "1.5"),
        (
            {
                "NICATTACH_SINK": "http://127.0.0.1:9/e",
                "NICATTACH_AS_ENDPOINT": "http://127.0.0.1:9",
            },
            "1.9",
        ),
    ],
)
def test_a_deadline_below_the_smallest_that_works_is_refused_at_start(
    extra: dict[str, str],
    least: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        **BASE,
        "NICATTACH_ECS_ENDPOINT": "http://127.0.0.1:9",
        "NICATTACH_DEADLINE_S": "0.9",
        **extra,
    }
    for key in ("NICATTACH_SINK", "K_SINK", "NICATTACH_AS_ENDPOINT", "NICATTACH_AUTH"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert cli(["invoke", EVENT]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(
        f"nic-autoattach: NICATTACH_DEADLINE_S=0.9 is shorter than the {least} s"
    )


def test_the_platform_margin_is_a_share_of_a_short_remaining_time() -> None:
    class Remaining:
        def __init__(self, millis: int) -> None:
            self.millis = millis

        def getRemainingTimeInMilliSeconds(self) -> int:  # noqa: N802 - FunctionGraph's name
            return self.millis

    assert remaining_seconds(Remaining(3000)) == pytest.approx(2.7)  # was 0.5
    assert remaining_seconds(Remaining(60000)) == pytest.approx(57.0)
    assert remaining_seconds(None) is None and remaining_seconds(Remaining(0)) is None
