"""The command line as a user meets it: `--help` lists each command once, `--version`,
`python -m function`, `invoke -` (stdin), JSON lines, `validate --backend`, the read-only
`check`, the dry run's current NICs; the walkthrough of docs/huawei-v1.md as written; the
docs/guest-networking.md `jq` recipe on what an HTTP sink receives; a bare CTS body is
labelled `cts`."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import PROJECT  # the sample project, defined once (tests/support.py)
from test_sink import FakeSink

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app.wiring import build_service
from function.cli import main
from function.config import Settings
from function.sources.inbound import decode_request

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
BIN = ROOT / ".venv" / "bin"
CLI = str(BIN / "nic-autoattach") if (BIN / "nic-autoattach").exists() else "nic-autoattach"
ONE = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
BATCH = ("7b2d4c8f-1e6c-4d2f-8b68-3a8e1d3caf22", "8c3e5d90-2f7d-4e30-9c79-4b9f2e4db033")
NETWORKS = {"3cb9bc59-5699-4588-a4b1-b87f96708bc6", "0dc714fa-9022-4a03-bb22-9821a396bb9d"}
SECURITY_GROUPS = """version: 1
rules:
  - name: web
    when: {role: web}
    attach:
      - net_id: 3cb9bc59-5699-4588-a4b1-b87f96708bc6
        security_groups: [5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b]
"""


def test_help_lists_every_command_once(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ("invoke", "reconcile", "validate", "check", "explain", "emulator"):
        assert len(re.findall(rf"^ +{command}\b", text, re.MULTILINE)) == 1, command


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"nic-autoattach \d+\.\d+\.\d+\n", capsys.readouterr().out)


def test_python_m_function_is_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "function", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: nic-autoattach")


def test_invoke_reads_stdin_and_a_batch_prints_json_lines(function_env: None) -> None:
    body = (EVENTS / "cts-create-servers-batch.json").read_bytes()
    done = subprocess.run(
        [CLI, "invoke", "-"],
        input=body,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    events = [json.loads(line) for line in lines]  # one structured CloudEvent per line
    assert [(e["specversion"], e["subject"]) for e in events] == [("1.0", s) for s in BATCH]
    assert all(e["data"]["trigger"]["type"] == "cts" for e in events)


def test_validate_refuses_what_the_backend_cannot_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "groups.yaml"
    policy.write_text(SECURITY_GROUPS)
    assert main(["validate", "--backend", "nova", str(policy)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "attach[0].security_groups: the nova backend cannot set security groups" in line
    assert main(["validate", "--backend", "huawei-v1", str(policy)]) == 0
    monkeypatch.setenv("NICATTACH_BACKEND", "huawei-v1")  # the default follows the variable
    assert main(["validate", str(policy)]) == 0
    monkeypatch.setenv("NICATTACH_BACKEND", "nova")
    assert main(["validate", str(policy)]) == 1


def test_check_reads_only_and_checks_the_networks(
    backend: str,
    function_env: None,
    admin: AdminClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin.clear_requests()
    assert main(["check", "--project", PROJECT]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ok") and f"{backend} backend" in out[0]
    assert out[1].startswith("ok") and "credentials accepted" in out[1]
    networks = [line for line in out if line.split()[1] == "network"]
    assert {line.split()[2] for line in networks} == NETWORKS
    assert all(line.startswith("ok") for line in networks), out
    assert {r["method"] for r in admin.requests_log()} == {"GET"}
    monkeypatch.setenv("NICATTACH_TOKEN", "wrong-token")
    assert main(["check", "--project", PROJECT]) == 75  # 401: unauthorized, retryable
    assert capsys.readouterr().out.splitlines()[-1].startswith("RETRY     compute API")


def test_check_refuses_a_project_outside_the_allowlist(
    function_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NICATTACH_ALLOWED_PROJECTS", "someone-else")
    assert main(["check", "--project", PROJECT]) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("FAIL")


def test_the_dry_run_shows_the_nics_a_server_has_now(
    backend: str, function_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    event = str(EVENTS / "cts-create-server.json")
    assert main(["invoke", event]) == 0
    capsys.readouterr()
    assert main(["invoke", "--dry-run", event]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    view = json.loads(line)
    assert view["would_attach"] == []
    assert NETWORKS <= {i["net_id"] for i in view["interfaces"]}
    mine = {i["net_id"]: i["mine"] for i in view["interfaces"]}
    if backend == "nova":  # the emulator offers 2.70: the function's NICs carry its mark
        assert all(mine[net] is True for net in NETWORKS)
        assert not all(mine.values()), "the server's first NIC is not the function's"
    else:  # the v1 API shows no mark
        assert set(mine.values()) == {None}


def test_a_bare_cts_body_is_labelled_cts_not_bare_json() -> None:
    body = (EVENTS / "cts-create-server.json").read_bytes()
    trigger, _ = decode_request({"Content-Type": "application/json"}, body)
    assert trigger.type == "cts"
    trigger, _ = decode_request({}, b'{"server_id": "x"}')
    assert trigger.type == "bare-json"


def test_the_jq_recipe_works_on_what_an_http_sink_receives(
    emulator: EmulatorServer, admin: AdminClient, tmp_path: Path
) -> None:
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed")
    doc = (ROOT / "docs" / "guest-networking.md").read_text()
    (command,) = re.findall(r"^\$ (jq -r .*) body\.json$", doc, re.MULTILINE)
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    with FakeSink() as sink:
        service = build_service(
            Settings.from_env(
                {
                    "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
                    "NICATTACH_ECS_ENDPOINT": emulator.url,
                    "NICATTACH_TOKEN": "emulator-token",
                    "NICATTACH_SINK": sink.url,
                }
            )
        )
        body = json.dumps(
            {"server_id": ONE, "project_id": PROJECT, "tags": ["role=db", "env=prod"]}
        ).encode()
        assert service.handle({"Content-Type": "application/json"}, body).status == 200
    ((headers, received),) = sink.received
    assert headers["ce-subject"] == ONE
    (tmp_path / "body.json").write_bytes(received)
    done = subprocess.run(
        [*shlex.split(command), "body.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert {net for _, _, net in rows} == NETWORKS
    assert all(re.fullmatch(r"[0-9a-f:]{17}", mac) and ip for mac, ip, _ in rows)


@pytest.fixture
def emulator_port() -> Iterator[str]:
    process = subprocess.Popen(
        [CLI, "emulator", "--port", "0", "--seed", "examples/emulator-seed.json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("emulator listening on http://"), line + process.stderr.read()
        yield line.split()[-1].removeprefix("http://")
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_huawei_v1_walkthrough_as_written(emulator_port: str) -> None:
    text = (ROOT / "docs" / "huawei-v1.md").read_text()
    section = text[text.index("## Walkthrough against the emulator") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    commands = [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]
    assert commands[0][:3] == [".venv/bin/nic-autoattach", "emulator", "--port"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NICATTACH_")}
    env.pop("K_SINK", None)
    printed = []
    for command in commands[1:]:
        if command[0] == "export":
            for pair in command[1:]:
                name, value = pair.replace("127.0.0.1:8774", emulator_port).split("=", 1)
                env[name] = value
            continue
        assert command[:2] == [".venv/bin/nic-autoattach", "invoke"]
        done = subprocess.run(
            [CLI, *command[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        (line,) = done.stdout.splitlines()
        printed.append(json.loads(line))
    dry, first, again = printed
    assert dry["rules"] == ["db-storage", "db-backup"] and "interfaces" in dry
    assert {n["net_id"] for n in dry["would_attach"]} == NETWORKS
    assert (first["type"], first["data"]["status"]) == (
        "nicattach.attachment.completed",
        "attached",
    )
    assert again["data"]["status"] == "already_attached"
    log = AdminClient("http://" + emulator_port).requests_log()
    posts = [r["path"] for r in log if r["method"] == "POST" and "/v2.0/" not in r["path"]]
    assert len(posts) == 2 and all(p.endswith(f"/cloudservers/{ONE}/nics") for p in posts)
    ports = [r for r in log if r["method"] == "POST" and r["path"].endswith("/v2.0/ports")]
    assert len(ports) == 2  # one port named first per NIC
