"""What a NIC profile asks of ports, on the emulator's ``/v2.0`` and on Neutron 29: an IPv6
subnet beside the IPv4 one (a port's address on it, one asked for, the 4xx), the "allow
every source" address pairs (Neutron refuses ``::/0``: a pair may not overlap multicast),
and port security off. Floating IPs: ``test_network_floating_ips.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from network_targets import NetworkTarget, create, error, ids, new_group

from function.domain.port_profile import Flavour, address_pairs
from function.domain.profile import NicProfile


def v6_subnet(network: NetworkTarget) -> dict[str, Any]:
    query = f"/subnets?network_id={network.dual_net.id}&ip_version=6"
    subnets = network.call("GET", query).json()["subnets"]
    assert len(subnets) == 1, subnets
    subnet: dict[str, Any] = subnets[0]
    return subnet


def test_an_ipv6_subnet_beside_the_ipv4_one(network: NetworkTarget) -> None:
    subnet = v6_subnet(network)
    assert (subnet["cidr"], subnet["gateway_ip"], subnet["ip_version"]) == (
        "2001:db8:40::/64",
        "2001:db8:40::",
        6,
    )
    assert subnet["allocation_pools"] == [
        {"start": "2001:db8:40::1", "end": "2001:db8:40:0:ffff:ffff:ffff:ffff"}
    ]
    assert (subnet["ipv6_ra_mode"], subnet["ipv6_address_mode"]) == (
        "dhcpv6-stateful",
        "dhcpv6-stateful",
    )
    listed = network.call("GET", f"/networks?id={network.dual_net.id}").json()["networks"][0]
    assert sorted(listed["subnets"]) == sorted((network.dual_net.subnet_id, subnet["id"]))
    port = create(network, network_id=network.dual_net.id)
    by_subnet = {f["subnet_id"]: f["ip_address"] for f in port["fixed_ips"]}
    assert set(by_subnet) == {network.dual_net.subnet_id, subnet["id"]}
    assert by_subnet[network.dual_net.subnet_id].startswith("10.40.0.")
    assert by_subnet[subnet["id"]].startswith("2001:db8:40::")


def test_a_port_asking_for_an_ipv6_address(network: NetworkTarget) -> None:
    subnet = v6_subnet(network)
    asked = [
        {"subnet_id": network.dual_net.subnet_id},
        {"subnet_id": subnet["id"], "ip_address": "2001:db8:40::4:50"},
    ]
    port = create(network, network_id=network.dual_net.id, fixed_ips=asked)
    assert {"subnet_id": subnet["id"], "ip_address": "2001:db8:40::4:50"} in port["fixed_ips"]
    assert len(port["fixed_ips"]) == 2
    assert ids(network, "fixed_ips=ip_address%3D2001:db8:40::4:50") == {port["id"]}
    body = {"port": {"network_id": network.dual_net.id, "fixed_ips": asked}}
    assert error(network.call("POST", "/ports", body)) == (
        409,
        "IpAddressAlreadyAllocated",
        f"IP address 2001:db8:40::4:50 already allocated in subnet {subnet['id']}",
    )


def test_an_ipv6_address_outside_the_subnet_or_the_network(network: NetworkTarget) -> None:
    subnet = v6_subnet(network)
    outside = {"subnet_id": subnet["id"], "ip_address": "2001:db8:99::50"}
    body = {"port": {"network_id": network.dual_net.id, "fixed_ips": [outside]}}
    assert error(network.call("POST", "/ports", body)) == (
        400,
        "InvalidIpForSubnet",
        "IP address 2001:db8:99::50 is not a valid IP for the specified subnet.",
    )
    body = {
        "port": {
            "network_id": network.dual_net.id,
            "fixed_ips": [{"ip_address": "2001:db8:99::51"}],
        }
    }
    assert error(network.call("POST", "/ports", body)) == (
        400,
        "InvalidIpForNetwork",
        "IP address 2001:db8:99::51 is not a valid IP for any of the subnets on the specified "
        "network.",
    )


def test_every_source_address_pairs(network: NetworkTarget) -> None:
    port = create(network, allowed_address_pairs=[{"ip_address": "0.0.0.0/0"}])
    assert [p["ip_address"] for p in port["allowed_address_pairs"]] == ["0.0.0.0/0"]
    # the function's spelling of ``source_dest_check: false`` on Neutron is accepted as is
    pairs = address_pairs(NicProfile(source_dest_check=False), Flavour.NEUTRON)
    port = create(network, network_id=network.dual_net.id, allowed_address_pairs=pairs)
    shown = sorted(p["ip_address"] for p in port["allowed_address_pairs"])
    assert shown == sorted(p["ip_address"] for p in pairs)
    assert {p["mac_address"] for p in port["allowed_address_pairs"]} == {port["mac_address"]}


@pytest.mark.parametrize(
    ("pair", "multicast"),
    [("::/0", "ff00::/8"), ("224.0.0.0/4", "224.0.0.0/4"), ("128.0.0.0/1", "224.0.0.0/4")],
)
def test_a_pair_that_overlaps_multicast_is_400(
    network: NetworkTarget, pair: str, multicast: str
) -> None:
    body = {
        "port": {"network_id": network.net_b.id, "allowed_address_pairs": [{"ip_address": pair}]}
    }
    assert error(network.call("POST", "/ports", body)) == (
        400,
        "HTTPBadRequest",
        f"Subnet {pair} overlaps with multicast range {multicast}, which is not supported.",
    )


def test_port_security_off_with_an_empty_group_list(network: NetworkTarget) -> None:
    port = create(network, port_security_enabled=False, security_groups=[])
    assert (port["port_security_enabled"], port["security_groups"]) == (False, [])
    group = new_group(network, "nic-sg-psec")
    body = {
        "port": {
            "network_id": network.net_b.id,
            "port_security_enabled": False,
            "security_groups": [group],
        }
    }
    assert error(network.call("POST", "/ports", body)) == (
        400,
        "PortSecurityAndIPRequiredForSecurityGroups",
        "Port security must be enabled and port must have an IP address in order to use "
        "security groups.",
    )
    guarded = create(network, security_groups=[group])
    off = {"port": {"port_security_enabled": False, "security_groups": []}}
    response = network.call("PUT", f"/ports/{guarded['id']}", off)
    assert response.status_code == 200, response.text
    updated = response.json()["port"]
    assert (updated["port_security_enabled"], updated["security_groups"]) == (False, [])
