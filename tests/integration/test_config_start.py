"""Configuration mistakes stop ``nic-autoattach invoke`` and the HTTP start with one line
per problem, all of them at once, never a secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from function.cli import main

ROOT = Path(__file__).resolve().parents[2]
WRONG = {
    "NICATTACH_LOG_LEVEL": "LOUD",
    "NICATTACH_DEADLINE_S": "nan",
    "NICATTACH_MAX_BODY_BYTES": "-1",
}
SECRET = "canary-t0ken"


def test_invoke_prints_each_problem_on_its_own_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NICATTACH_POLICY", str(ROOT / "examples" / "policy.yaml"))
    monkeypatch.setenv("NICATTACH_ECS_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("NICATTACH_TOKEN", SECRET)
    for name, value in WRONG.items():
        monkeypatch.setenv(name, value)
    assert main(["invoke", str(ROOT / "events" / "server-created.json")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3, err
    for name, line in zip(WRONG, err, strict=True):
        assert line.startswith(f"nic-autoattach: {name} "), err
    assert SECRET not in "".join(err)


def test_http_start_prints_each_problem_on_its_own_line() -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": "http://127.0.0.1:9",
        "NICATTACH_TOKEN": SECRET + "\ninner",
        **WRONG,
    }
    done = subprocess.run(
        [sys.executable, "-c", "import function.main"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    logged = [json.loads(line)["message"] for line in lines if line.startswith("{")]
    plain = [line for line in lines if not line.startswith("{")]
    expected = [*WRONG, "NICATTACH_TOKEN"]
    for shown in (logged, plain):
        assert len(shown) == len(expected), lines
        assert sorted(m.split(": ", 1)[1].split(" ")[0] for m in shown) == sorted(expected)
        assert all(m.startswith("nic-autoattach cannot start: ") for m in shown)
    assert SECRET not in done.stderr and "inner" not in done.stderr
