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
import time
import uuid
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
from function.domain.ownership import port_name
from function.domain.policy import NicRequest
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
            policy_path=str(policy),
            ecs_endpoint=self.server.url,
            token=TOKEN,
            wait_active_s=5.0,
            deadline_s=20.0,
            wait_port_active_s=0.0,
            backend=os.environ["NICATTACH_BACKEND"],
        )
        if "network_endpoint" in Settings.__dataclass_fields__:
            base["network_endpoint"] = self.server.url  # the emulator serves /v2.0/ports too
        return build_service(Settings(**{**base, **values}), session=Session())

    def deliver(self, policy: Path, server_id: str, **values: Any) -> tuple[int, dict[str, Any]]:
        service = self.service(policy, **values)
        try:
            return deliver(
                service, {"server_id": server_id, "project_id": PROJECT, "tags": ["role=db"]}
            )
        finally:
            service.session.close()

    def on(self, server_id: str, net_id: str) -> list[str]:
        return sorted(
            i["port_id"] for i in self.admin.interfaces(server_id) if i["net_id"] == net_id
        )

    def detaches(self) -> list[dict[str, Any]]:
        return [
            r
            for r in self.admin.requests_log()
            if r["method"] == "DELETE"
            and "/os-interface/" in r["path"]
            or r["method"] == "POST"
            and r["path"].endswith("/nics/delete")
        ]


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    clock = AdjustableClock()
    with EmulatorServer(backend=FakeBackend(clock=clock), tokens=(TOKEN,)) as server:
        yield Cloud(server, clock)


@pytest.fixture
def still_cloud() -> Iterator[Cloud]:
    """A cloud whose clock moves only when the test moves it: a job "slower than the
    deadline" is still running however slowly the deliveries run on a busy machine."""
    start = time.monotonic()
    clock = AdjustableClock(base=lambda: start)
    with EmulatorServer(backend=FakeBackend(clock=clock), tokens=(TOKEN,)) as server:
        yield Cloud(server, clock)


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "one.yaml"
    path.write_text(
        "version: 1\nrules:\n  - name: one\n    when: {role: db}\n"
        f"    attach:\n      - {{net_id: {STORAGE}}}\n"
    )
    return path


@pytest.fixture
def v1(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NICATTACH_BACKEND", "huawei-v1")
    return "huawei-v1"


def test_a_job_slower_than_the_deadline_redelivered_to_fresh_instances_makes_one_nic(
    still_cloud: Cloud, v1: str, policy: Path
) -> None:
    """Issue 20.1: jobs of 3 s, deadline 1 s, each delivery a fresh process."""
    cloud = still_cloud
    cloud.admin.set_ecs_options(job_seconds=3.0)
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])[
        "id"
    ]
    for _ in range(3):
        status, body = cloud.deliver(policy, server, deadline_s=1.0)
        assert status == 503 and body["error"]["retryable"] is True, body
    cloud.clock.advance(10.0)  # every job started so far has ended
    status, body = cloud.deliver(policy, server)
    assert status == 200, body
    assert len(cloud.on(server, STORAGE)) == 1, cloud.admin.interfaces(server)
    assert not body.get("suspected_duplicates"), body


def test_a_running_job_is_not_a_full_quota(still_cloud: Cloud, v1: str, policy: Path) -> None:
    """Issue 20.2: room for exactly the policy's NIC, its job still running: the
    redelivery waits for that job (retryable), it never fails permanently (a hook would
    be answered ABANDON and a good instance removed)."""
    cloud = still_cloud
    cloud.admin.set_ecs_options(job_seconds=30.0)
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])[
        "id"
    ]
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
        PROJECT,
        tags=["role=db"],
        status="BUILD",
        build_seconds=2.0,
        interfaces=[{"net_id": STORAGE}, {"net_id": STORAGE}],
    )["id"]
    boot = cloud.on(server, STORAGE)
    assert len(boot) == 2
    status, body = cloud.deliver(policy, server)
    assert status == 200, body
    assert cloud.on(server, STORAGE) == boot
    assert cloud.detaches() == []


# -- item 4 and the port-first path: killed copies, racing copies, no port left behind


class DieAfterPortCreated(Session):
    """A copy that dies right after its port was created, before it attached it."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        answer = super().request(method, url, *args, **kwargs)
        if method == "POST" and url.endswith("/v2.0/ports"):
            raise KeyboardInterrupt  # the process is gone: nothing after this runs
        return answer


def named(cloud: Cloud, server: str) -> list[dict[str, Any]]:
    return [p for p in cloud.admin.ports() if p["name"].startswith(f"nicattach-{server}-")]


@pytest.mark.parametrize(("backend_name", "ownership"), [("huawei-v1", "auto"), ("nova", "port")])
def test_a_copy_killed_between_port_and_attach_leaves_no_second_port(
    cloud: Cloud,
    policy: Path,
    backend_name: str,
    ownership: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 20.4: the redelivery finds the port the killed copy named and attaches it."""
    monkeypatch.setenv("NICATTACH_BACKEND", backend_name)
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])[
        "id"
    ]
    dying = cloud.service(policy, ownership=ownership)
    dying.session.close()
    dying = build_service(dying.settings, session=DieAfterPortCreated())
    with pytest.raises(KeyboardInterrupt):
        deliver(dying, {"server_id": server, "project_id": PROJECT, "tags": ["role=db"]})
    (left,) = named(cloud, server)
    assert left["device_id"] == "" and cloud.on(server, STORAGE) == []
    status, body = cloud.deliver(policy, server, ownership=ownership)
    assert (status, body["status"]) == (200, "attached"), body
    assert cloud.on(server, STORAGE) == [left["id"]]
    assert [p["id"] for p in named(cloud, server)] == [left["id"]]


@pytest.mark.parametrize(("backend_name", "ownership"), [("huawei-v1", "auto"), ("nova", "port")])
def test_two_ports_for_one_request_keep_the_lowest_id(
    cloud: Cloud,
    policy: Path,
    backend_name: str,
    ownership: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two copies created a port each and both attached it: the lowest id stays, the other
    is detached and deleted; an operator's NIC on the same network is never touched."""
    monkeypatch.setenv("NICATTACH_BACKEND", backend_name)
    server = str(uuid.uuid4())
    # what two racing copies leave: two ports with the request's name, both attached
    name = port_name(server, NicRequest(STORAGE, None, None, ("one",)))
    made = sorted(
        cloud.admin.create_port(STORAGE, project_id=PROJECT, name=name)["id"] for _ in range(2)
    )
    cloud.admin.create_server(
        PROJECT,
        id=server,
        tags=["role=db"],
        interfaces=[{"net_id": BOOT}, {"net_id": STORAGE}, *({"port_id": p} for p in made)],
    )
    operator = sorted(set(cloud.on(server, STORAGE)) - set(made))
    assert len(operator) == 1
    status, body = cloud.deliver(policy, server, ownership=ownership)
    assert status == 200, body
    assert sorted(cloud.on(server, STORAGE)) == sorted([*operator, made[0]])
    assert [p["id"] for p in named(cloud, server)] == [made[0]]


@pytest.mark.parametrize(("backend_name", "ownership"), [("huawei-v1", "auto"), ("nova", "port")])
def test_no_port_of_the_function_outlives_its_server(
    cloud: Cloud,
    policy: Path,
    backend_name: str,
    ownership: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Huawei: the NIC is marked delete_on_termination. Nova keeps ports passed by id: the
    server's delete event deletes them."""
    monkeypatch.setenv("NICATTACH_BACKEND", backend_name)
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])[
        "id"
    ]
    status, body = cloud.deliver(policy, server, ownership=ownership)
    assert status == 200, body
    (port,) = named(cloud, server)
    cloud.admin.delete_server(server)
    if backend_name == "huawei-v1":  # marked: the port went with its server
        assert named(cloud, server) == []
    else:  # passed by id: Nova kept it, unbound
        assert [p["device_id"] for p in named(cloud, server)] == [""]
    service = cloud.service(policy, ownership=ownership)
    try:
        status, body = deliver(
            service,
            {
                "event_type": "instance.delete.end",
                "payload": {"nova_object.data": {"uuid": server, "tenant_id": PROJECT}},
            },
        )
    finally:
        service.session.close()
    assert (status, body["reason"]) == (200, "server_deleted"), body
    assert named(cloud, server) == []


def test_the_sweep_collects_a_port_whose_server_is_gone(
    cloud: Cloud, policy: Path, v1: str
) -> None:
    """A copy killed between creating and attaching, then the server deleted before any
    redelivery: the sweep deletes the port (and never one of a server that exists)."""
    gone, alive = (cloud.admin.create_server(PROJECT, tags=["role=x"])["id"] for _ in range(2))
    nic = NicRequest(STORAGE, None, None, ("one",))
    for server in (gone, alive):
        cloud.admin.create_port(STORAGE, project_id=PROJECT, name=port_name(server, nic))
    cloud.admin.delete_server(gone)
    service = cloud.service(policy)
    try:
        summary = service.reconcile(PROJECT, full=True)
    finally:
        service.session.close()
    assert summary.ports_collected == 1
    assert named(cloud, gone) == [] and len(named(cloud, alive)) == 1


def test_a_fixed_ip_held_elsewhere_is_a_permanent_failure_read_from_neutron(
    cloud: Cloud, v1: str, tmp_path: Path
) -> None:
    """The port is refused (``IpAddressAlreadyAllocated``): confirmed by the re-read, it is
    the outcome, and nothing is attached."""
    other = cloud.admin.create_server(
        PROJECT, tags=["role=x"], interfaces=[{"net_id": STORAGE, "fixed_ip": "10.20.0.77"}]
    )
    path = tmp_path / "ip.yaml"
    path.write_text(
        "version: 1\nrules:\n  - name: one\n    when: {role: db}\n"
        f"    attach:\n      - {{net_id: {STORAGE}, fixed_ip: 10.20.0.77}}\n"
    )
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])[
        "id"
    ]
    status, body = cloud.deliver(path, server)
    assert (status, body["error"]["code"]) == (422, "fixed_ip_in_use"), body
    assert cloud.on(server, STORAGE) == [] and named(cloud, server) == []
    assert cloud.on(other["id"], STORAGE)
