"""NIC profiles applied end to end (issue 25, phase 2), on both backends, emulator only.

Each delivery runs on a fresh ``Service`` with ports first (the profile lives on the port
the function names and creates). What is asserted is the port the cloud ends up with,
read back through the emulator's admin view, never what the function says it sent.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import urllib3
from jsonschema import Draft202012Validator
from support import PROJECT
from test_ownership import BOOT, ROOT, TOKEN, Cloud
from test_reliability import deliver

from emulator.compute.models import FakeBackend
from emulator.core.clock import AdjustableClock
from emulator.server import EmulatorServer
from function.config import ConfigError
from function.domain.errors import PolicyError

DUAL = "6d7e8f90-0000-4000-8000-0000000d0a11"
BACKENDS = [("huawei-v1", "auto"), ("nova", "port")]
ALLOW_ALL = {"huawei-v1": ["1.1.1.1/0"], "nova": ["0.0.0.0/0", "::/0"]}


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


def test_ipv6_bandwidth_stays_refused(
    cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not applied yet on either backend: refused, never a silent no-op."""
    for backend, ownership in BACKENDS:
        monkeypatch.setenv("NICATTACH_BACKEND", backend)
        policy = write_policy(
            tmp_path, "ipv6: true, ipv6_bandwidth: 2b3c4d5e-0000-4000-8000-000000000001"
        )
        with pytest.raises(PolicyError, match="cannot apply ipv6_bandwidth"):
            cloud.service(policy, ownership=ownership)


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


# -- public_ip: an elastic IP (huawei-v1) or floating IP (nova) bound to the function's port

EXTERNAL = "7e8f9012-0000-4000-8000-0000000e7e12"


def api(cloud: Cloud, method: str, path: str, body: Any = None) -> Any:
    answer = urllib3.PoolManager().request(
        method,
        f"{cloud.server.url}{path}",
        body=None if body is None else json.dumps(body),
        headers={
            "X-Auth-Token": TOKEN,
            "X-Project-Id": PROJECT,
            "Content-Type": "application/json",
        },
    )
    assert answer.status < 300, answer.data
    return json.loads(answer.data) if answer.data else None


class Ips:
    """Public IPs the way each cloud makes them (by hand: the function never allocates)."""

    def __init__(self, cloud: Cloud, backend: str) -> None:
        self.cloud, self.huawei = cloud, backend == "huawei-v1"
        if not self.huawei:  # a floating IP needs a router from DUAL's subnet to the outside
            cloud.admin.create_network("198.51.100.0/24", id=EXTERNAL, external=True)
            subnets = api(cloud, "GET", f"/v2.0/subnets?network_id={DUAL}")["subnets"]
            v4 = next(s["id"] for s in subnets if s["ip_version"] == 4)
            body = {"router": {"name": "r", "external_gateway_info": {"network_id": EXTERNAL}}}
            router = api(cloud, "POST", "/v2.0/routers", body)["router"]["id"]
            api(cloud, "PUT", f"/v2.0/routers/{router}/add_router_interface", {"subnet_id": v4})

    def allocate(self, pool: str | None = None) -> str:
        if self.huawei:
            body = {"publicip": {"type": "5_bgp"}, "bandwidth": {"name": "b", "size": 5}}
            eip = api(self.cloud, "POST", f"/v1/{PROJECT}/publicips", body)["publicip"]
            if pool is not None:
                tag = {"tag": {"key": "nicattach-pool", "value": pool}}
                api(self.cloud, "POST", f"/v2.0/{PROJECT}/publicips/{eip['id']}/tags", tag)
            return str(eip["public_ip_address"])
        body = {"floatingip": {"floating_network_id": EXTERNAL}}
        fip = api(self.cloud, "POST", "/v2.0/floatingips", body)["floatingip"]
        if pool is not None:
            api(self.cloud, "PUT", f"/v2.0/floatingips/{fip['id']}/tags/nicattach-pool={pool}")
        return str(fip["floating_ip_address"])

    def bound(self) -> dict[str, str | None]:
        """Every IP of the project: address → the port it is bound to."""
        if self.huawei:
            listed = api(self.cloud, "GET", f"/v1/{PROJECT}/publicips")["publicips"]
            return {e["public_ip_address"]: e["port_id"] or None for e in listed}
        listed = api(self.cloud, "GET", "/v2.0/floatingips")["floatingips"]
        return {f["floating_ip_address"]: f["port_id"] or None for f in listed}


def function_port(cloud: Cloud, server_id: str) -> str:
    ports = [p for p in cloud.admin.ports(network_id=DUAL) if p["device_id"] == server_id]
    assert len(ports) == 1, ports
    return str(ports[0]["id"])


def redeliver(cloud: Cloud, policy: Path, server_id: str, ownership: str) -> tuple[int, Any]:
    """Like a platform: a retryable failure (503) is delivered again (bounded)."""
    for _ in range(5):
        status, body = cloud.deliver(policy, server_id, ownership=ownership)
        if status != 503:
            break
    return status, body


def deleted(server_id: str) -> dict[str, Any]:
    """Nova's delete notification, as the function receives it."""
    return {
        "event_type": "instance.delete.end",
        "payload": {"nova_object.data": {"uuid": server_id, "tenant_id": PROJECT}},
    }


def new_server(cloud: Cloud) -> str:
    return str(
        cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])["id"]
    )


@pytest.mark.parametrize(("backend", "ownership"), BACKENDS)
def test_a_pool_under_three_concurrent_servers_and_release_on_deletion(
    cloud: Cloud, tmp_path: Path, backend: str, ownership: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NICATTACH_BACKEND", backend)
    ips = Ips(cloud, backend)
    pool = [ips.allocate("web") for _ in range(3)]
    other = ips.allocate("db")  # another pool's: never taken
    policy = write_policy(tmp_path, "public_ip: {pool_tag: nicattach-pool=web}")
    servers = [new_server(cloud) for _ in range(3)]
    with ThreadPoolExecutor(max_workers=6) as workers:  # two copies of each event at once
        replies = list(workers.map(lambda s: redeliver(cloud, policy, s, ownership), servers * 2))
    assert all(status == 200 for status, _ in replies), [b for s, b in replies if s != 200]
    bound = ips.bound()
    ports = sorted(function_port(cloud, s) for s in servers)
    assert sorted(str(bound[a]) for a in pool) == ports  # each one, none shared
    assert bound[other] is None

    fourth = new_server(cloud)
    status, body = cloud.deliver(policy, fourth, ownership=ownership)
    assert status == 422 and body["error"]["code"] == "public_ip_pool_empty", body

    cloud.admin.delete_server(servers[0])
    if backend == "nova":  # Nova keeps a port passed by id: the delete event deletes it
        assert ips.bound()[next(a for a in pool if ips.bound()[a])]  # kept, unbound, still held
        service = cloud.service(policy, ownership=ownership)
        try:
            status, body = deliver(service, deleted(servers[0]))
        finally:
            service.session.close()
        assert (status, body["reason"]) == (200, "server_deleted"), body
    assert sum(1 for a in pool if ips.bound()[a] is None) == 1  # released
    status, body = cloud.deliver(policy, fourth, ownership=ownership)
    assert status == 200, body
    assert function_port(cloud, fourth) in ips.bound().values()


@pytest.mark.parametrize(("backend", "ownership"), BACKENDS)
def test_a_given_ip_is_bound_once_and_refused_when_missing_or_taken(
    cloud: Cloud, tmp_path: Path, backend: str, ownership: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NICATTACH_BACKEND", backend)
    ips = Ips(cloud, backend)
    address = ips.allocate()
    policy = write_policy(tmp_path, f"public_ip: {{address: {address}}}")
    first, second = new_server(cloud), new_server(cloud)
    for _ in range(2):  # a redelivery reads the binding first: nothing to do
        status, body = cloud.deliver(policy, first, ownership=ownership)
        assert status == 200, body
    assert ips.bound()[address] == function_port(cloud, first)
    status, body = cloud.deliver(policy, second, ownership=ownership)
    assert status == 422 and body["error"]["code"] == "public_ip_in_use", body
    missing = write_policy(tmp_path, "public_ip: {address: 203.0.113.250}")
    status, body = cloud.deliver(missing, second, ownership=ownership)
    assert status == 422 and body["error"]["code"] == "public_ip_not_found", body
