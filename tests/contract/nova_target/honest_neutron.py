"""Nova's Neutron fixture made honest, for the Nova contract target (``serve.py``).

Nova's stock ``NeutronFixture`` gives every new port the same template whatever the
request asks for; ``HonestNeutronFixture`` puts a port on the network asked for, with
the IP asked for (or the next free one), on several networks (``EXTRA_NETWORKS``), and
answers with the errors python-neutronclient raises for real Neutron. Imported by
``serve.py`` after Nova's functional package (runs in the Nova virtualenv).
"""

from __future__ import annotations

import copy
import ipaddress
import random
import threading
import uuid
from typing import Any

from neutronclient.common import exceptions as neutron_exc
from nova.tests import fixtures as nova_fixtures


def _network(net_id: str, name: str, subnet_id: str, cidr: str) -> tuple[dict[str, Any], ...]:
    base = nova_fixtures.NeutronFixture
    network = {**copy.deepcopy(base.network_1), "id": net_id, "name": name, "subnets": [subnet_id]}
    net = ipaddress.ip_network(cidr)
    first, last = str(net.network_address + 1), str(net.broadcast_address - 1)
    subnet = {
        **copy.deepcopy(base.subnet_1),
        "id": subnet_id,
        "name": f"{name}-subnet",
        "network_id": net_id,
        "cidr": cidr,
        "gateway_ip": first,
        "allocation_pools": [{"start": first, "end": last}],
    }
    return network, subnet


EXTRA_NETWORKS = (
    _network(
        "a7d3f1c2-5b4e-4d6a-9c8b-1e2f3a4b5c6d",
        "harness-net-a",
        "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
        "10.20.0.0/24",
    ),
    _network(
        "c4e5f6a7-b8c9-4dae-8f01-23456789abcd",
        "harness-net-b",
        "d5e6f7a8-b9c0-4d1e-9f2a-3b4c5d6e7f80",
        "10.30.0.0/24",
    ),
)


class HonestNeutronFixture(nova_fixtures.NeutronFixture):  # type: ignore[misc]
    """Nova's NeutronFixture, but ports land on the network asked for, with the IP asked for.

    The stock fixture gives every new port the same template (network_1,
    192.168.1.30) whatever the request says, so IP checks would pass by
    accident. Errors are the ones python-neutronclient raises for real Neutron.
    """

    def __init__(self, test: Any) -> None:
        super().__init__(test)
        self._lock = threading.RLock()
        for network, subnet in EXTRA_NETWORKS:
            self._networks[network["id"]] = network
            self._subnets[subnet["id"]] = subnet

    def list_subnets(self, retrieve_all: bool = True, **params: Any) -> dict[str, Any]:
        with self._lock:
            return {"subnets": self._list_resource(self._subnets, retrieve_all, **params)}

    def create_port(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = copy.deepcopy((body or {}).get("port", {}))
        with self._lock:
            net_id = request.get("network_id") or self.network_1["id"]
            if net_id not in self._networks:
                raise neutron_exc.NetworkNotFoundClient()
            subnet = self._ipv4_subnet(net_id)
            asked = [ip.get("ip_address") for ip in request.get("fixed_ips") or []]
            address = self._check_ip(subnet, asked[0]) if asked else self._free_ip(subnet)
            port = copy.deepcopy(self.default_port)
            port.update(request)
            port.update(
                id=str(uuid.uuid4()),
                network_id=net_id,
                mac_address="fa:16:3e:" + ":".join(f"{random.randint(0, 255):02x}" for _ in "123"),
                fixed_ips=[{"ip_address": address, "subnet_id": subnet["id"]}],
                status="ACTIVE",
            )
            self._ports[port["id"]] = port
            return {"port": copy.deepcopy(port)}

    def update_port(self, port_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        with self._lock:
            answer: dict[str, Any] = super().update_port(port_id, body)
            return answer

    def delete_port(self, port_id: str, **params: Any) -> None:
        with self._lock:
            super().delete_port(port_id, **params)

    def _ipv4_subnet(self, net_id: str) -> dict[str, Any]:
        for subnet in self._subnets.values():
            if subnet["network_id"] == net_id and subnet["ip_version"] == 4:
                return dict(subnet)
        raise neutron_exc.NeutronClientException(message=f"network {net_id} has no subnet")

    def _used(self, subnet: dict[str, Any]) -> set[str]:
        return {
            ip["ip_address"]
            for port in self._ports.values()
            for ip in port.get("fixed_ips", [])
            if ip.get("subnet_id") == subnet["id"]
        } | {subnet["gateway_ip"]}

    def _check_ip(self, subnet: dict[str, Any], address: str) -> str:
        net = ipaddress.ip_network(subnet["cidr"], strict=False)
        ip = ipaddress.ip_address(address)
        if ip not in net or ip in (net.network_address, net.broadcast_address):
            raise neutron_exc.InvalidIpForNetworkClient(
                message=f"IP address {address} is not a valid IP for the specified network."
            )
        if address in self._used(subnet):
            raise neutron_exc.IpAddressInUseClient(
                message=f"IP address {address} already allocated in subnet {subnet['id']}"
            )
        return address

    def _free_ip(self, subnet: dict[str, Any]) -> str:
        used = self._used(subnet)
        for host in ipaddress.ip_network(subnet["cidr"], strict=False).hosts():
            if str(host) not in used:
                return str(host)
        raise neutron_exc.IpAddressGenerationFailureClient()

    def new_free_port(self, net_id: str, fixed_ip: str | None) -> dict[str, Any]:
        """A port nobody uses yet, to attach by ``port_id``."""
        body: dict[str, Any] = {"network_id": net_id, "device_id": "", "device_owner": ""}
        if fixed_ip:
            body["fixed_ips"] = [{"ip_address": fixed_ip}]
        port: dict[str, Any] = self.create_port({"port": body})["port"]
        return port

    def ports_of(self, device_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(p) for p in self._ports.values() if p["device_id"] == device_id]
