"""What only the huawei-v1 backend has: jobs (pending at the deadline, failing with an
Ecs code), free_nic, security groups. The shared behaviour is tested on both backends
through the ``backend`` fixture (test_reliability, test_function_http, test_cli,
test_sweep, the fault suite)."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from test_reliability import PROJECT, SERVER, STORAGE, deliver, event, make_service

from emulator.client import AdminClient
from emulator.server import EmulatorServer


@pytest.fixture
def v1(monkeypatch: pytest.MonkeyPatch, seeded: AdminClient) -> AdminClient:
    monkeypatch.setenv("NICATTACH_BACKEND", "huawei-v1")
    return seeded


@pytest.fixture
def seeded(admin: AdminClient) -> AdminClient:
    root = Path(__file__).resolve().parents[2]
    admin.seed(json.loads((root / "examples" / "emulator-seed.json").read_text()))
    return admin


def one_nic_policy(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "one.yaml"
    path.write_text(
        f"version: 1\nrules:\n  - name: one\n    when: {{role: db}}\n    attach:\n"
        f"      - {{net_id: {STORAGE}{extra}}}\n"
    )
    return path


def adds(admin: AdminClient) -> list[dict[str, Any]]:
    return [
        json.loads(r["body"])
        for r in admin.requests_log()
        if r["method"] == "POST" and r["path"].endswith("/nics")
    ]


def test_a_job_running_at_the_deadline_is_retryable_and_never_makes_a_second_nic(
    emulator: EmulatorServer, v1: AdminClient, tmp_path: Path
) -> None:
    """The redelivery finds the port the first delivery named and attaches that same port
    again (the port is the idempotency key: its second job fails, one NIC is made)."""
    v1.set_ecs_options(job_seconds=5.0)  # twice the deadline: slow enough on a loaded machine
    policy = one_nic_policy(tmp_path)
    service = make_service(emulator, policy, deadline_s=2.0)
    status, body = deliver(service, event())
    assert status == 503 and body["error"]["retryable"] is True, body
    assert body["error"]["code"] == "job_pending", body
    status, body = deliver(service, event())  # nothing remembered: the cloud has the port
    assert status == 503, body
    assert len({json.dumps(body) for body in adds(v1)}) == 1  # one port, never a network
    time.sleep(5.0)
    fresh = make_service(emulator, policy)  # another instance: re-reads, finds the NIC
    status, body = deliver(fresh, event())
    assert (status, body["status"]) == (200, "already_attached"), body
    assert len({json.dumps(body) for body in adds(v1)}) == 1
    assert [i["net_id"] for i in body["interfaces"]] == [STORAGE]
    for svc in (service, fresh):
        svc.session.close()


@pytest.mark.parametrize(
    ("code", "status", "ours"),
    [
        ("Ecs.0217", 503, "attach_failed"),
        ("Ecs.1002", 503, "openstack_timeout"),
        ("Ecs.0050", 422, "nic_quota_exceeded"),
        ("Ecs.0010", 422, "fixed_ip_in_use"),
    ],
)
def test_a_failed_job_is_classified_by_its_error_code(
    emulator: EmulatorServer,
    v1: AdminClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    code: str,
    status: int,
    ours: str,
) -> None:
    v1.set_faults(job_fail_rate=1.0, job_fail_code=code)
    service = make_service(emulator, one_nic_policy(tmp_path), deadline_s=3.0)
    got, body = deliver(service, event())
    service.session.close()
    assert got == status, body
    if status == 422:  # believed after one re-read
        assert body["error"]["code"] == ours and len(adds(v1)) == 1
    else:  # tried again within the deadline; the redelivery tries again
        assert f"attach net {STORAGE}: {ours}; re-reading" in caplog.text
    assert [i["net_id"] for i in v1.interfaces(SERVER)].count(STORAGE) == 0


def test_more_missing_nics_than_free_nic_fail_before_any_write(
    emulator: EmulatorServer, v1: AdminClient
) -> None:
    v1.set_ecs_options(server_max_nics={SERVER: 2})  # the boot NIC + 1; the policy asks 2
    service = make_service(emulator)
    status, body = deliver(service, event())
    service.session.close()
    assert (status, body["error"]["code"]) == (422, "nic_quota_exceeded"), body
    assert adds(v1) == []


def test_security_groups_are_set_on_the_port_the_nic_is_made_from(
    emulator: EmulatorServer, v1: AdminClient, tmp_path: Path
) -> None:
    group = network_call(
        emulator, "POST", "/v2.0/security-groups", {"security_group": {"name": "storage"}}
    )["security_group"]["id"]
    service = make_service(emulator, one_nic_policy(tmp_path, f", security_groups: [{group}]"))
    status, _ = deliver(service, event())
    service.session.close()
    assert status == 200
    ports = [
        json.loads(r["body"])["port"]
        for r in v1.requests_log()
        if r["method"] == "POST" and r["path"].endswith("/v2.0/ports")
    ]
    assert [(p["network_id"], p["security_groups"]) for p in ports] == [(STORAGE, [group])]
    made = network_call(emulator, "GET", f"/v2.0/ports?name={ports[0]['name']}")["ports"]
    assert adds(v1) == [{"nics": [{"port_id": made[0]["id"]}]}]
    assert made[0]["security_groups"] == [group] and made[0]["device_id"] == SERVER


def network_call(emulator: EmulatorServer, method: str, path: str, body: Any = None) -> Any:
    headers = {
        "X-Auth-Token": "emulator-token",
        "X-Project-Id": PROJECT,
        "Content-Type": "application/json",
    }
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(emulator.url + path, data, headers, method=method)
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def test_the_timer_sweep_filters_the_v1_list_by_updated(
    emulator: EmulatorServer, v1: AdminClient
) -> None:
    service = make_service(emulator, project_id=PROJECT)
    summary = service.reconcile(PROJECT, full=False)
    service.session.close()
    assert summary.checked >= 1 and summary.failed == 0, summary
    listed = [r for r in v1.requests_log() if r["path"].endswith("/cloudservers/detail")]
    assert listed and all("changes-since" not in r["query"] for r in listed)
