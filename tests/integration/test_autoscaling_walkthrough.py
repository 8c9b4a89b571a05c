"""docs/autoscaling.md's walkthrough, run as written: the emulator command, each curl, the
export line and each `nic-autoattach invoke`, in order (port 8774 replaced by a free one);
then the results the doc lists under the block."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "autoscaling.md"
BIN = ROOT / ".venv" / "bin"
CLI = str(BIN / "nic-autoattach") if (BIN / "nic-autoattach").exists() else "nic-autoattach"
GROUP = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"
SERVER = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
CALLBACK = f"/autoscaling-api/v1/0605767a5a80d5762fe6c0125d3c5b0e/scaling_instance_hook/{GROUP}"


def walkthrough() -> list[list[str]]:
    """The commands of the doc's walkthrough block, split like a shell would."""
    text = DOC.read_text()
    section = text[text.index("## Walkthrough against the emulator") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]


@pytest.fixture
def emulator_url() -> Iterator[str]:
    command = walkthrough()[0]
    # as the README: the venv's command, which `make demo` builds
    assert command[:3] == [".venv/bin/nic-autoattach", "emulator", "--port"] and command[-1] == "&"
    args = [CLI, *command[1:-1]]
    args[args.index("--port") + 1] = "0"
    process = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("emulator listening on http://"), line + process.stderr.read()
        yield line.split()[-1]
    finally:
        process.terminate()
        process.communicate(timeout=10)


def run(command: list[str], url: str, env: dict[str, str]) -> Any:
    """One line of the block: a curl (its JSON answer), an export, or an invoke."""
    local = url.removeprefix("http://")

    def here(text: str) -> str:
        return text.replace("localhost:8774", local).replace("127.0.0.1:8774", local)

    if command[0] == "curl":
        method = command[command.index("-X") + 1] if "-X" in command else "GET"
        target = next(c for c in command if ":8774" in c)
        data = command[command.index("-d") + 1] if "-d" in command else None
        answer = requests.request(
            method,
            "http://" + here(target),
            data=data,
            timeout=10,
            headers={"Content-Type": "application/json"},
        )
        assert answer.ok, answer.text
        return answer.json()
    if command[0] == "export":
        for pair in command[1:]:
            name, value = here(pair).split("=", 1)
            env[name] = value
        return None
    assert command[:2] == [".venv/bin/nic-autoattach", "invoke"]
    done = subprocess.run(
        [CLI, *command[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_walkthrough_as_written(emulator_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NICATTACH_")}
    env.pop("K_SINK", None)
    results = [run(command, emulator_url, env) for command in walkthrough()[1:]]
    group, hanging, _, first, again, log, state = results
    assert group["scaling_group"]["hooks"][0]["lifecycle_hook_name"] == "nic-attach"
    assert hanging["instance_hanging_info"]["lifecycle_hook_status"] == "HANGING"
    assert (first["type"], first["data"]["status"]) == (
        "nicattach.attachment.completed",
        "attached",
    )
    assert first["data"]["lifecycle"] == {
        "scaling_group_id": GROUP,
        "hook": "nic-attach",
        "result": "CONTINUE",
        "detail": "released",
    }
    assert again["data"]["status"] == "already_attached"
    assert again["data"]["lifecycle"]["detail"] == "already released"
    calls = [(r["method"], r["path"], r["status"]) for r in log["requests"]]
    attaches = [c for c in calls if c[0] == "POST" and c[1].endswith("/os-interface")]
    autoscaling = [c for c in calls if c[1].startswith("/autoscaling-api/")]
    assert len(attaches) == 2
    assert autoscaling == [
        ("PUT", f"{CALLBACK}/callback", 204),
        ("PUT", f"{CALLBACK}/callback", 400),
        ("GET", f"{CALLBACK}/list", 200),
    ]
    assert calls.index(autoscaling[0]) > max(calls.index(a) for a in attaches)
    callback = next(r for r in log["requests"] if r["status"] == 204)
    assert json.loads(callback["body"])["lifecycle_action_result"] == "CONTINUE"
    [record] = state["hanging"]
    assert (record["instance_id"], record["lifecycle_hook_status"]) == (SERVER, "CONTINUE")
    assert [a["result"] for a in state["answers"]] == ["CONTINUE"]
