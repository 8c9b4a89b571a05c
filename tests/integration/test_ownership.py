"""Ownership held in the cloud: what another delivery must know is written into the
cloud (a port the function named before it attached it), never kept in one process.

Every delivery here runs on a fresh ``Service`` (new wiring, new backend, new memory):
what a platform does when a redelivery lands on another instance. The emulator runs on
an adjustable clock, so a NIC job "slower than the deadline" stays running until the
test moves the clock on, without sleeping.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import PROJECT
from test_reliability import STORAGE, deliver

from emulator.client import AdminClient
from emulator.compute.models import FakeBackend
from emulator.core.clock import AdjustableClock
from emulator.server import EmulatorServer
from function.app.service import Service
from function.app.wiring import build_service
from function.config import Settings
from function.transport.session import Session

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "emulator-token"
BOOT = "a1a1a1a1-0000-4000-8000-00000000b007"


class Cloud:
    def __init__(self, server: EmulatorServer, clock: AdjustableClock) -> None:
        self.server, self.clock = server, clock
        self.admin = AdminClient(server.url)
        self.admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
        self.admin.create_network("192.168.0.0/16", id=BOOT, name="boot")

    def service(self, policy: Path, **values: Any) -> Service:
        """A fresh instance of the function: nothing of an earlier delivery's memory."""
        base: dict[str, Any] = dict(
            policy_path=str(policy), ecs_endpoint=self.server.url, token=TOKEN,
            wait_active_s=5.0, deadline_s=20.0, wait_port_active_s=0.0,
            backend=os.environ["NICATTACH_BACKEND"],
        )  # fmt: skip
        if "network_endpoint" in Settings.__dataclass_fields__:
            base["network_endpoint"] = self.server.url  # the emulator serves /v2.0/ports too
        return build_service(Settings(**{**base, **values}), session=Session())

    def deliver(self, policy: Path, server_id: str, **values: Any) -> tuple[int, dict[str, Any]]:
        service = self.service(policy, **values)
        try:
            return deliver(service, {"server_id": server_id, "project_id": PROJECT,
                                     "tags": ["role=db"]})  # fmt: skip
        finally:
            service.session.close()

    def on(self, server_id: str, net_id: str) -> list[str]:
        return sorted(i["port_id"] for i in self.admin.interfaces(server_id)
                      if i["net_id"] == net_id)  # fmt: skip

    def detaches(self) -> list[dict[str, Any]]:
        return [r for r in self.admin.requests_log()
                if r["method"] == "DELETE" and "/os-interface/" in r["path"]
                or r["method"] == "POST" and r["path"].endswith("/nics/delete")]  # fmt: skip


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    clock = AdjustableClock()
    with EmulatorServer(backend=FakeBackend(clock=clock), tokens=(TOKEN,)) as server:
        yield Cloud(server, clock)


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "one.yaml"
    path.write_text("version: 1\nrules:\n  - name: one\n    when: {role: db}\n"
                    f"    attach:\n      - {{net_id: {STORAGE}}}\n")  # fmt: skip
    return path


@pytest.fixture
def v1(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NICATTACH_BACKEND", "huawei-v1")
    return "huawei-v1"


def test_a_job_slower_than_the_deadline_redelivered_to_fresh_instances_makes_one_nic(
    cloud: Cloud, v1: str, policy: Path
) -> None:
    """Issue 20.1: jobs of 3 s, deadline 1 s, each delivery a fresh process."""
    cloud.admin.set_ecs_options(job_seconds=3.0)
    server = cloud.admin.create_server(PROJECT, tags=["role=db"],
                                       interfaces=[{"net_id": BOOT}])["id"]  # fmt: skip
    for _ in range(3):
        status, body = cloud.deliver(policy, server, deadline_s=1.0)
        assert status == 503 and body["error"]["retryable"] is True, body
    cloud.clock.advance(10.0)  # every job started so far has ended
    status, body = cloud.deliver(policy, server)
    assert status == 200, body
    assert len(cloud.on(server, STORAGE)) == 1, cloud.admin.interfaces(server)
    assert not body.get("suspected_duplicates"), body


def test_a_running_job_is_not_a_full_quota(cloud: Cloud, v1: str, policy: Path) -> None:
    """Issue 20.2: room for exactly the policy's NIC, its job still running: the
    redelivery waits for that job (retryable), it never fails permanently (a hook would
    be answered ABANDON and a good instance removed)."""
    cloud.admin.set_ecs_options(job_seconds=30.0)
    server = cloud.admin.create_server(PROJECT, tags=["role=db"],
                                       interfaces=[{"net_id": BOOT}])["id"]  # fmt: skip
    cloud.admin.set_ecs_options(server_max_nics={server: 2})
    status, body = cloud.deliver(policy, server, deadline_s=1.0)
    assert status == 503 and body["error"]["code"] == "job_pending", body
    status, body = cloud.deliver(policy, server, deadline_s=1.0)  # another instance
    assert status == 503 and body["error"]["retryable"] is True, body
    cloud.clock.advance(60.0)
    status, body = cloud.deliver(policy, server)
    assert status == 200, body
    assert len(cloud.on(server, STORAGE)) == 1


@pytest.mark.parametrize("backend_name", ["nova", "huawei-v1"])
def test_boot_nics_of_a_building_server_are_never_detached(
    cloud: Cloud, policy: Path, backend_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20.3: two boot NICs on the policy network, the event arrives while the
    server builds (its first read is empty): neither boot NIC is the function's."""
    monkeypatch.setenv("NICATTACH_BACKEND", backend_name)
    server = cloud.admin.create_server(
        PROJECT, tags=["role=db"], status="BUILD", build_seconds=2.0,
        interfaces=[{"net_id": STORAGE}, {"net_id": STORAGE}],
    )["id"]  # fmt: skip
    boot = cloud.on(server, STORAGE)
    assert len(boot) == 2
    status, body = cloud.deliver(policy, server)
    assert status == 200, body
    assert cloud.on(server, STORAGE) == boot
    assert cloud.detaches() == []
