"""What only the huawei-v1 backend has: jobs (pending at the deadline, failing with an
Ecs code), free_nic, security groups. The shared behaviour is tested on both backends
through the ``backend`` fixture (test_reliability, test_function_http, test_cli,
test_sweep, the fault suite)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from test_reliability import PROJECT, SERVER, STORAGE, deliver, event, make_service

from emulator.client import AdminClient
from emulator.server import EmulatorServer

SG = "a4c3b2d1-0000-4000-8000-000000000001"


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
    path.write_text(f"version: 1\nrules:\n  - name: one\n    when: {{role: db}}\n    attach:\n"
                    f"      - {{net_id: {STORAGE}{extra}}}\n")  # fmt: skip
    return path


def adds(admin: AdminClient) -> list[dict[str, Any]]:
    return [json.loads(r["body"]) for r in admin.requests_log()
            if r["method"] == "POST" and r["path"].endswith("/nics")]  # fmt: skip


def test_a_job_running_at_the_deadline_is_retryable_and_never_posted_twice(
    emulator: EmulatorServer, v1: AdminClient, tmp_path: Path
) -> None:
    v1.set_ecs_options(job_seconds=2.5)
    policy = one_nic_policy(tmp_path)
    service = make_service(emulator, policy, deadline_s=1.0)
    status, body = deliver(service, event())
    assert status == 503 and body["error"]["retryable"] is True, body
    assert body["error"]["code"] == "job_pending", body
    status, body = deliver(service, event())  # the same process takes up the same job
    assert status == 503, body
    assert len(adds(v1)) == 1
    time.sleep(2.0)
    fresh = make_service(emulator, policy)  # another instance: re-reads, finds the NIC
    status, body = deliver(fresh, event())
    assert (status, body["status"]) == (200, "already_attached"), body
    assert len(adds(v1)) == 1
    assert [i["net_id"] for i in body["interfaces"]] == [STORAGE]
    for svc in (service, fresh):
        svc.session.close()


@pytest.mark.parametrize(
    ("code", "status", "ours"),
    [("Ecs.0217", 503, "attach_failed"), ("Ecs.1002", 503, "openstack_timeout"),
     ("Ecs.0050", 422, "nic_quota_exceeded"), ("Ecs.0010", 422, "fixed_ip_in_use")],
)  # fmt: skip
def test_a_failed_job_is_classified_by_its_error_code(
    emulator: EmulatorServer, v1: AdminClient, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    code: str, status: int, ours: str,
) -> None:  # fmt: skip
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


def test_security_groups_are_sent_with_the_nic(
    emulator: EmulatorServer, v1: AdminClient, tmp_path: Path
) -> None:
    service = make_service(emulator, one_nic_policy(tmp_path, f", security_groups: [{SG}]"))
    status, _ = deliver(service, event())
    service.session.close()
    assert status == 200
    assert adds(v1) == [{"nics": [{"subnet_id": STORAGE, "security_groups": [{"id": SG}]}]}]


def test_the_timer_sweep_filters_the_v1_list_by_updated(
    emulator: EmulatorServer, v1: AdminClient
) -> None:
    service = make_service(emulator, project_id=PROJECT)
    summary = service.reconcile(PROJECT, full=False)
    service.session.close()
    assert summary.checked >= 1 and summary.failed == 0, summary
    listed = [r for r in v1.requests_log() if r["path"].endswith("/cloudservers/detail")]
    assert listed and all("changes-since" not in r["query"] for r in listed)
