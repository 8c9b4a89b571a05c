"""IPv6 subnets on the emulator's networks (``/v2.0``, as a project member): a network may
have a second, IPv6 subnet; a port gets an address on it when it asks (by subnet or by
address) and, as in Neutron, when it names no fixed IP at all; a port that names only an
IPv4 address gets none. The NIC profile's port fields (``function.domain.port_profile``)
are accepted as they are, and a port made from them shows no drift."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.domain.port_profile import Drift, Flavour, port_fields, profile_drift, subnets_of
from function.domain.profile import AddressPair, NicProfile

NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
V4_ONLY = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
MINE, TOKEN = "project-mine", "token-mine"


class Net:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(
            method, f"{self.url}/v2.0{path}", json=body, headers={"X-Auth-Token": TOKEN}, timeout=10
        )

    def port(self, **fields: Any) -> dict[str, Any]:
        answer = self("POST", "/ports", {"port": {"network_id": NET, **fields}})
        assert answer.status_code == 201, answer.text
        port: dict[str, Any] = answer.json()["port"]
        return port


@pytest.fixture
def net(emulator: EmulatorServer, admin: AdminClient) -> Net:
    admin.create_network("10.20.0.0/24", id=NET, name="storage", ipv6_cidr="2001:db8:20::/64")
    admin.create_network("10.30.0.0/24", id=V4_ONLY, name="backup")
    admin.add_token(TOKEN, [MINE])
    return Net(emulator.url)


def subnets(net: Net) -> dict[int, str]:
    listed = net("GET", f"/subnets?network_id={NET}").json()
    return {subnet.ip_version: subnet.id for subnet in subnets_of(listed)}


def versions(port: dict[str, Any]) -> list[tuple[str, str]]:
    return [(ip["subnet_id"], ip["ip_address"]) for ip in port["fixed_ips"]]


def test_the_network_shows_both_subnets(net: Net) -> None:
    ids = subnets(net)
    assert set(ids) == {4, 6}
    network = net("GET", f"/networks/{NET}").json()["network"]
    assert network["subnets"] == [ids[4], ids[6]]
    v6 = net("GET", f"/subnets/{ids[6]}").json()["subnet"]
    assert (v6["cidr"], v6["ipv6_address_mode"], v6["gateway_ip"]) == (
        "2001:db8:20::/64",
        "dhcpv6-stateful",
        "2001:db8:20::",  # Neutron's: the subnet-router anycast address (the contract pins it)
    )


def test_a_port_gets_an_ipv6_address_when_it_asks(net: Net) -> None:
    ids = subnets(net)
    by_subnet = net.port(fixed_ips=[{"ip_address": "10.20.0.40"}, {"subnet_id": ids[6]}])
    assert versions(by_subnet) == [(ids[4], "10.20.0.40"), (ids[6], "2001:db8:20::1")]
    by_address = net.port(fixed_ips=[{"subnet_id": ids[4]}, {"ip_address": "2001:db8:20::50"}])
    assert versions(by_address)[1] == (ids[6], "2001:db8:20::50")
    taken = net(
        "POST",
        "/ports",
        {"port": {"network_id": NET, "fixed_ips": [{"ip_address": "2001:db8:20::50"}]}},
    )
    assert (taken.status_code, taken.json()["NeutronError"]["type"]) == (
        409,
        "IpAddressAlreadyAllocated",
    )


def test_no_fixed_ips_gives_one_of_each_and_an_ipv4_ask_gives_ipv4_only(net: Net) -> None:
    both = net.port()
    assert [ip["ip_address"].count(":") > 0 for ip in both["fixed_ips"]] == [False, True]
    v4 = net.port(fixed_ips=[{"ip_address": "10.20.0.41"}])
    assert len(v4["fixed_ips"]) == 1
    elsewhere = net("POST", "/ports", {"port": {"network_id": V4_ONLY}}).json()["port"]
    assert len(elsewhere["fixed_ips"]) == 1


def test_an_ipv6_address_is_freed_with_its_port(net: Net) -> None:
    first = net.port(fixed_ips=[{"ip_address": "2001:db8:20::60"}])
    assert net("DELETE", f"/ports/{first['id']}").status_code == 204
    again = net.port(fixed_ips=[{"ip_address": "2001:db8:20::60"}])
    assert versions(again)[-1][1] == "2001:db8:20::60"


@pytest.mark.parametrize("flavour", list(Flavour))
def test_a_port_made_from_a_profile_shows_no_drift(net: Net, flavour: Flavour) -> None:
    listed = subnets_of(net("GET", f"/subnets?network_id={NET}").json())
    profile = NicProfile(
        source_dest_check=False, ipv6=True, allowed_address_pairs=(AddressPair("10.20.0.200"),)
    )
    port = net.port(name="nic-x", **port_fields(None, profile, flavour, listed))
    assert profile_drift(port, profile, flavour, listed) == Drift()
    assert profile_drift(
        port, NicProfile(ipv6=True, ipv6_address="2001:db8:20::99"), flavour, listed
    ).fields == ("ipv6_address",)
