"""NIC profiles applied end to end (issue 25, phase 2), on both backends, emulator only.

Each delivery runs on a fresh ``Service`` with ports first (the profile lives on the port
the function names and creates). What is asserted is the port the cloud ends up with,
read back through the emulator's admin view, never what the function says it sent.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from jsonschema import Draft202012Validator
from support import PROJECT
from test_ownership import BOOT, ROOT, TOKEN, Cloud

from emulator.compute.models import FakeBackend
from emulator.core.clock import AdjustableClock
from emulator.server import EmulatorServer
from function.config import ConfigError
from function.domain.errors import PolicyError

DUAL = "6d7e8f90-0000-4000-8000-0000000d0a11"
BACKENDS = [("huawei-v1", "auto"), ("nova", "port")]
NEUTRON_ALL = ["0.0.0.0/0", "::/1", "8000::/2", "c000::/3", "e000::/4", "f000::/5", "f800::/6"]
ALLOW_ALL = {"huawei-v1": ["1.1.1.1/0"], "nova": [*NEUTRON_ALL, "fc00::/7", "fe00::/8"]}


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    clock = AdjustableClock()
    with EmulatorServer(backend=FakeBackend(clock=clock), tokens=(TOKEN,)) as server:
        made = Cloud(server, clock)
        made.admin.create_network(
            "10.90.0.0/24", id=DUAL, name="dual", ipv6_cidr="2001:db8:90::/64"
        )
        yield made


def write_policy(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(
        "version: 1\nrules:\n  - name: fw\n    when: {role: db}\n"
        f"    attach:\n      - {{net_id: {DUAL}, {entry}}}\n"
    )
    return path


def deliver_port(
    cloud: Cloud, policy: Path, backend: str, ownership: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """One server, one delivery; the function's port on the dual-stack network."""
    monkeypatch.setenv("NICATTACH_BACKEND", backend)
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])
    status, body = cloud.deliver(policy, server["id"], ownership=ownership)
    assert status == 200, body
    ports = [p for p in cloud.admin.ports(network_id=DUAL) if p["device_id"] == server["id"]]
    assert len(ports) == 1, ports
    assert ports[0]["name"].startswith(f"nicattach-{server['id']}-")
    return ports[0]


def pairs(port: dict[str, Any]) -> list[str]:
    return sorted(p["ip_address"] for p in port["allowed_address_pairs"])


def versions(port: dict[str, Any]) -> list[int]:
    return sorted(ipaddress.ip_address(f["ip_address"]).version for f in port["fixed_ips"])


@pytest.mark.parametrize(("backend", "ownership"), BACKENDS)
def test_source_dest_check_off_is_the_flavours_allow_all_pair(
    cloud: Cloud, tmp_path: Path, backend: str, ownership: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = write_policy(tmp_path, "source_dest_check: false")
    port = deliver_port(cloud, policy, backend, ownership, monkeypatch)
    assert pairs(port) == sorted(ALLOW_ALL[backend])
    assert port["port_security_enabled"] is True  # the security groups still filter


@pytest.mark.parametrize(("backend", "ownership"), BACKENDS)
def test_allowed_address_pairs_are_on_the_port(
    cloud: Cloud, tmp_path: Path, backend: str, ownership: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = write_policy(tmp_path, "allowed_address_pairs: [10.90.0.200, 10.91.0.0/24]")
    port = deliver_port(cloud, policy, backend, ownership, monkeypatch)
    assert pairs(port) == ["10.90.0.200", "10.91.0.0/24"]


@pytest.mark.parametrize(("backend", "ownership"), BACKENDS)
def test_ipv6_gives_the_port_an_address_on_each_side(
    cloud: Cloud, tmp_path: Path, backend: str, ownership: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = write_policy(tmp_path, "ipv6: true")
    port = deliver_port(cloud, policy, backend, ownership, monkeypatch)
    assert versions(port) == [4, 6]
    v6 = [f["ip_address"] for f in port["fixed_ips"] if ":" in f["ip_address"]]
    assert ipaddress.ip_address(v6[0]) in ipaddress.ip_network("2001:db8:90::/64")


@pytest.mark.parametrize(("backend", "ownership"), BACKENDS)
def test_ipv6_address_is_the_one_asked(
    cloud: Cloud, tmp_path: Path, backend: str, ownership: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = write_policy(tmp_path, 'ipv6: true, ipv6_address: "2001:db8:90::10"')
    port = deliver_port(cloud, policy, backend, ownership, monkeypatch)
    v6 = [f["ip_address"] for f in port["fixed_ips"] if ":" in f["ip_address"]]
    assert [ipaddress.ip_address(a) for a in v6] == [ipaddress.ip_address("2001:db8:90::10")]
    assert versions(port) == [4, 6]


@pytest.mark.parametrize(("backend", "ownership"), BACKENDS)
def test_ipv6_on_a_network_without_an_ipv6_subnet_is_permanent(
    cloud: Cloud, tmp_path: Path, backend: str, ownership: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NICATTACH_BACKEND", backend)
    policy = tmp_path / "v4.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - name: fw\n    when: {role: db}\n"
        f"    attach:\n      - {{net_id: {BOOT}, ipv6: true}}\n"
    )
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[])["id"]
    status, body = cloud.deliver(policy, server, ownership=ownership)
    assert status == 422 or not body["error"]["retryable"], body
    assert body["error"]["code"] == "no_ipv6_subnet", body
    assert [p for p in cloud.admin.ports() if p["name"].startswith(f"nicattach-{server}")] == []


def test_a_profile_under_device_tags_is_refused_at_start_up(
    cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NICATTACH_BACKEND", "nova")
    policy = write_policy(tmp_path, "source_dest_check: false")
    for ownership in ("device-tag", "auto"):
        with pytest.raises((PolicyError, ConfigError)) as caught:
            cloud.service(policy, ownership=ownership)
        assert "NICATTACH_OWNERSHIP=port" in str(caught.value)


def test_ipv6_bandwidth_is_refused_on_nova_and_accepted_on_huawei_v1(
    cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nova refuses it at start-up with its own reason (Neutron has no shared bandwidth),
    before any request; huawei-v1 starts (the key is applied through the VPC bandwidth
    API: test_ipv6_bandwidth.py)."""
    policy = write_policy(
        tmp_path, "ipv6: true, ipv6_bandwidth: 2b3c4d5e-0000-4000-8000-000000000001"
    )
    monkeypatch.setenv("NICATTACH_BACKEND", "nova")
    cloud.admin.clear_requests()
    with pytest.raises(PolicyError) as caught:
        cloud.service(policy, ownership="port")
    [line] = caught.value.problems
    assert "the nova backend cannot apply ipv6_bandwidth (" in line
    assert "no shared bandwidth" in line and "\n" not in line
    assert cloud.admin.requests_log() == [], "refused before any request"
    monkeypatch.setenv("NICATTACH_BACKEND", "huawei-v1")
    cloud.service(policy, ownership="auto")


# -- drift: checked on every delivery, reported, corrected unless NICATTACH_FIX_DRIFT=false

SCHEMA = json.loads((ROOT / "events" / "schemas" / "completed.json").read_text())


def strip_pairs(cloud: Cloud, port_id: str) -> None:
    """An operator (or a script) re-enables the check: the port's pairs are emptied."""
    http = urllib3.PoolManager()
    answer = http.request(
        "PUT",
        f"{cloud.server.url}/v2.0/ports/{port_id}",
        body=json.dumps({"port": {"allowed_address_pairs": []}}),
        headers={
            "X-Auth-Token": TOKEN,
            "X-Project-Id": PROJECT,
            "Content-Type": "application/json",
        },
    )
    assert answer.status == 200, answer.data


@pytest.mark.parametrize(("backend", "ownership"), BACKENDS)
@pytest.mark.parametrize("fix", [True, False])
def test_a_drifted_profile_is_reported_and_corrected_unless_opted_out(
    cloud: Cloud,
    tmp_path: Path,
    backend: str,
    ownership: str,
    fix: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = write_policy(
        tmp_path, "source_dest_check: false, allowed_address_pairs: [10.90.0.200]"
    )
    monkeypatch.setenv("NICATTACH_BACKEND", backend)
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])
    status, body = cloud.deliver(policy, server["id"], ownership=ownership)
    assert status == 200 and "profile_drift" not in body, body
    port = next(p for p in cloud.admin.ports(network_id=DUAL) if p["device_id"] == server["id"])
    wanted = pairs(port)

    strip_pairs(cloud, port["id"])
    status, body = cloud.deliver(policy, server["id"], ownership=ownership, fix_drift=fix)
    assert status == 200, body
    Draft202012Validator(SCHEMA).validate(body)
    assert body["profile_drift"] == [
        {
            "port_id": port["id"],
            "fields": ["source_dest_check", "allowed_address_pairs"],
            "corrected": fix,
        }
    ]
    after = next(p for p in cloud.admin.ports(network_id=DUAL) if p["id"] == port["id"])
    assert pairs(after) == (wanted if fix else [])
    status, body = cloud.deliver(policy, server["id"], ownership=ownership)
    assert status == 200 and ("profile_drift" in body) is not fix, body


def test_the_network_flavour_can_be_set_for_huaweis_nova_compatible_endpoint(
    cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nova's API on Huawei's cloud: the ports are the VPC's, which wants ``1.1.1.1/0``."""
    policy = write_policy(tmp_path, "source_dest_check: false")
    monkeypatch.setenv("NICATTACH_BACKEND", "nova")
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])
    status, body = cloud.deliver(
        policy, server["id"], ownership="port", network_flavour="huawei-vpc"
    )
    assert status == 200, body
    port = next(p for p in cloud.admin.ports(network_id=DUAL) if p["device_id"] == server["id"])
    assert pairs(port) == ["1.1.1.1/0"]
