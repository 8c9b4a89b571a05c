"""The README's "Run it locally" walkthrough, step by step, as a user types it.

The emulator is started as the README starts it (``nic-autoattach emulator --seed
examples/emulator-seed.json``, on a free port whose URL it prints), the function gets the
README's three variables, and every sample in ``events/`` goes through ``nic-autoattach
invoke``. ``WALKTHROUGH`` is the expected outcome of each sample, in the order they are sent:
it must agree with the "expected outcome" column of ``events/README.md``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
CLI = str(BIN / "nic-autoattach") if (BIN / "nic-autoattach").exists() else "nic-autoattach"
ONE = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
BATCH = ("7b2d4c8f-1e6c-4d2f-8b68-3a8e1d3caf22", "8c3e5d90-2f7d-4e30-9c79-4b9f2e4db033")
GENERIC = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
POLICY_NETWORKS = {
    "3cb9bc59-5699-4588-a4b1-b87f96708bc6",  # storage (rule db-storage)
    "0dc714fa-9022-4a03-bb22-9821a396bb9d",  # backup (rule db-backup)
}
NEW, AGAIN = "attached", "already_attached"

# sample, in the order sent -> one (server, status) per completion event, or the ignore reason.
# The README's own steps come first (its two curl bodies, then its `invoke` line), then the
# rest of events/README.md's table. A server's first event attaches, every later one finds
# the NICs already there.
WALKTHROUGH: list[tuple[str, list[tuple[str, str]] | str]] = [
    ("server-created.json", [(GENERIC, NEW)]),
    ("generic-object-tags.json", [(GENERIC, AGAIN)]),
    ("cts-create-server.json", [(ONE, NEW)]),
    ("cts-create-servers-batch.json", [(BATCH[0], NEW), (BATCH[1], NEW)]),
    ("cts-create-servers-batch-job.json", [(BATCH[0], AGAIN), (BATCH[1], AGAIN)]),
    ("cts-server-tags-changed.json", [(ONE, AGAIN)]),
    ("eventgrid-cts-create-server.json", [(ONE, AGAIN)]),
    ("nova-instance-create-end.json", [(ONE, AGAIN)]),
    ("nova-instance-create-end-oslo.json", [(ONE, AGAIN)]),
    ("nova-instance-update-tags.json", [(ONE, AGAIN)]),
    ("knative-rabbitmq-instance-create-end.json", [(ONE, AGAIN)]),
    ("smn-as-hook-launching.json", [(ONE, AGAIN)]),  # hook reported, not answered: no AS endpoint
    ("smn-as-hook-terminating.json", "skipped: instance_terminating"),
    ("cts-delete-server.json", "skipped: server_deleted"),  # the server stays: nothing done
    ("nova-instance-delete-end.json", "skipped: server_deleted"),
    ("generic-no-tags.json", [(GENERIC, AGAIN)]),
    ("ignored-cts-create-failed.json", "the traced operation failed (code 400)"),
    ("ignored-cts-other-service.json", "not an ECS trace (service_type='EVS')"),
    ("ignored-smn-other-message.json", "not an Auto Scaling lifecycle hook notification"),
]


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """`nic-autoattach emulator --port 0 --seed examples/emulator-seed.json`, as the README."""
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
        yield line.split()[-1]
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.fixture(scope="module")
def readme_env(emulator_url: str) -> dict[str, str]:
    """The README's `export` line, in an environment without any other NICATTACH_ setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NICATTACH_")}
    env.pop("K_SINK", None)
    env.update(
        NICATTACH_POLICY="examples/policy.yaml",
        NICATTACH_ECS_ENDPOINT=emulator_url,
        NICATTACH_TOKEN="emulator-token",
    )
    return env


def invoke(sample: str, env: dict[str, str]) -> tuple[int, list[dict[str, Any]], str]:
    """`nic-autoattach invoke events/SAMPLE`: exit code, the JSON lines printed, stderr."""
    done = subprocess.run(
        [CLI, "invoke", f"events/{sample}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    documents = [json.loads(line) for line in done.stdout.splitlines()]  # one per line
    return done.returncode, documents, done.stderr


def check_completed(
    sample: str, printed: list[dict[str, Any]], expected: list[tuple[str, str]], admin: AdminClient
) -> None:
    assert [(e["subject"], e["data"]["status"]) for e in printed] == expected, sample
    for event in printed:
        assert event["type"] == "nicattach.attachment.completed", sample
        assert event["data"]["project_id"] == PROJECT
        assert event["data"]["rules"] == ["db-storage", "db-backup"]
        reported = {(i["net_id"], i["mac_addr"]) for i in event["data"]["interfaces"]}
        on_policy = [
            i for i in admin.interfaces(event["subject"]) if i["net_id"] in POLICY_NETWORKS
        ]
        assert sorted(i["net_id"] for i in on_policy) == sorted(POLICY_NETWORKS), sample
        assert reported == {(i["net_id"], i["mac_addr"]) for i in on_policy}, sample


def test_the_seed_holds_every_server_the_samples_name() -> None:
    seed = json.loads((ROOT / "examples" / "emulator-seed.json").read_text())
    seeded = {s["id"] for s in seed["servers"] if s["project_id"] == PROJECT}
    named = {sid for _, outcome in WALKTHROUGH if isinstance(outcome, list) for sid, _ in outcome}
    assert named <= seeded
    samples = {p.name for p in (ROOT / "events").glob("*.json")}
    assert {name for name, _ in WALKTHROUGH} == samples, "every sample has its expected outcome"


def test_every_sample_has_its_documented_outcome(
    emulator_url: str, readme_env: dict[str, str]
) -> None:
    admin = AdminClient(emulator_url)
    for sample, expected in WALKTHROUGH:
        code, printed, stderr = invoke(sample, readme_env)
        assert code == 0, f"{sample}: exit {code}\n{stderr}"
        if isinstance(expected, str) and expected.startswith("skipped: "):
            assert [(e["type"], e["data"]["reason"]) for e in printed] == [
                ("nicattach.attachment.skipped", expected.removeprefix("skipped: "))
            ], sample
        elif isinstance(expected, str):
            assert len(printed) == 1 and printed[0]["outcome"] == "ignored", sample
            assert expected in printed[0]["reason"], sample
        else:
            check_completed(sample, printed, expected, admin)
    attaches = [
        r for r in admin.requests_log() if r["method"] == "POST" and "os-interface" in r["path"]
    ]
    assert len(attaches) == 4 * len(POLICY_NETWORKS), "one attach per server and policy network"


def test_knative_delivers_the_rabbitmq_event_in_binary_mode(
    function_env: None, admin: AdminClient
) -> None:
    """The RabbitMQ source posts binary mode: attributes as ce-* headers, the body as is."""
    event = json.loads((ROOT / "events" / "knative-rabbitmq-instance-create-end.json").read_text())
    headers = {f"ce-{k}": v for k, v in event.items() if k not in ("data", "datacontenttype")}
    headers["Content-Type"] = event["datacontenttype"]
    client = create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()
    response = client.post("/", data=json.dumps(event["data"]), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["ce-type"] == "nicattach.attachment.completed"
    assert response.headers["ce-subject"] == ONE
    assert response.get_json()["status"] == NEW
    assert response.get_json()["trigger"]["type"] == "dev.knative.rabbitmq.event"
    assert POLICY_NETWORKS <= {i["net_id"] for i in admin.interfaces(ONE)}
