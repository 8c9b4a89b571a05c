"""NIC profiles, ``public_ip`` (issue 25, phase 2): an elastic IP (huawei-v1) or floating
IP (nova) bound to the function's port exactly once, pools under racing servers, and
release when the server goes. Emulator only; see ``test_profiles.py`` for the port keys.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import urllib3
from support import PROJECT
from test_ownership import BOOT, TOKEN, Cloud
from test_profiles import BACKENDS, DUAL, cloud, write_policy
from test_reliability import deliver

__all__ = ["cloud"]  # the fixture, shared

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
