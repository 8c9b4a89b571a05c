"""NIC profiles, ``ipv6_bandwidth`` on huawei-v1 (issue 25): the function's IPv6 port is
added to the shared bandwidth exactly once, through the VPC bandwidth API, after the port
is attached. Emulator only; what is asserted is the bandwidth's ``publicip_info`` as
the cloud shows it, and the inserts the cloud received."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from support import PROJECT
from test_ownership import Cloud
from test_profiles import DUAL, SCHEMA, cloud, write_policy
from test_public_ip import api, function_port, new_server
from test_reliability import deliver

from function.domain.timing import Deadline
from function.network.bandwidths import SharedBandwidths

__all__ = ["cloud"]  # the fixture, shared


def shared_bandwidth(cloud: Cloud) -> str:
    body = {"bandwidth": {"name": "ipv6", "size": 20}}
    return str(api(cloud, "POST", f"/v2.0/{PROJECT}/bandwidths", body)["bandwidth"]["id"])


def members(cloud: Cloud, bandwidth_id: str) -> list[str]:
    shown = api(cloud, "GET", f"/v1/{PROJECT}/bandwidths/{bandwidth_id}")["bandwidth"]
    return [m["publicip_id"] for m in shown["publicip_info"]]


def inserts(cloud: Cloud) -> int:
    return sum(1 for r in cloud.admin.requests_log() if r["path"].endswith("/insert"))


@pytest.fixture
def setup(cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Cloud, Path, str]:
    monkeypatch.setenv("NICATTACH_BACKEND", "huawei-v1")
    bandwidth = shared_bandwidth(cloud)
    return cloud, write_policy(tmp_path, f"ipv6: true, ipv6_bandwidth: {bandwidth}"), bandwidth


def test_inserted_once_and_a_redelivery_reads_it_there(setup: tuple[Cloud, Path, str]) -> None:
    cloud, policy, bandwidth = setup
    server = new_server(cloud)
    cloud.admin.clear_requests()
    status, body = cloud.deliver(policy, server)
    assert status == 200 and "profile_drift" not in body, body
    port = function_port(cloud, server)
    assert members(cloud, bandwidth) == [port]
    assert inserts(cloud) == 1
    cloud.admin.clear_requests()
    status, body = cloud.deliver(policy, server)
    assert status == 200 and "profile_drift" not in body, body
    assert inserts(cloud) == 0 and members(cloud, bandwidth) == [port]


def test_two_copies_at_once_leave_one_entry(setup: tuple[Cloud, Path, str]) -> None:
    cloud, policy, bandwidth = setup
    server = new_server(cloud)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: cloud.deliver(policy, server), range(2)))
    for _ in range(3):  # a copy that lost a race may ask for a redelivery (503)
        if all(status == 200 for status, _ in answers):
            break
        answers = [cloud.deliver(policy, server)]
    assert all(status == 200 for status, _ in answers), answers
    assert members(cloud, bandwidth) == [function_port(cloud, server)]


class ARacingCopyInsertsAfterOurRead:
    """The bandwidth API as a racing copy leaves it: our read shows the port missing, and
    the other copy's insert lands before ours (HTTP to the emulator, both of them)."""

    def __init__(self, real: SharedBandwidths, cloud: Cloud) -> None:
        self.real, self.cloud, self.raced = real, cloud, False

    def members(self, project_id: str, bandwidth_id: str, deadline: Deadline) -> frozenset[str]:
        seen = self.real.members(project_id, bandwidth_id, deadline)
        if not self.raced:
            self.raced = True
            port = function_port(self.cloud, self.server_id)
            info = [{"publicip_id": port, "publicip_type": "5_dualStack"}]
            path = f"/v2.0/{PROJECT}/bandwidths/{bandwidth_id}/insert"
            api(self.cloud, "POST", path, {"bandwidth": {"publicip_info": info}})
        return seen

    def insert(self, project_id: str, bandwidth_id: str, port_id: str, deadline: Deadline) -> None:
        self.real.insert(project_id, bandwidth_id, port_id, deadline)

    server_id = ""


def test_a_racing_copys_insert_between_our_read_and_ours_is_success(
    setup: tuple[Cloud, Path, str],
) -> None:
    """Our insert is refused because the port is in the bandwidth now: one re-read finds
    it there, and the delivery completes with one entry, not a failure."""
    cloud, policy, bandwidth = setup
    server = new_server(cloud)
    service = cloud.service(policy)
    owner = service.flow.ports
    assert owner is not None and owner.bandwidths is not None
    raced = ARacingCopyInsertsAfterOurRead(owner.bandwidths, cloud)
    raced.server_id = server
    owner.bandwidths = raced
    cloud.admin.clear_requests()
    status, body = deliver(
        service, {"server_id": server, "project_id": PROJECT, "tags": ["role=db"]}
    )
    service.session.close()
    assert raced.raced
    assert status == 200 and "profile_drift" not in body, body
    assert members(cloud, bandwidth) == [function_port(cloud, server)]
    assert inserts(cloud) == 2  # the racing copy's, and ours that the API refused


@pytest.mark.parametrize("fix", [True, False])
def test_a_removed_entry_is_drift_put_back_unless_opted_out(
    setup: tuple[Cloud, Path, str], fix: bool
) -> None:
    cloud, policy, bandwidth = setup
    server = new_server(cloud)
    assert cloud.deliver(policy, server)[0] == 200
    port = function_port(cloud, server)
    remove: dict[str, Any] = {
        "bandwidth": {
            "publicip_info": [{"publicip_id": port, "publicip_type": "5_dualStack"}],
            "charge_mode": "bandwidth",
            "size": 5,
        }
    }
    api(cloud, "POST", f"/v2.0/{PROJECT}/bandwidths/{bandwidth}/remove", remove)
    status, body = cloud.deliver(policy, server, fix_drift=fix)
    assert status == 200, body
    Draft202012Validator(SCHEMA).validate(body)
    assert body["profile_drift"] == [
        {"port_id": port, "fields": ["ipv6_bandwidth"], "corrected": fix}
    ]
    assert members(cloud, bandwidth) == ([port] if fix else [])


def test_an_unknown_bandwidth_fails_for_good(
    cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NICATTACH_BACKEND", "huawei-v1")
    policy = write_policy(
        tmp_path, "ipv6: true, ipv6_bandwidth: 2b3c4d5e-0000-4000-8000-00000000000f"
    )
    status, body = cloud.deliver(policy, new_server(cloud))
    assert status == 422 and body["error"]["code"] == "bandwidth_not_found", body
    assert [p for p in cloud.admin.ports(network_id=DUAL) if p["device_id"]], "the NIC is there"
