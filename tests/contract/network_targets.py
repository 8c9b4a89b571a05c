"""The two places the network half of the contract suite runs: the emulator and real Neutron.

A ``NetworkTarget`` is the network API's endpoint, two projects' tokens (a
member of the project that owns the networks, and a member of another), and
two networks with one IPv4 subnet each, owned by the first project, with the
same names and CIDRs on both sides. Tests drive ``/v2.0`` over HTTP only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from contract_targets import BOOT_TIMEOUT_S, Network

from emulator.client import AdminClient
from emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "tests" / "contract" / "neutron_target" / "serve.py"
NEUTRON_PYTHON = "NICATTACH_NEUTRON_PYTHON"
"""Interpreter of the Neutron virtualenv (default ``.venv-neutron/bin/python``)."""
NEUTRON_URL = "NICATTACH_NEUTRON_URL"
"""URL of an already running Neutron target (``serve.py``); its info line in
``NICATTACH_NEUTRON_INFO`` (a JSON file), as ``serve.py`` printed it."""
NEUTRON_INFO = "NICATTACH_NEUTRON_INFO"
#: The emulator side's projects and tokens (Neutron's come from its info line).
PROJECT, OTHER_PROJECT = "6f70656e737461636b20342065766572", "9a1e7c0b3d5f4e2a8c6b0d1f2e3a4b5c"
TOKEN, OTHER_TOKEN = "network-token", "network-other-token"
CIDRS = (("harness-net-a", "10.20.0.0/24"), ("harness-net-b", "10.30.0.0/24"))
#: The network an admin shares with every project (another project's, for the member).
SHARED = ("harness-shared", "10.60.0.0/24")
#: The member's dual-stack network (an IPv6 subnet beside the IPv4 one, DHCPv6-stateful).
DUAL = ("harness-dual", "10.40.0.0/24", "2001:db8:40::/64")
#: The admin's external network, where floating IPs come from.
EXTERNAL = ("harness-ext", "172.24.4.0/24")
ADMIN_PROJECT = "a0d3f1e2c4b5a6978899aabbccddeeff"


@dataclass
class NetworkTarget:
    name: str
    url: str
    token: str
    other_token: str
    project_id: str
    other_project_id: str
    networks: tuple[Network, ...]
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def net_a(self) -> Network:
        return self.networks[0]

    @property
    def net_b(self) -> Network:
        return self.networks[1]

    @property
    def shared_net(self) -> Network:
        """The admin's network, shared with every project."""
        return self.networks[2]

    @property
    def dual_net(self) -> Network:
        """The member's network with an IPv4 and an IPv6 subnet (``subnet_id``: the IPv4 one)."""
        return self.networks[3]

    @property
    def external_net(self) -> Network:
        """The admin's external network (``router:external``): floating IPs come from it."""
        return self.networks[4]

    def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = None, **headers: str
    ) -> requests.Response:
        sent = {"X-Auth-Token": token or self.token, **headers}
        return self.session.request(
            method, f"{self.url}/v2.0{path}", json=body, headers=sent, timeout=60
        )

    def close(self) -> None:
        self.session.close()


class EmulatorNetworkTarget(NetworkTarget):
    """A fresh emulator whose networks belong to the first project, as on the Neutron side."""

    def __init__(self, server: EmulatorServer) -> None:
        admin = AdminClient(server.url)
        admin.add_token(TOKEN, [PROJECT])
        admin.add_token(OTHER_TOKEN, [OTHER_PROJECT])
        made = [admin.create_network(cidr, name=name, project_id=PROJECT) for name, cidr in CIDRS]
        name, cidr = SHARED
        made.append(admin.create_network(cidr, name=name, project_id=ADMIN_PROJECT, shared=True))
        name, cidr, v6 = DUAL
        made.append(admin.create_network(cidr, name=name, project_id=PROJECT, ipv6_cidr=v6))
        name, cidr = EXTERNAL
        made.append(admin.create_network(cidr, name=name, project_id=ADMIN_PROJECT, external=True))
        networks = tuple(Network(n["id"], n["name"], n["cidr"], n["subnet_id"]) for n in made)
        super().__init__(
            "emulator", server.url, TOKEN, OTHER_TOKEN, PROJECT, OTHER_PROJECT, networks
        )
        self.admin = admin


def neutron_target(info: dict[str, Any]) -> NetworkTarget:
    networks = tuple(Network(**n) for n in info["networks"])
    tokens, projects = info["tokens"], info["projects"]
    return NetworkTarget(
        "neutron",
        info["url"],
        tokens["member"],
        tokens["other"],
        projects["member"],
        projects["other"],
        networks,
    )


class NeutronProcess:
    """``serve.py`` in the Neutron virtualenv, for one test session."""

    def __init__(self, python: str, *options: str) -> None:
        self.process = subprocess.Popen(
            [python, "-W", "ignore", str(SERVE), *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if os.environ.get("NICATTACH_NEUTRON_QUIET") else sys.stderr,
            text=True,
            cwd=ROOT,
        )
        lines: list[str] = []
        stdout = self.process.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: lines.append(stdout.readline()))
        reader.start()
        reader.join(BOOT_TIMEOUT_S)
        if not lines or not lines[0].strip():
            self.stop()
            raise RuntimeError(f"Neutron target did not start (exit {self.process.returncode})")
        self.info: dict[str, Any] = json.loads(lines[0])

    def stop(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def neutron_python() -> str:
    return os.environ.get(NEUTRON_PYTHON) or str(ROOT / ".venv-neutron" / "bin" / "python")


def running_neutron_info() -> dict[str, Any] | None:
    """The info line of a Neutron target started by hand, if the environment names one."""
    path = os.environ.get(NEUTRON_INFO)
    if not os.environ.get(NEUTRON_URL) or not path:
        return None
    info: dict[str, Any] = json.loads(Path(path).read_text())
    return {**info, "url": os.environ[NEUTRON_URL]}


# -- helpers for the cases -------------------------------------------------------------

GHOST = "11111111-2222-4333-8444-555555555555"
#: Every field Neutron shows a project member on a port (no ``binding:host_id`` & co).
PORT_FIELDS = {
    "admin_state_up",
    "allowed_address_pairs",
    "binding:vnic_type",
    "created_at",
    "description",
    "device_id",
    "device_owner",
    "extra_dhcp_opts",
    "fixed_ips",
    "id",
    "mac_address",
    "name",
    "network_id",
    "port_security_enabled",
    "project_id",
    "revision_number",
    "security_groups",
    "status",
    "tags",
    "tenant_id",
    "updated_at",
}

NETWORK_FIELDS = {
    "admin_state_up",
    "availability_zone_hints",
    "availability_zones",
    "created_at",
    "description",
    "id",
    "ipv4_address_scope",
    "ipv6_address_scope",
    "mtu",
    "name",
    "port_security_enabled",
    "project_id",
    "qinq",
    "revision_number",
    "router:external",
    "shared",
    "status",
    "subnets",
    "tags",
    "tenant_id",
    "updated_at",
    "vlan_transparent",
}
SUBNET_FIELDS = {
    "allocation_pools",
    "cidr",
    "created_at",
    "description",
    "dns_nameservers",
    "enable_dhcp",
    "gateway_ip",
    "host_routes",
    "id",
    "ip_version",
    "ipv6_address_mode",
    "ipv6_ra_mode",
    "name",
    "network_id",
    "project_id",
    "revision_number",
    "router:external",
    "service_types",
    "subnetpool_id",
    "tags",
    "tenant_id",
    "updated_at",
}
GROUP_FIELDS = {
    "created_at",
    "description",
    "id",
    "name",
    "project_id",
    "revision_number",
    "security_group_rules",
    "shared",
    "stateful",
    "tags",
    "tenant_id",
    "updated_at",
}
RULE_FIELDS = frozenset(
    {
        "belongs_to_default_sg",
        "created_at",
        "description",
        "direction",
        "ethertype",
        "id",
        "normalized_cidr",
        "port_range_max",
        "port_range_min",
        "project_id",
        "protocol",
        "remote_address_group_id",
        "remote_group_id",
        "remote_ip_prefix",
        "revision_number",
        "security_group_id",
        "standard_attr_id",
        "tags",
        "tenant_id",
        "updated_at",
    }
)


def error(response: requests.Response) -> tuple[int, str, str]:
    """(status, type, message) of a NeutronError answer, its shape checked."""
    body = response.json()
    assert set(body) == {"NeutronError"}, body
    assert set(body["NeutronError"]) == {"type", "message", "detail"}
    assert body["NeutronError"]["detail"] == ""
    return response.status_code, body["NeutronError"]["type"], body["NeutronError"]["message"]


def create(network: NetworkTarget, **fields: Any) -> dict[str, Any]:
    """A port: on ``harness-net-a`` when it asks for a fixed IP, else on ``harness-net-b``.

    Neutron hands out addresses in random order (its IPAM picks among the free
    ones), so ports that take any address stay off the network whose addresses
    the tests name."""
    default = network.net_a if "fixed_ips" in fields else network.net_b
    body = {"port": {"network_id": default.id, **fields}}
    response = network.call("POST", "/ports", body)
    assert response.status_code == 201, response.text
    port: dict[str, Any] = response.json()["port"]
    return port


def ids(network: NetworkTarget, query: str) -> set[str]:
    response = network.call("GET", f"/ports?{query}")
    assert response.status_code == 200, response.text
    return {port["id"] for port in response.json()["ports"]}


def new_group(network: NetworkTarget, name: str) -> str:
    body = {"security_group": {"name": name, "description": "contract"}}
    response = network.call("POST", "/security-groups", body)
    assert response.status_code == 201, response.text
    return str(response.json()["security_group"]["id"])


def default_group(network: NetworkTarget) -> str:
    groups = network.call("GET", "/security-groups?name=default").json()["security_groups"]
    assert len(groups) == 1
    return str(groups[0]["id"])
