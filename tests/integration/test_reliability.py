"""Issue: exactly one outcome per server under redelivery, races and API faults.

Each classification row is produced for real by the emulator (fault injection,
server states, Nova's error answers) and checked end to end through Service.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app.service import Service
from function.app.wiring import build_service
from function.config import Settings
from function.transport.session import Session

ROOT = Path(__file__).resolve().parents[2]
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
STORAGE = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
BACKUP = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
JSON = {"Content-Type": "application/json"}
DB_TAGS = ["role=db", "env=prod"]


@pytest.fixture
def seeded(admin: AdminClient) -> AdminClient:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    return admin


def make_service(
    emulator: EmulatorServer,
    policy: Path | None = None,
    session: Session | None = None,
    **settings: Any,
) -> Service:
    base = Settings(
        policy_path=str(policy or ROOT / "examples" / "policy.yaml"),
        ecs_endpoint=emulator.url,
        network_endpoint=emulator.url,
        token="emulator-token",
        wait_active_s=2.0,
        deadline_s=20.0,
        wait_port_active_s=2.0,
        backend=os.environ.get("NICATTACH_BACKEND", "nova"),  # the `backend` fixture's
    )
    values = {**base.__dict__, **settings}
    config = Settings(**values)
    return build_service(config, session=session or Session())


def deliver(service: Service, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    reply = service.handle(JSON, json.dumps(data).encode())
    body = json.loads(reply.body)
    return reply.status, body


def event(server: str = SERVER, tags: list[str] | None = DB_TAGS) -> dict[str, Any]:
    data: dict[str, Any] = {"server_id": server, "project_id": PROJECT}
    if tags is not None:
        data["tags"] = tags
    return data


def nets(admin: AdminClient, server: str = SERVER) -> list[str]:
    return sorted(i["net_id"] for i in admin.interfaces(server))


@pytest.fixture
def service(emulator: EmulatorServer, seeded: AdminClient) -> Iterator[Service]:
    svc = make_service(emulator)
    yield svc
    svc.session.close()


def ghost_policy(tmp_path: Path) -> Path:
    path = tmp_path / "ghost.yaml"
    path.write_text(
        "version: 1\nrules:\n  - name: ghost\n    when: {}\n    attach:\n"
        "      - net_id: 11111111-2222-4333-8444-555555555555\n"
    )
    return path


def fixed_ip_policy(tmp_path: Path) -> Path:
    path = tmp_path / "fixed.yaml"
    path.write_text(
        "version: 1\nrules:\n  - name: fixed\n    when: {role: db}\n    attach:\n"
        f"      - {{net_id: {STORAGE}, fixed_ip: 10.20.0.50}}\n"
    )
    return path


Setup = Callable[[EmulatorServer, AdminClient, Path], tuple[Service, dict[str, Any]]]


def _faulty(**plan: Any) -> Setup:
    def setup(emu: EmulatorServer, admin: AdminClient, tmp: Path) -> tuple[Service, dict[str, Any]]:
        admin.set_faults(**plan)
        return make_service(emu), event()

    return setup


def _server(status: str, build_seconds: float | None = None) -> Setup:
    def setup(emu: EmulatorServer, admin: AdminClient, tmp: Path) -> tuple[Service, dict[str, Any]]:
        sid = "5e0f5a4b-3c2d-4e1f-8a9b-0c1d2e3f4a5b"
        admin.create_server(
            PROJECT, tags=DB_TAGS, id=sid, status=status, build_seconds=build_seconds
        )
        return make_service(emu, wait_active_s=0.5), event(sid, tags=None)

    return setup


def _nova_unknown_network(emu: EmulatorServer, admin: AdminClient, tmp: Path) -> Any:
    admin.set_options(nova_errors=True)
    return make_service(emu, ghost_policy(tmp)), event()


def _unknown_network(emu: EmulatorServer, admin: AdminClient, tmp: Path) -> Any:
    return make_service(emu, ghost_policy(tmp)), event()


def _fixed_ip_taken(emu: EmulatorServer, admin: AdminClient, tmp: Path) -> Any:
    other = "4d3c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a"
    admin.create_server(PROJECT, id=other, interfaces=[])
    requests.post(
        f"{emu.url}/v2.1/{PROJECT}/servers/{other}/os-interface",
        json={
            "interfaceAttachment": {"net_id": STORAGE, "fixed_ips": [{"ip_address": "10.20.0.50"}]}
        },
        headers={"X-Auth-Token": "emulator-token"},
        timeout=5,
    ).raise_for_status()
    return make_service(emu, fixed_ip_policy(tmp)), event()


def _deadline(emu: EmulatorServer, admin: AdminClient, tmp: Path) -> Any:
    admin.set_faults(latency_ms=1000)
    return make_service(emu, deadline_s=1.0), event()  # the smallest deadline allowed


def _conflicting_tags(emu: EmulatorServer, admin: AdminClient, tmp: Path) -> Any:
    path = tmp / "from-tag.yaml"
    path.write_text(
        "version: 1\nrules:\n  - name: by-tag\n    when: {role: db}\n    attach:\n"
        f"      - {{net_id: {STORAGE}, fixed_ip_from_tag: storage-ip}}\n"
    )
    return make_service(emu, path), event()


@pytest.mark.parametrize(
    ("setup", "kind", "code", "status"),
    [
        pytest.param(_unknown_network, "failed", "network_not_found", 422, id="404-network"),
        pytest.param(_nova_unknown_network, "failed", "network_not_found", 422, id="nova-500-net"),
        pytest.param(_fixed_ip_taken, "failed", "fixed_ip_in_use", 422, id="fixed-ip-in-use"),
        pytest.param(_conflicting_tags, "failed", "policy_conflict", 422, id="policy-conflict"),
        pytest.param(_server("ERROR"), "failed", "server_error_state", 422, id="server-error"),
        pytest.param(_server("BUILD"), "failed", "server_not_ready", 503, id="still-building"),
        pytest.param(_server("BUILD", 0.2), "completed", "attached", 200, id="built-in-time"),
        pytest.param(
            _faulty(throttle_rate=1.0, retry_after_s=0.01),
            "failed",
            "throttled",
            503,
            id="throttled",
        ),
        pytest.param(_faulty(error_rate=1.0), "failed", "server_error", 503, id="5xx"),
        pytest.param(_faulty(drop_rate=1.0), "failed", "connection_error", 503, id="dropped"),
        pytest.param(_deadline, "failed", "deadline_exceeded", 503, id="deadline"),
    ],
)
def test_classification(
    backend: str,
    emulator: EmulatorServer,
    seeded: AdminClient,
    tmp_path: Path,
    setup: Setup,
    kind: str,
    code: str,
    status: int,
) -> None:
    service, data = setup(emulator, seeded, tmp_path)
    try:
        got_status, body = deliver(service, data)
    finally:
        service.session.close()
    assert got_status == status, body
    if kind == "failed":
        assert body["error"]["code"] == code
        assert body["error"]["retryable"] is (status == 503)
    else:
        assert body["status"] == code


def test_unknown_server_is_skipped(backend: str, service: Service) -> None:
    status, body = deliver(service, event("00000000-0000-4000-8000-000000000009", tags=None))
    assert (status, body["reason"]) == (200, "server_gone")


def test_get_retries_honour_retry_after_then_succeed(
    backend: str, service: Service, seeded: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    seeded.set_faults(throttle_rate=0.4, retry_after_s=0.01, seed=3)  # replayable draws
    status, body = deliver(service, event())
    assert status == 200, body
    assert "failed (throttled); will retry in 0.01s" in caplog.text  # Retry-After honoured
    assert seeded.set_faults()["counts"]["throttle"] >= 1


def test_port_state_is_polled_until_active(emulator: EmulatorServer, seeded: AdminClient) -> None:
    seeded.set_options(port_down_seconds=0.3)
    svc = make_service(emulator)
    status, body = deliver(svc, event())
    assert status == 200
    assert {i["port_state"] for i in body["interfaces"]} == {"ACTIVE"}
    routes = [r["path"] for r in seeded.requests_log() if r["method"] == "GET"]
    assert any(p.count("/os-interface/") for p in routes)
    seeded.set_options(port_down_seconds=30)
    other = "6f5e4d3c-2b1a-4098-8765-4321fedcba98"
    seeded.create_server(PROJECT, tags=DB_TAGS, id=other)
    quick = make_service(emulator, wait_port_active_s=0.0)
    _, body = deliver(quick, event(other))
    assert {i["port_state"] for i in body["interfaces"]} == {"DOWN"}, "report what was observed"
    svc.session.close()
    quick.session.close()


def test_device_tags_mark_the_nics_this_function_made(
    emulator: EmulatorServer, seeded: AdminClient
) -> None:
    svc = make_service(emulator, device_tags="on")
    status, _ = deliver(svc, event())
    svc.session.close()
    assert status == 200
    posts = [json.loads(r["body"]) for r in seeded.requests_log() if r["method"] == "POST"]
    assert {p["interfaceAttachment"]["tag"] for p in posts} == {
        "nicattach:db-storage",
        "nicattach:db-backup",
    }
    gets = [
        r
        for r in seeded.requests_log()
        if r["method"] == "GET" and r["path"].endswith("/os-interface")
    ]
    assert {r["microversion"] for r in gets} == {"2.70"}


class GatedSession(Session):
    """Holds a copy at chosen points so two copies interleave exactly as a test says."""

    def __init__(self, after_first_read: threading.Barrier, before_reread: Callable[[], None]):
        super().__init__()
        self.reads = 0
        self._after_first_read = after_first_read
        self._before_reread = before_reread

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        is_list = method == "GET" and str(url).endswith("/os-interface")
        if is_list and self.reads == 1:
            self._before_reread()
        response = super().request(method, url, *args, **kwargs)
        if is_list:
            self.reads += 1
            if self.reads == 1:
                self._after_first_read.wait(timeout=10)
        return response


@pytest.mark.parametrize("first_to_settle", [0, 1])
def test_two_racing_copies_converge_on_one_nic(
    backend: str, emulator: EmulatorServer, seeded: AdminClient, first_to_settle: int
) -> None:
    """Both copies read before either attaches, both attach, then they re-read in a chosen
    order: exactly one NIC per policy network survives, and both report that one."""
    first_read_done = threading.Barrier(2)
    both_posted = threading.Barrier(2)
    settled = threading.Event()
    results: dict[int, dict[str, Any]] = {}

    def gate(copy: int) -> Callable[[], None]:
        def before_reread() -> None:
            both_posted.wait(timeout=10)
            if copy != first_to_settle:
                settled.wait(timeout=10)

        return before_reread

    def run(copy: int) -> None:
        svc = make_service(emulator, session=GatedSession(first_read_done, gate(copy)))
        _, results[copy] = deliver(svc, event())
        if copy == first_to_settle:
            settled.set()
        svc.session.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    attached = seeded.interfaces(SERVER)
    for net in (STORAGE, BACKUP):
        assert len([i for i in attached if i["net_id"] == net]) == 1, attached
    survivors = {i["port_id"] for i in attached}
    for copy in (0, 1):
        assert results[copy]["status"] == "attached"
        assert {i["port_id"] for i in results[copy]["interfaces"]} <= survivors
    deletes = [
        r
        for r in seeded.requests_log()
        if r["method"] == "DELETE" or r["path"].endswith("/nics/delete")
    ]
    assert deletes, "the losing copy's NICs were detached"


def test_redelivery_and_concurrent_copies_never_double(
    backend: str, emulator: EmulatorServer, seeded: AdminClient
) -> None:
    seeded.set_faults(latency_ms=5)
    services = [make_service(emulator) for _ in range(3)]
    threads = [threading.Thread(target=deliver, args=(s, event())) for s in services * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert nets(seeded).count(STORAGE) == 1 and nets(seeded).count(BACKUP) == 1
    for s in services:
        s.session.close()
