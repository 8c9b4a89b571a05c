"""``python -m emulator``: one line on stdout with the URL, serves, exits 0 on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "emulator-seed.json"


def run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serves_the_seed_until_signalled(tmp_path: Path, stop: signal.Signals) -> None:
    seed = json.loads(SEED.read_text())
    project, server = seed["servers"][0]["project_id"], seed["servers"][0]["id"]
    process = run("--seed", str(SEED), "--token", "cli-token", "--build-seconds", "0")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("emulator listening on http://127.0.0.1:")
        url = line.split()[-1]
        answer = requests.get(
            f"{url}/v2.1/{project}/servers/{server}",
            headers={"X-Auth-Token": "cli-token"},
            timeout=5,
        )
        assert answer.status_code == 200
    finally:
        process.send_signal(stop)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert out == ""  # exactly one line in all


def test_bad_seed_exits_2(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text('{"networks": [{"cidr": "nope"}]}')
    process = run("--seed", str(seed))
    out, err = process.communicate(timeout=10)
    assert process.returncode == 2 and out == ""
    assert "cannot load seed" in err


def test_help_names_the_command_users_type() -> None:
    process = run("--help")
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert out.startswith("usage: nic-autoattach emulator ")
    assert "python -m emulator" not in out


def test_latency_options_set_the_profile_at_start() -> None:
    process = run("--latency", "cloud", "--latency-attach-ms", "500-1500", "--latency-seed", "7")
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[-1]
        profile = requests.get(f"{url}/_admin/latency", timeout=5).json()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert profile == {
        "profile": "custom",
        "read_ms": 100.0,
        "attach_ms": [500.0, 1500.0],
        "detach_ms": 1000.0,
        "jitter": 0.2,
        "seed": 7,
    }


@pytest.mark.parametrize(
    "option", [["--latency-attach-ms", "3000-1000"], ["--latency-jitter", "2"]]
)
def test_a_bad_latency_exits_2(option: list[str]) -> None:
    process = run(*option)
    out, err = process.communicate(timeout=10)
    assert (process.returncode, out) == (2, "")
    assert "emulator:" in err
