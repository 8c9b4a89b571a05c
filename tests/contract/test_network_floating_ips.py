"""Floating IPs as a NIC profile's ``public_ip`` uses them, on the emulator's ``/v2.0`` and on
Neutron 29: a pool by tag, bound and unbound by ``port_id``, the ``If-Match:
revision_number=N`` compare-and-swap (Neutron's ``revision-if-match`` extension, which its
default ``revisions`` service plugin provides), and the router they need.

The calls the function makes go through its own client
(``function.network.eips.FloatingIps`` and ``function.converge.public_ip``), so their URLs,
headers and parsing meet Neutron itself.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from network_targets import NetworkTarget, create, error

from function.auth import TokenAuth
from function.converge.public_ip import ensure_public_ip
from function.domain.errors import ApiPermanentError
from function.domain.profile import PublicIp
from function.domain.timing import Deadline, Timing
from function.network.client import NetworkClient
from function.network.eips import FloatingIps
from function.transport.session import Session

ROUTER = "harness-router"
RUN = uuid.uuid4().hex[:8]
"""A suffix new on every run, for tags (a Neutron started by hand outlives a run)."""
POOL = ("nicattach-pool", f"contract-{RUN}")
#: Every field Neutron shows a project member on a floating IP.
FLOATING_IP_FIELDS = {
    "created_at",
    "description",
    "fixed_ip_address",
    "floating_ip_address",
    "floating_network_id",
    "id",
    "port_details",
    "port_id",
    "project_id",
    "revision_number",
    "router_id",
    "status",
    "tags",
    "tenant_id",
    "updated_at",
}


def routed(network: NetworkTarget) -> str:
    """The member's router: its gateway on the external network, an interface on the
    dual-stack network's IPv4 subnet (made once per target; Neutron's is per session)."""
    found = network.call("GET", "/routers").json()["routers"]
    mine = [r["id"] for r in found if r["name"] == ROUTER]
    if mine:
        return str(mine[0])
    gateway = {"network_id": network.external_net.id}
    body = {"router": {"name": ROUTER, "external_gateway_info": gateway}}
    response = network.call("POST", "/routers", body)
    assert response.status_code == 201, response.text
    router = response.json()["router"]
    assert router["external_gateway_info"]["network_id"] == network.external_net.id
    path = f"/routers/{router['id']}/add_router_interface"
    added = network.call("PUT", path, {"subnet_id": network.dual_net.subnet_id})
    assert added.status_code == 200, added.text
    assert added.json()["subnet_id"] == network.dual_net.subnet_id
    return str(router["id"])


def floating_ip(network: NetworkTarget, *tags: str) -> dict[str, Any]:
    body = {"floatingip": {"floating_network_id": network.external_net.id}}
    response = network.call("POST", "/floatingips", body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()["floatingip"]
    for tag in tags:
        tagged = network.call("PUT", f"/floatingips/{made['id']}/tags/{tag}")
        assert tagged.status_code == 201, tagged.text
    return made


def show_ip(network: NetworkTarget, fip_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = network.call("GET", f"/floatingips/{fip_id}").json()["floatingip"]
    return shown


def function_ips(network: NetworkTarget) -> tuple[FloatingIps, Deadline]:
    """The function's floating-IP client, aimed at the target."""
    client = NetworkClient(Session(), network.url, TokenAuth(network.token), sleep=lambda _: None)
    timing = Timing(clock=time.monotonic, sleep=lambda _: None, rng=lambda: 0.5)
    return FloatingIps(client), timing.deadline(30.0)


def test_a_floating_ip_is_bound_and_unbound_by_port_id(network: NetworkTarget) -> None:
    router = routed(network)
    made = floating_ip(network)
    assert set(made) == FLOATING_IP_FIELDS
    assert (made["port_id"], made["fixed_ip_address"], made["router_id"]) == (None, None, None)
    assert (made["status"], made["port_details"], made["revision_number"]) == ("DOWN", None, 0)
    assert made["floating_network_id"] == network.external_net.id
    assert made["floating_ip_address"].startswith("172.24.4.")
    port = create(network, network_id=network.dual_net.id, name="nic-fip")
    v4 = next(f["ip_address"] for f in port["fixed_ips"] if "." in f["ip_address"])
    path = f"/floatingips/{made['id']}"
    bound = network.call("PUT", path, {"floatingip": {"port_id": port["id"]}})
    assert bound.status_code == 200, bound.text
    view = bound.json()["floatingip"]
    assert (view["port_id"], view["fixed_ip_address"], view["router_id"]) == (
        port["id"],
        v4,
        router,
    )
    assert view["port_details"] == {
        "name": "nic-fip",
        "network_id": network.dual_net.id,
        "mac_address": port["mac_address"],
        "admin_state_up": True,
        "status": "DOWN",
        "device_id": "",
        "device_owner": "",
    }
    assert view["revision_number"] == 1 and show_ip(network, made["id"]) == view
    listed = network.call("GET", f"/floatingips?port_id={port['id']}").json()["floatingips"]
    assert listed == [view]
    address = made["floating_ip_address"]
    by_address = network.call("GET", f"/floatingips?floating_ip_address={address}").json()
    assert [f["id"] for f in by_address["floatingips"]] == [made["id"]]
    unbound = network.call("PUT", path, {"floatingip": {"port_id": None}}).json()["floatingip"]
    assert (unbound["port_id"], unbound["fixed_ip_address"], unbound["router_id"]) == (
        None,
        None,
        None,
    )
    assert (unbound["port_details"], unbound["revision_number"]) == (None, 2)
    other = network.call("GET", path, token=network.other_token)
    assert error(other) == (
        404,
        "FloatingIPNotFound",
        f"Floating IP {made['id']} could not be found",
    )


def test_if_match_revision_number_is_a_compare_and_swap(network: NetworkTarget) -> None:
    routed(network)
    made = floating_ip(network, "nicattach-pool=cas")
    assert show_ip(network, made["id"])["revision_number"] == 1  # a tag is an update
    port = create(network, network_id=network.dual_net.id)
    path, body = f"/floatingips/{made['id']}", {"floatingip": {"port_id": port["id"]}}
    stale = network.call("PUT", path, body, **{"If-Match": "revision_number=0"})
    assert error(stale) == (
        412,
        "RevisionNumberConstraintFailed",
        "Constrained to 0, but current revision is 1",
    )
    assert show_ip(network, made["id"])["port_id"] is None  # nothing written
    current = network.call("PUT", path, body, **{"If-Match": "revision_number=1"})
    assert current.status_code == 200, current.text
    assert current.json()["floatingip"]["port_id"] == port["id"]


def test_a_floating_ip_pool_by_tag(network: NetworkTarget) -> None:
    www, team = f"nicattach-pool=www-{RUN}", f"team=a-{RUN}"
    web = floating_ip(network, www, team)
    floating_ip(network, f"nicattach-pool=db-{RUN}", team)
    listed = network.call("GET", f"/floatingips?tags={www}").json()["floatingips"]
    assert [f["id"] for f in listed] == [web["id"]]
    assert sorted(listed[0]["tags"]) == [www, team]
    both = network.call("GET", f"/floatingips?tags={www},{team}").json()
    assert [f["id"] for f in both["floatingips"]] == [web["id"]]
    assert network.call("GET", "/floatingips?tags=nicattach-pool=none").json() == {
        "floatingips": []
    }


def test_a_port_without_a_route_to_the_external_network_cannot_take_one(
    network: NetworkTarget,
) -> None:
    made = floating_ip(network)
    port = create(network)  # harness-net-b: no router interface there
    response = network.call(
        "PUT", f"/floatingips/{made['id']}", {"floatingip": {"port_id": port["id"]}}
    )
    subnet = network.net_b.subnet_id
    assert error(response) == (
        404,
        "ExternalGatewayForFloatingIPNotFound",
        f"External network {network.external_net.id} is not reachable from subnet {subnet}.  "
        f"Therefore, cannot associate Port {port['id']} with a Floating IP.",
    )


def test_the_functions_client_binds_a_pool_ip_once_and_unbinds_it(network: NetworkTarget) -> None:
    routed(network)
    tag = f"{POOL[0]}={POOL[1]}"
    first, second = floating_ip(network, tag), floating_ip(network, tag)
    port = create(network, network_id=network.dual_net.id)
    ips, deadline = function_ips(network)
    pool = ips.tagged(network.project_id, *POOL, deadline)
    assert [e.id for e in pool] == sorted((first["id"], second["id"]))
    assert {e.revision for e in pool} == {1} and {e.port_id for e in pool} == {""}
    want = PublicIp(pool_tag=POOL)
    taken = ensure_public_ip(ips, network.project_id, port["id"], want, deadline)
    assert taken.id in {first["id"], second["id"]} and taken.port_id == port["id"]
    assert show_ip(network, taken.id)["port_id"] == port["id"]
    again = ensure_public_ip(ips, network.project_id, port["id"], want, deadline)
    assert again.id == taken.id  # read before write: the redelivery finds it bound
    found = ips.find(network.project_id, deadline, port_id=port["id"])
    assert [(e.id, e.port_id) for e in found] == [(taken.id, port["id"])]
    stale = next(e for e in pool if e.id == taken.id)  # revision 1, now 2
    with pytest.raises(ApiPermanentError) as refused:
        ips.bind(network.project_id, stale, None, deadline)
    assert refused.value.status == 412
    ips.bind(network.project_id, found[0], None, deadline)
    assert show_ip(network, taken.id)["port_id"] is None
    by_address = ips.find(network.project_id, deadline, public_ip_address=taken.address)
    assert [(e.id, e.port_id) for e in by_address] == [(taken.id, "")]
