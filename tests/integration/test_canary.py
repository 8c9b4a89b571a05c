"""One way out, one redaction (issue 22, item 3): every API the function talks to echoes
its credential into an error, and every output is scanned for that canary.

The APIs: compute (Nova and Huawei v1, the emulator's ``echo_header`` fault), Auto
Scaling, the sink (EventGrid) and Keystone (a local server that quotes every header and
the body of what it got). The outputs: replies (HTTP and ``Service.handle``), outcome
events, the FunctionGraph handler's return value and exceptions (events and TIMER),
``invoke``, ``invoke --dry-run``, ``reconcile``, ``reconcile --dry-run`` (stdout and
stderr), and the log lines."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from support import PROJECT

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function import logs
from function.cli import main as cli

ROOT = Path(__file__).resolve().parents[2]
CANARY = "Zq9-CANARY-echoed-back-7731"
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
HOOKED = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
GROUP = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"


class _Echo(BaseHTTPRequestHandler):
    """Answers anything 400 (401 under /v3: Keystone) quoting every header and the body."""

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        quoted = f"bad request: {dict(self.headers)!r} {body.decode(errors='replace')}"
        status = 401 if self.path.startswith("/v3") else 400
        payload = json.dumps(
            {"error": {"code": "APIGW.0400", "message": quoted, "title": quoted}}
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def seeded(admin: AdminClient, emulator: EmulatorServer) -> AdminClient:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    admin.add_token(CANARY)
    hook = {
        "lifecycle_hook_name": "nic-attach",
        "lifecycle_hook_type": "INSTANCE_LAUNCHING",
        "default_timeout": 3600,
        "notification_topic_urn": f"urn:smn:cn-north-4:{PROJECT}:as-lifecycle-hooks",
    }
    admin.autoscaling.create_group(PROJECT, id=GROUP, hooks=[hook])
    admin.autoscaling.hang(GROUP, HOOKED, "nic-attach")
    return admin


class Context:
    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        return lambda: self._values.get(name, "")


def outputs(tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Everything that leaves the process for each event and command, as text."""
    for name in ("NICATTACH_SINK", "K_SINK", "NICATTACH_ALLOWED_PROJECTS", "NICATTACH_AUTH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    hook_event = (ROOT / "events" / "smn-as-hook-launching.json").read_text()
    plain = tmp_path / "plain.json"
    plain.write_text(
        json.dumps({"server_id": SERVER, "project_id": PROJECT, "tags": ["role=db", "env=prod"]})
    )
    hooked = tmp_path / "hooked.json"
    hooked.write_text(hook_event)
    seen: list[str] = []
    for event in (plain, hooked):
        assert cli(["invoke", str(event)]) in (0, 1, 75)
        assert cli(["invoke", "--dry-run", str(event)]) in (0, 1, 75)
    for sweep in (["reconcile", "--all"], ["reconcile", "--all", "--dry-run"], ["reconcile"]):
        assert cli(sweep) in (0, 1, 75)
    try:
        app = create_app("handle_event", str(ROOT / "function" / "main.py"))
    except SystemExit as refused:  # cannot start (Keystone refused): its message is an output
        return [*seen, str(refused)]
    import main

    timer = {"trigger_type": "TIMER", "user_event": '{"nicattach": "reconcile"}'}
    for event in (json.loads(plain.read_text()), json.loads(hook_event), timer):
        response = app.test_client().post("/", json=event)
        seen += [response.get_data(as_text=True), json.dumps(dict(response.headers))]
        try:
            seen.append(json.dumps(main.handler(event, Context({}))))
        except Exception as exc:  # noqa: BLE001 - the message is what we inspect
            seen.append(f"{type(exc).__name__}: {exc}")
    return seen


def scan(seen: list[str], caplog: pytest.LogCaptureFixture, capfd: Any) -> str:
    out, err = capfd.readouterr()
    everything = "\n".join([caplog.text, out, err, *seen])
    assert CANARY not in everything, [line for line in everything.splitlines() if CANARY in line][
        :5
    ]
    return everything


@pytest.fixture
def capture(caplog: pytest.LogCaptureFixture) -> None:
    logs.configure("DEBUG")
    caplog.set_level(logging.DEBUG)


@pytest.mark.parametrize("api", ["compute", "autoscaling", "sink"])
def test_an_echoed_token_leaves_by_no_output(
    api: str,
    backend: str,
    emulator: EmulatorServer,
    seeded: AdminClient,
    echo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capture: None,
    caplog: pytest.LogCaptureFixture,
    capfd: Any,
) -> None:
    env = {
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": emulator.url,
        "NICATTACH_NETWORK_ENDPOINT": emulator.url,
        "NICATTACH_TOKEN": CANARY,
        "NICATTACH_PROJECT_ID": PROJECT,
        "NICATTACH_WAIT_ACTIVE_S": "0.3",
        "NICATTACH_AS_ENDPOINT": emulator.url,
        "NICATTACH_LOG_LEVEL": "DEBUG",
    }
    if api == "compute":
        seeded.set_faults(echo_header="x-auth-token")
    elif api == "autoscaling":
        env["NICATTACH_AS_ENDPOINT"] = echo
    else:
        env.update(NICATTACH_SINK="eg://channel-1", NICATTACH_EG_ENDPOINT=echo)
    everything = scan(outputs(tmp_path, env, monkeypatch), caplog, capfd)
    expected = {
        "compute": "Invalid request (got '***')",
        "autoscaling": "callback refused",
        "sink": "EventGrid delivery",
    }[api]
    assert expected in everything  # the echo did happen, and was cut


def test_a_v1_job_failure_that_quotes_the_token_leaks_nothing(
    emulator: EmulatorServer,
    seeded: AdminClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capture: None,
    caplog: pytest.LogCaptureFixture,
    capfd: Any,
) -> None:
    """The emulator cannot put a request header into a job (jobs run after the request);
    its failure code is the one text a test sets: the canary itself."""
    seeded.set_faults(job_fail_rate=1.0, job_fail_code=CANARY)
    env = {
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": emulator.url,
        "NICATTACH_NETWORK_ENDPOINT": emulator.url,
        "NICATTACH_TOKEN": CANARY,
        "NICATTACH_PROJECT_ID": PROJECT,
        "NICATTACH_BACKEND": "huawei-v1",
        "NICATTACH_WAIT_ACTIVE_S": "0.3",
        "NICATTACH_AS_ENDPOINT": emulator.url,
        "NICATTACH_DEADLINE_S": "8",  # every job fails: each run would retry for the default 50 s
    }
    everything = scan(outputs(tmp_path, env, monkeypatch), caplog, capfd)
    assert "job_failed" in everything  # the jobs did fail, and their code was cut


def test_a_keystone_that_echoes_the_password_leaks_nothing(
    emulator: EmulatorServer,
    seeded: AdminClient,
    echo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capture: None,
    caplog: pytest.LogCaptureFixture,
    capfd: Any,
) -> None:
    env = {
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": emulator.url,
        "NICATTACH_AUTH": "keystone",
        "OS_AUTH_URL": f"{echo}/v3",
        "OS_USERNAME": "nicattach",
        "OS_PASSWORD": CANARY,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_NAME": "demo",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "NICATTACH_PROJECT_ID": PROJECT,
    }
    scan(outputs(tmp_path, env, monkeypatch), caplog, capfd)
