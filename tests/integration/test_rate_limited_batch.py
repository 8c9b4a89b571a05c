"""A batch against an API that rate-limits: the adaptive gate gets every server through.

The emulator's token bucket and the function share one ``VirtualTime``: the function's
pauses (``Retry-After``, its pace) are what refills the bucket, and nothing really sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import PROJECT, VirtualTime, service

from emulator.client import AdminClient
from emulator.control.ratelimit import RateLimits
from emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
STORAGE = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
BACKUP = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def virtual() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def limited(virtual: VirtualTime, emulator_token: str) -> Iterator[EmulatorServer]:
    limits = RateLimits(rate=10.0, burst=10.0, clock=virtual.clock)
    with EmulatorServer(tokens=(emulator_token,), ratelimit=limits) as server:
        yield server


def test_a_batch_past_the_rate_limit_attaches_every_server(
    limited: EmulatorServer, virtual: VirtualTime, backend: str
) -> None:
    admin = AdminClient(limited.url)
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    one = {"project_id": PROJECT, "tags": ["role=db", "env=prod"]}
    ids = [s["id"] for s in admin.seed({"servers": [one] * 12})["servers"]]
    trace = json.loads((ROOT / "events" / "cts-create-servers-batch.json").read_text())
    trace["cts"]["response"] = {"job_id": "job-1", "serverIds": ids}
    svc = service(limited.url, timing=virtual.timing, backend=backend, deadline_s=120.0)
    try:
        reply = svc.handle(JSON, json.dumps(trace).encode())
    finally:
        svc.session.close()
    assert reply.status == 200, reply.body[:500]
    for server in ids:
        nets = sorted(i["net_id"] for i in admin.interfaces(server))
        assert nets == sorted([STORAGE, BACKUP]), server
    assert sum(admin.rate_limit()["throttled"].values()) >= 1  # the limit was reached
