"""The network API's contract: the same cases on the emulator's ``/v2.0`` and on Neutron 29's own
API code (ML2, no mechanism driver, a project member's view), over plain HTTP.

The function creates, finds, updates and deletes its ports through this API
(a deterministic name, a fixed IP, security groups), so every answer it reads
is pinned here: the shape of a port before it is bound, which filters match,
how lists page, what another project sees. The errors are in
``test_network_errors.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from network_targets import (
    GHOST,
    GROUP_FIELDS,
    NETWORK_FIELDS,
    PORT_FIELDS,
    RULE_FIELDS,
    SUBNET_FIELDS,
    NetworkTarget,
    create,
    default_group,
    error,
    ids,
    new_group,
)


def test_a_port_with_a_name_a_fixed_ip_and_groups_before_binding(network: NetworkTarget) -> None:
    group = new_group(network, "nic-sg")
    port = create(
        network, name="nic-a1", fixed_ips=[{"ip_address": "10.20.0.40"}], security_groups=[group]
    )
    assert set(port) == PORT_FIELDS
    assert (port["status"], port["device_id"], port["device_owner"]) == ("DOWN", "", "")
    assert (port["name"], port["network_id"]) == ("nic-a1", network.net_a.id)
    assert port["fixed_ips"] == [{"subnet_id": network.net_a.subnet_id, "ip_address": "10.20.0.40"}]
    assert port["security_groups"] == [group]
    assert port["project_id"] == port["tenant_id"] == network.project_id
    assert (port["binding:vnic_type"], port["admin_state_up"]) == ("normal", True)
    assert (port["allowed_address_pairs"], port["extra_dhcp_opts"], port["tags"]) == ([], [], [])
    assert port["port_security_enabled"] is True and port["description"] == ""
    assert port["revision_number"] == 1 and port["mac_address"].startswith("fa:16:3e:")
    shown = network.call("GET", f"/ports/{port['id']}").json()["port"]
    assert shown == port


def test_a_port_without_groups_joins_the_projects_default_group(network: NetworkTarget) -> None:
    port = create(network)
    assert port["security_groups"] == [default_group(network)]
    assert port["fixed_ips"][0]["subnet_id"] == network.net_b.subnet_id


def test_a_fixed_ip_by_subnet_only_takes_an_address_of_that_subnet(network: NetworkTarget) -> None:
    port = create(
        network, network_id=network.net_b.id, fixed_ips=[{"subnet_id": network.net_b.subnet_id}]
    )
    assert port["fixed_ips"][0]["ip_address"].startswith("10.30.0.")


def test_lists_filter_by_name_device_id_network_id_fixed_ips_and_id(network: NetworkTarget) -> None:
    a = create(network, name="nic-f1", fixed_ips=[{"ip_address": "10.20.0.41"}])
    b = create(
        network,
        name="nic-f2",
        network_id=network.net_a.id,
        fixed_ips=[{"ip_address": "10.20.0.43"}],
    )
    c = create(network, name="nic-f1")
    assert ids(network, "name=nic-f1") == {a["id"], c["id"]}
    assert ids(network, "name=nic-f") == set()  # exact match, not a prefix
    assert ids(network, f"name=nic-f1&network_id={network.net_a.id}") == {a["id"]}
    assert ids(network, "fixed_ips=ip_address%3D10.20.0.41") == {a["id"]}
    assert ids(network, f"fixed_ips=subnet_id%3D{network.net_b.subnet_id}") >= {c["id"]}
    assert ids(network, f"id={a['id']}&id={b['id']}") == {a["id"], b["id"]}
    assert ids(network, f"device_id={GHOST}") == set()
    assert {a["id"], b["id"], c["id"]} <= ids(network, "device_id=")  # unbound: ""
    assert ids(network, f"device_id=&network_id={network.net_b.id}&name=nic-f1") == {c["id"]}
    picked = network.call("GET", "/ports?name=nic-f2&fields=id&fields=name").json()["ports"]
    assert picked == [{"id": b["id"], "name": "nic-f2"}]


def test_update_the_name_and_allowed_address_pairs(network: NetworkTarget) -> None:
    port = create(network, name="nic-u1")
    body = {"port": {"name": "nic-u2", "allowed_address_pairs": [{"ip_address": "10.20.0.200"}]}}
    response = network.call("PUT", f"/ports/{port['id']}", body)
    assert response.status_code == 200, response.text
    updated = response.json()["port"]
    assert updated["name"] == "nic-u2" and updated["revision_number"] > port["revision_number"]
    assert updated["allowed_address_pairs"] == [
        {"ip_address": "10.20.0.200", "mac_address": port["mac_address"]}
    ]
    assert ids(network, "name=nic-u2") == {port["id"]}


def test_port_security_off_without_groups_is_created(network: NetworkTarget) -> None:
    port = create(network, port_security_enabled=False)
    assert (port["port_security_enabled"], port["security_groups"]) == (False, [])


def test_another_projects_port_is_404_and_not_listed(network: NetworkTarget) -> None:
    port = create(network, name="nic-private")
    other = network.other_token
    assert error(network.call("GET", f"/ports/{port['id']}", token=other)) == (
        404,
        "PortNotFound",
        f"Port {port['id']} could not be found.",
    )
    assert network.call("GET", "/ports?name=nic-private", token=other).json() == {"ports": []}
    assert error(network.call("DELETE", f"/ports/{port['id']}", token=other))[0] == 404
    assert ids(network, "name=nic-private") == {port["id"]}


def test_another_projects_network_is_404_for_a_port(network: NetworkTarget) -> None:
    body = {"port": {"network_id": network.net_a.id}}
    response = network.call("POST", "/ports", body, token=network.other_token)
    assert error(response) == (
        404,
        "NetworkNotFound",
        f"Network {network.net_a.id} could not be found.",
    )


def test_the_projects_networks_and_subnets(network: NetworkTarget) -> None:
    listed = network.call("GET", "/networks").json()["networks"]
    mine = {n["name"]: n for n in listed if n["project_id"] == network.project_id}
    assert {"harness-net-a", "harness-net-b"} <= set(mine)
    assert mine["harness-net-a"]["subnets"] == [network.net_a.subnet_id]
    assert mine["harness-net-a"]["shared"] is False
    subnet = network.call("GET", f"/subnets/{network.net_a.subnet_id}").json()["subnet"]
    assert (subnet["cidr"], subnet["gateway_ip"], subnet["ip_version"]) == (
        "10.20.0.0/24",
        "10.20.0.1",
        4,
    )
    others = network.call("GET", "/networks", token=network.other_token).json()["networks"]
    assert network.net_a.id not in {n["id"] for n in others}


def test_a_listed_port_is_the_port_shown(network: NetworkTarget) -> None:
    port = create(network, name="nic-l1")
    listed = network.call("GET", "/ports?name=nic-l1").json()["ports"]
    assert listed == [network.call("GET", f"/ports/{port['id']}").json()["port"]]


def test_an_address_pair_keeps_the_mac_it_was_given(network: NetworkTarget) -> None:
    pair = {"ip_address": "10.30.0.0/28", "mac_address": "fa:16:3e:00:00:01"}
    port = create(network, allowed_address_pairs=[pair])
    assert port["allowed_address_pairs"] == [pair]


def test_a_port_can_move_to_another_group(network: NetworkTarget) -> None:
    group = new_group(network, "nic-sg-move")
    port = create(network)
    body = {"port": {"security_groups": [group]}}
    assert network.call("PUT", f"/ports/{port['id']}", body).json()["port"]["security_groups"] == [
        group
    ]


def test_security_groups_as_a_member_sees_them(network: NetworkTarget) -> None:
    group_id = default_group(network)
    group = network.call("GET", f"/security-groups?id={group_id}").json()["security_groups"][0]
    assert group["name"] == "default" and group["project_id"] == network.project_id
    rules = sorted(
        (r["direction"], r["ethertype"], r["remote_group_id"])
        for r in group["security_group_rules"]
    )
    assert rules == [
        ("egress", "IPv4", None),
        ("egress", "IPv6", None),
        ("ingress", "IPv4", group_id),
        ("ingress", "IPv6", group_id),
    ]
    other = network.call("POST", "/security-groups", {"security_group": {"name": "x"}}).json()
    assert {
        (r["direction"], r["ethertype"]) for r in other["security_group"]["security_group_rules"]
    } == {("egress", "IPv4"), ("egress", "IPv6")}


def test_a_port_may_take_the_subnets_gateway_address(network: NetworkTarget) -> None:
    port = create(network, fixed_ips=[{"ip_address": "10.20.0.1"}])  # no router uses it
    assert port["fixed_ips"][0]["ip_address"] == "10.20.0.1"


def test_lists_page_by_id_with_next_and_previous_links(network: NetworkTarget) -> None:
    made = sorted(create(network, name="nic-page")["id"] for _ in range(3))
    first = network.call("GET", "/ports?name=nic-page&limit=2").json()
    assert [p["id"] for p in first["ports"]] == made[:2]
    links = {link["rel"]: link["href"] for link in first["ports_links"]}
    base = f"{network.url}/v2.0/ports?name=nic-page&limit=2"
    assert links == {
        "next": f"{base}&marker={made[1]}",
        "previous": f"{base}&marker={made[0]}&page_reverse=True",
    }
    second = network.call("GET", f"/ports?name=nic-page&limit=2&marker={made[1]}").json()
    assert [p["id"] for p in second["ports"]] == made[2:]
    assert [link["rel"] for link in second["ports_links"]] == ["previous"]


def test_the_fields_of_networks_subnets_groups_and_rules(network: NetworkTarget) -> None:
    listed = network.call("GET", f"/networks?id={network.net_a.id}").json()["networks"][0]
    assert set(listed) == NETWORK_FIELDS
    subnet = network.call("GET", f"/subnets?id={network.net_a.subnet_id}").json()["subnets"][0]
    assert set(subnet) == SUBNET_FIELDS
    group = network.call("GET", "/security-groups?name=default").json()["security_groups"][0]
    assert set(group) == GROUP_FIELDS and group["description"] == "Default security group"
    assert {frozenset(rule) for rule in group["security_group_rules"]} == {RULE_FIELDS}
    assert {
        (r["belongs_to_default_sg"], r["description"], r["revision_number"])
        for r in group["security_group_rules"]
    } == {(None, None, 0)}


def test_a_port_on_another_projects_shared_network(network: NetworkTarget) -> None:
    shared = network.shared_net
    listed = network.call("GET", f"/networks?id={shared.id}").json()["networks"]
    assert [(n["shared"], n["project_id"] != network.project_id) for n in listed] == [(True, True)]
    anywhere = create(network, network_id=shared.id)
    assert anywhere["project_id"] == network.project_id  # the port is the member's own
    by_subnet = create(network, network_id=shared.id, fixed_ips=[{"subnet_id": shared.subnet_id}])
    assert by_subnet["fixed_ips"][0]["subnet_id"] == shared.subnet_id


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        (
            {"fixed_ips": [{"ip_address": "10.60.0.9"}]},
            "(rule:create_port and (rule:create_port:fixed_ips and "
            "(rule:create_port:fixed_ips:ip_address)))",
        ),
        (
            {"allowed_address_pairs": [{"ip_address": "10.60.0.99"}]},
            "(rule:create_port and (rule:create_port:allowed_address_pairs and "
            "(rule:create_port:allowed_address_pairs:ip_address)))",
        ),
        (
            {"port_security_enabled": False},
            "(rule:create_port and rule:create_port:port_security_enabled)",
        ),
    ],
)
def test_only_the_networks_owner_may_ask_for_an_address_pairs_or_port_security(
    network: NetworkTarget, fields: dict[str, Any], rule: str
) -> None:
    body = {"port": {"network_id": network.shared_net.id, **fields}}
    assert error(network.call("POST", "/ports", body)) == (
        403,
        "PolicyNotAuthorized",
        f"{rule} is disallowed by policy",
    )
