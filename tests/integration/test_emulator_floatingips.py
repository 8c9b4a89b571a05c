"""Floating IPs on the emulator's ``/v2.0`` (a project member's view): taken from an external
network, bound to a port by ``port_id`` only through a router with its gateway on that
network and an interface on the port's subnet (as Neutron requires), one per port, tags as
pools, and disassociated when the port goes."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from emulator.client import AdminClient
from emulator.server import EmulatorServer

NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
EXT = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"
MINE, TOKEN = "project-mine", "token-mine"


class Net:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, method: str, path: str, body: Any = None) -> requests.Response:
        headers = {"X-Auth-Token": TOKEN}
        url = f"{self.url}/v2.0{path}"
        return requests.request(method, url, json=body, headers=headers, timeout=10)

    def made(self, path: str, key: str, **fields: Any) -> dict[str, Any]:
        answer = self("POST", path, {key: fields})
        assert answer.status_code == 201, answer.text
        made: dict[str, Any] = answer.json()[key]
        return made

    def port(self) -> str:
        return str(self.made("/ports", "port", network_id=NET)["id"])

    def floating(self, **fields: Any) -> requests.Response:
        return self("POST", "/floatingips", {"floatingip": {"floating_network_id": EXT, **fields}})


@pytest.fixture
def net(emulator: EmulatorServer, admin: AdminClient) -> Net:
    admin.create_network("10.20.0.0/24", id=NET, name="storage", project_id=MINE)
    admin.create_network("203.0.113.0/24", id=EXT, name="public", external=True)
    admin.add_token(TOKEN, [MINE])
    return Net(emulator.url)


def route(net: Net) -> str:
    router = net.made("/routers", "router", name="r", external_gateway_info={"network_id": EXT})
    subnet = net("GET", f"/networks/{NET}").json()["network"]["subnets"][0]
    added = net("PUT", f"/routers/{router['id']}/add_router_interface", {"subnet_id": subnet})
    assert added.status_code == 200, added.text
    return str(router["id"])


def test_the_external_network_is_visible_and_marked(net: Net) -> None:
    external = net("GET", f"/networks/{EXT}").json()["network"]
    assert external["router:external"] is True


def test_a_port_needs_a_router_to_the_external_network(net: Net) -> None:
    port = net.port()
    refused = net.floating(port_id=port)
    assert refused.status_code == 404
    assert refused.json()["NeutronError"]["type"] == "ExternalGatewayForFloatingIPNotFound"
    router = route(net)
    bound = net.floating(port_id=port).json()["floatingip"]
    assert (bound["port_id"], bound["router_id"]) == (port, router)
    assert bound["floating_ip_address"] == "203.0.113.2"
    assert bound["fixed_ip_address"].startswith("10.20.0.")


def test_bind_unbind_and_one_floating_ip_per_port(net: Net) -> None:
    route(net)
    port = net.port()
    first = net.floating().json()["floatingip"]
    second = net.floating().json()["floatingip"]
    bound = net("PUT", f"/floatingips/{first['id']}", {"floatingip": {"port_id": port}})
    assert bound.json()["floatingip"]["port_id"] == port
    clash = net("PUT", f"/floatingips/{second['id']}", {"floatingip": {"port_id": port}})
    assert (clash.status_code, clash.json()["NeutronError"]["type"]) == (
        409,
        "FloatingIPPortAlreadyAssociated",
    )
    listed = net("GET", f"/floatingips?port_id={port}").json()["floatingips"]
    assert [f["id"] for f in listed] == [first["id"]]
    freed = net("PUT", f"/floatingips/{first['id']}", {"floatingip": {"port_id": None}})
    assert freed.json()["floatingip"]["port_id"] is None


def test_tags_make_pools(net: Net) -> None:
    web, other = net.floating().json()["floatingip"], net.floating().json()["floatingip"]
    assert net("PUT", f"/floatingips/{web['id']}/tags/nicattach-pool=web").status_code == 201
    pool = net("GET", "/floatingips?tags=nicattach-pool=web").json()["floatingips"]
    assert [f["id"] for f in pool] == [web["id"]] and other["id"] != web["id"]


def test_a_floating_ip_is_disassociated_when_its_port_goes(net: Net) -> None:
    route(net)
    port = net.port()
    fip = net.floating(port_id=port).json()["floatingip"]
    assert net("DELETE", f"/ports/{port}").status_code == 204
    shown = net("GET", f"/floatingips/{fip['id']}").json()["floatingip"]
    assert (shown["port_id"], shown["fixed_ip_address"], shown["router_id"]) == (None, None, None)
