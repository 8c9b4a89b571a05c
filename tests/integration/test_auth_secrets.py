"""No secret leaks: in every auth mode a full event flow (success, a failure, a sink) runs with
distinctive secret values, and none of them shows up in logs (caplog and the JSON lines on
stderr), replies, emitted events, exception messages or reprs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.identity.keystone import FakeKeystone
from emulator.server import EmulatorServer, FakeCloudServer
from function import logs
from function.app.wiring import build_service
from function.config import Settings
from function.delivery import emit

ROOT = Path(__file__).resolve().parents[2]
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
GHOST_RULE = """
  - name: ghost
    when: {role: ghost}
    attach: [{net_id: 11111111-2222-4333-8444-555555555555}]
"""
SECRETS = {
    "password": "Zq9-PASSWORD-leak-canary-1",
    "app": "Zq9-APPCRED-leak-canary-2",
    "sk": "Zq9-SECRETKEY-leak-canary-3",
    "sts": "Zq9-STSTOKEN-leak-canary-4",
    "token": "Zq9-FIXEDTOKEN-leak-canary-5",
}
AK = "AKLEAKCANARY00000001"


@pytest.fixture
def cloud(emulator: EmulatorServer, admin: AdminClient) -> Iterator[FakeCloudServer]:
    seed = json.loads((ROOT / "examples" / "emulator-seed.json").read_text())
    admin.seed(seed)
    keystone = FakeKeystone(project_id=PROJECT)
    keystone.users["nicattach"] = ("user-1", SECRETS["password"])
    keystone.app_credentials["ac-1"] = SECRETS["app"]
    keystone.access_keys[AK] = (SECRETS["sk"], SECRETS["sts"])
    keystone.fixed_tokens.add(SECRETS["token"])
    with FakeCloudServer(keystone, emulator.backend) as server:
        yield server


def mode_env(mode: str, cloud: FakeCloudServer) -> dict[str, str]:
    aksk = {
        "HUAWEICLOUD_SDK_AK": AK,
        "HUAWEICLOUD_SDK_SK": SECRETS["sk"],
        "HUAWEICLOUD_SDK_SECURITY_TOKEN": SECRETS["sts"],
        "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
    }
    keystone = {
        "NICATTACH_AUTH": "keystone",
        "OS_AUTH_URL": cloud.auth_url,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_NAME": "demo",
        "OS_PROJECT_DOMAIN_NAME": "Default",
    }
    return {
        "token": {
            "NICATTACH_TOKEN": SECRETS["token"],
            "NICATTACH_ECS_ENDPOINT": cloud.compute_url,
            "NICATTACH_PROJECT_ID": PROJECT,
        },
        "keystone-password": {
            **keystone,
            "OS_USERNAME": "nicattach",
            "OS_PASSWORD": SECRETS["password"],
        },
        "keystone-appcred": {
            **keystone,
            "OS_APPLICATION_CREDENTIAL_ID": "ac-1",
            "OS_APPLICATION_CREDENTIAL_SECRET": SECRETS["app"],
        },
        "aksk": {"NICATTACH_AUTH": "aksk", "NICATTACH_ECS_ENDPOINT": cloud.compute_url, **aksk},
        "functiongraph": {
            "NICATTACH_AUTH": "functiongraph",
            "RUNTIME_PROJECT_ID": PROJECT,
            "NICATTACH_ECS_ENDPOINT": cloud.compute_url,
        },
    }[mode]


class Context:
    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Callable[[], str]:
        return lambda: self._values.get(name, "")


def run_flows(mode: str, cloud: FakeCloudServer, policy: Path, monkeypatch: Any) -> list[str]:
    """Everything the outside world sees of a run: replies, events, exception messages."""
    env = {
        "NICATTACH_POLICY": str(policy),
        "NICATTACH_WAIT_ACTIVE_S": "1",
        "NICATTACH_LOG_LEVEL": "DEBUG",
        "NICATTACH_SINK": "eg://channel-1",
        "NICATTACH_EG_ENDPOINT": cloud.url,
        **mode_env(mode, cloud),
    }
    for name in ["NICATTACH_PROJECT_ID", "NICATTACH_ALLOWED_PROJECTS", "K_SINK"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    seen: list[str] = []
    events = [
        {"server_id": SERVER, "project_id": PROJECT, "tags": tags}
        for tags in (["role=db", "env=prod"], ["role=ghost"], ["role=web"])
    ]
    events.append({"server_id": SERVER, "project_id": "other-project"})
    app = create_app("handle_event", str(ROOT / "function" / "main.py"))
    import main

    context = Context(
        {
            "getSecurityAccessKey": AK,
            "getSecuritySecretKey": SECRETS["sk"],
            "getSecurityToken": SECRETS["sts"],
            "getProjectID": PROJECT,
        }
    )
    for event in events:
        response = app.test_client().post("/", json=event)
        seen += [response.get_data(as_text=True), json.dumps(dict(response.headers))]
        try:
            seen.append(json.dumps(main.handler(event, context)))
        except Exception as exc:  # noqa: BLE001 - the message is what we inspect
            seen.append(f"{type(exc).__name__}: {exc}")
    seen += [repr(main.SERVICE.auth), repr(main.SERVICE.settings), repr(main.SERVICE.sink)]
    seen += [json.dumps(e) for e in cloud.eventgrid.published]
    return seen


@pytest.mark.parametrize(
    "mode", ["token", "keystone-password", "keystone-appcred", "aksk", "functiongraph"]
)
def test_no_secret_anywhere(
    mode: str,
    cloud: FakeCloudServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text((ROOT / "examples" / "policy.yaml").read_text() + GHOST_RULE)
    logs.configure("DEBUG")
    caplog.set_level(logging.DEBUG)
    seen = run_flows(mode, cloud, policy, monkeypatch)
    out, err = capfd.readouterr()
    assert err.strip(), "the JSON log lines on stderr were not captured"
    outputs = "\n".join([caplog.text, out, err, *seen])
    assert '"type": "nicattach.attachment.completed"' in outputs or "completed" in outputs
    leaked = [name for name, value in SECRETS.items() if value in outputs]
    leaked += [t for t in cloud.keystone.issued if t in outputs]
    assert not leaked, f"{mode}: leaked {leaked}"
    for marker in ("Signature=", "SDK-HMAC-SHA256 Access", "X-Security-Token", 'X-Auth-Token": "'):
        assert marker not in outputs, marker
    assert cloud.keystone.rejected == [] or mode == "functiongraph"


def test_sink_reprs_and_settings_hide_secrets(cloud: FakeCloudServer) -> None:
    env = {"NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"), **mode_env("aksk", cloud)}
    settings = Settings.from_env(env)
    service = build_service(settings)
    sink = emit.sink_from_settings(settings, service.session, service.auth)
    texts = [repr(settings), str(settings), repr(service.auth), repr(sink)]
    assert not [v for v in SECRETS.values() for t in texts if v in t]
