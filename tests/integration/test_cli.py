"""The nic-autoattach command: invoke (+ --dry-run) exit codes, validate, explain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from function.cli import main

ONE = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"  # the server of the CTS and Nova samples

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"


@pytest.fixture
def env(function_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NICATTACH_WAIT_ACTIVE_S", "0.3")


def write(tmp_path: Path, body: object) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(body))
    return str(path)


def test_invoke_prints_structured_events_and_exits_0(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", str(EVENTS / "server-created.json")]) == 0
    event = json.loads(capsys.readouterr().out)
    assert event["specversion"] == "1.0"
    assert event["type"] == "nicattach.attachment.completed"


def test_invoke_exit_codes(backend: str, env: None, admin: AdminClient, tmp_path: Path) -> None:
    ghost_policy = tmp_path / "ghost.yaml"
    ghost_policy.write_text(
        "version: 1\nrules:\n  - name: ghost\n    when: {}\n    attach:\n"
        "      - net_id: 11111111-2222-4333-8444-555555555555\n"
    )
    event = write(tmp_path, {"server_id": SERVER, "project_id": PROJECT, "tags": ["a=b"]})
    assert main(["invoke", event, "--policy", str(ghost_policy)]) == 1  # network not found
    building = "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b"
    admin.create_server(PROJECT, tags=["role=db", "env=prod"], id=building, status="BUILD")
    event = write(tmp_path, {"server_id": building, "project_id": PROJECT})
    assert main(["invoke", event]) == 75  # still BUILD after NICATTACH_WAIT_ACTIVE_S
    assert main(["invoke", write(tmp_path, {"server_id": "nope"})]) == 2
    assert main(["invoke", str(tmp_path / "missing.json")]) == 2
    assert main(["invoke", str(EVENTS / "ignored-cts-other-service.json")]) == 0


def test_dry_run_only_reads(
    backend: str, env: None, admin: AdminClient, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.clear_requests()
    assert main(["invoke", "--dry-run", str(EVENTS / "generic-no-tags.json")]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["tags"] == ["env=prod", "role=db", "team=payments"]
    assert view["rules"] == ["db-storage", "db-backup"]
    assert [p["net_id"] for p in view["would_attach"]] == [
        "3cb9bc59-5699-4588-a4b1-b87f96708bc6",
        "0dc714fa-9022-4a03-bb22-9821a396bb9d",
    ]
    assert {r["method"] for r in admin.requests_log()} == {"GET"}


def test_a_dry_run_uses_the_exit_codes_of_a_real_run(
    env: None, admin: AdminClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.set_faults(error_rate=1.0)  # every read fails: a retryable error, printed
    assert main(["invoke", "--dry-run", str(EVENTS / "generic-no-tags.json")]) == 75
    assert json.loads(capsys.readouterr().out)["error"]["retryable"] is True
    admin.set_faults(error_rate=0.0)
    assert main(["invoke", "--dry-run", write(tmp_path, {"server_id": "nope"})]) == 2


def test_help_lists_every_command_in_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "``" not in text and ":func:" not in text
    for command in ("invoke", "reconcile", "validate", "explain", "emulator"):
        assert f"  {command}" in text


@pytest.mark.parametrize("name", sorted(p.name for p in EVENTS.glob("*.json")))
def test_invoke_works_for_every_sample(env: None, admin: AdminClient, name: str) -> None:
    # examples/emulator-seed.json holds every server the samples name
    if "delete" in name:  # a delete event is retried until its server is gone
        admin.delete_server(ONE)
    assert main(["invoke", str(EVENTS / name)]) == 0


def test_validate_reports_every_mistake(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "examples" / "policy-invalid-five.yaml")]) == 1
    lines = capsys.readouterr().err.splitlines()  # problems on stderr, like explain's
    assert len(lines) == 5 and all("rule '" in line for line in lines)
    assert main(["validate", str(ROOT / "examples" / "policy.yaml")]) == 0


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    policy = str(ROOT / "examples" / "policy.yaml")
    assert main(["explain", "--policy", policy, "--tag", "role=db", "--tag", "env=dev"]) == 0
    out = capsys.readouterr().out
    assert "no match  'db-storage'" in out and "env" in out


def test_console_script_runs_emulator_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "function.cli", "emulator", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0 and "--port" in result.stdout
