"""The emulator's Neutron-compatible port API (``/v2.0``): through openstacksdk's network proxy
and plain HTTP, as a project member sees it (the answers the contract suite measured on
Neutron 29's own API code, ``tests/contract/test_network_contract.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from openstack import connection, exceptions

from emulator.client import AdminClient
from emulator.server import EmulatorServer

pytestmark = pytest.mark.filterwarnings("ignore::openstack.warnings.RemovedInSDK50Warning")

NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
OTHER_NET = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
GHOST = "11111111-2222-4333-8444-555555555555"
MINE, THEIRS = "project-mine", "project-theirs"
TOKEN, THEIR_TOKEN = "token-mine", "token-theirs"
#: Every field Neutron 29 shows a project member on a port (ML2, port_security, no drivers).
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


class Net:
    """Plain HTTP on ``/v2.0`` with one project's token."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def __call__(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        sent = {"X-Auth-Token": self.token, **headers}
        return requests.request(
            method, f"{self.url}/v2.0{path}", json=body, headers=sent, timeout=10
        )

    def port(self, **fields: Any) -> dict[str, Any]:
        response = self("POST", "/ports", {"port": {"network_id": NET, **fields}})
        assert response.status_code == 201, response.text
        port: dict[str, Any] = response.json()["port"]
        return port

    def error(self, response: requests.Response) -> tuple[int, str, str]:
        error = response.json()["NeutronError"]
        assert set(error) == {"type", "message", "detail"}
        return response.status_code, error["type"], error["message"]


@pytest.fixture
def net(emulator: EmulatorServer, admin: AdminClient) -> Net:
    admin.create_network("10.20.0.0/24", id=NET, name="storage")
    admin.create_network("10.30.0.0/24", id=OTHER_NET, name="backup")
    admin.add_token(TOKEN, [MINE])
    admin.add_token(THEIR_TOKEN, [THEIRS])
    return Net(emulator.url, TOKEN)


@pytest.fixture
def theirs(emulator: EmulatorServer, net: Net) -> Net:
    return Net(emulator.url, THEIR_TOKEN)


@pytest.fixture
def conn(emulator: EmulatorServer, net: Net) -> Iterator[connection.Connection]:
    session = ks_session.Session(auth=token_endpoint.Token(emulator.url, TOKEN))
    conn = connection.Connection(session=session, network_endpoint_override=f"{emulator.url}/v2.0")
    yield conn
    conn.close()
    session.session.close()


def test_sdk_creates_finds_updates_and_deletes_a_port(conn: connection.Connection) -> None:
    port = conn.network.create_port(
        network_id=NET, name="nic-abc-storage", fixed_ips=[{"ip_address": "10.20.0.40"}]
    )
    assert (port.status, port.device_id, port.device_owner) == ("DOWN", "", "")
    assert port.fixed_ips[0]["ip_address"] == "10.20.0.40" and port.project_id == MINE
    assert [p.id for p in conn.network.ports(name="nic-abc-storage")] == [port.id]
    assert list(conn.network.ports(name="nic-abc")) == []  # exact names, not prefixes
    revision = port.revision_number
    updated = conn.network.update_port(
        port, name="renamed", allowed_address_pairs=[{"ip_address": "10.20.0.200"}]
    )
    assert updated.name == "renamed" and updated.revision_number > revision
    assert updated.allowed_address_pairs == [
        {"ip_address": "10.20.0.200", "mac_address": port.mac_address}
    ]
    conn.network.delete_port(port)
    with pytest.raises(exceptions.NotFoundException):
        conn.network.get_port(port.id)


def test_sdk_lists_networks_subnets_and_the_default_security_group(
    conn: connection.Connection,
) -> None:
    assert {n.name for n in conn.network.networks()} == {"storage", "backup"}
    subnet = next(conn.network.subnets(network_id=NET))
    assert (subnet.cidr, subnet.gateway_ip, subnet.ip_version) == ("10.20.0.0/24", "10.20.0.1", 4)
    groups = list(conn.network.security_groups())
    assert [g.name for g in groups] == ["default"] and groups[0].project_id == MINE


def test_an_unbound_port_has_neutrons_fields_and_the_default_group(net: Net) -> None:
    port = net.port(name="a", fixed_ips=[{"ip_address": "10.20.0.40"}])
    assert set(port) == PORT_FIELDS
    assert (port["status"], port["device_id"], port["device_owner"]) == ("DOWN", "", "")
    default = net("GET", "/security-groups?name=default").json()["security_groups"][0]
    assert port["security_groups"] == [default["id"]]
    assert port["tenant_id"] == port["project_id"] == MINE
    assert port["mac_address"].startswith("fa:16:3e:")


def test_filters_name_device_id_network_id_fixed_ips_and_id(net: Net) -> None:
    a = net.port(name="a", fixed_ips=[{"ip_address": "10.20.0.40"}])
    b = net.port(name="b")
    c = net("POST", "/ports", {"port": {"network_id": OTHER_NET, "name": "a"}}).json()["port"]

    def ids(query: str) -> set[str]:
        return {p["id"] for p in net("GET", f"/ports?{query}").json()["ports"]}

    assert ids("name=a") == {a["id"], c["id"]}
    assert ids(f"name=a&network_id={NET}") == {a["id"]}
    assert ids("fixed_ips=ip_address%3D10.20.0.40") == {a["id"]}
    assert ids(f"id={a['id']}&id={b['id']}") == {a["id"], b["id"]}
    assert ids("device_id=") == {a["id"], b["id"], c["id"]}  # unbound: device_id ""
    assert ids(f"device_id={GHOST}") == set()
    fields = net("GET", "/ports?name=b&fields=id&fields=name").json()["ports"]
    assert fields == [{"id": b["id"], "name": "b"}]


def test_an_unknown_filter_is_a_400(net: Net) -> None:
    response = net("GET", "/ports?colour=red")
    assert net.error(response) == (
        400,
        "HTTPBadRequest",
        "['colour'] is invalid attribute for filtering",
    )


def test_the_same_ip_twice_is_409_ip_address_already_allocated(net: Net) -> None:
    first = net.port(fixed_ips=[{"ip_address": "10.20.0.40"}])
    response = net(
        "POST", "/ports", {"port": {"network_id": NET, "fixed_ips": [{"ip_address": "10.20.0.40"}]}}
    )
    subnet = first["fixed_ips"][0]["subnet_id"]
    assert net.error(response) == (
        409,
        "IpAddressAlreadyAllocated",
        f"IP address 10.20.0.40 already allocated in subnet {subnet}",
    )


def test_an_ip_outside_the_subnets_is_400_invalid_ip_for_network(net: Net) -> None:
    response = net(
        "POST", "/ports", {"port": {"network_id": NET, "fixed_ips": [{"ip_address": "172.16.5.5"}]}}
    )
    assert net.error(response)[:2] == (400, "InvalidIpForNetwork")
    assert "172.16.5.5 is not a valid IP for any of the subnets" in net.error(response)[2]


def test_an_unknown_network_is_404_network_not_found(net: Net) -> None:
    response = net("POST", "/ports", {"port": {"network_id": GHOST}})
    assert net.error(response) == (404, "NetworkNotFound", f"Network {GHOST} could not be found.")


def test_port_security_off_without_groups_is_fine_and_with_groups_a_400(net: Net) -> None:
    port = net.port(port_security_enabled=False)
    assert (port["port_security_enabled"], port["security_groups"]) == (False, [])
    group = net("GET", "/security-groups").json()["security_groups"][0]["id"]
    response = net(
        "POST",
        "/ports",
        {"port": {"network_id": NET, "port_security_enabled": False, "security_groups": [group]}},
    )
    assert net.error(response)[:2] == (400, "PortSecurityAndIPRequiredForSecurityGroups")


def test_a_second_delete_is_404_port_not_found(net: Net) -> None:
    port = net.port()
    assert net("DELETE", f"/ports/{port['id']}").status_code == 204
    response = net("DELETE", f"/ports/{port['id']}")
    assert net.error(response) == (404, "PortNotFound", f"Port {port['id']} could not be found.")


def test_another_projects_port_is_404_and_absent_from_lists(net: Net, theirs: Net) -> None:
    port = theirs.port(name="shared-name")
    assert net.error(net("GET", f"/ports/{port['id']}"))[:2] == (404, "PortNotFound")
    assert net.error(net("PUT", f"/ports/{port['id']}", {"port": {"name": "x"}}))[0] == 404
    assert net.error(net("DELETE", f"/ports/{port['id']}"))[0] == 404
    assert net("GET", "/ports?name=shared-name").json()["ports"] == []
    assert net("GET", "/ports").json()["ports"] == []
    assert [p["id"] for p in theirs("GET", "/ports").json()["ports"]] == [port["id"]]


def test_a_group_of_another_project_is_404(net: Net, theirs: Net) -> None:
    group = theirs("GET", "/security-groups").json()["security_groups"][0]["id"]
    response = net("POST", "/ports", {"port": {"network_id": NET, "security_groups": [group]}})
    assert net.error(response) == (
        404,
        "SecurityGroupNotFound",
        f"Security group {group} does not exist",
    )


def test_the_project_comes_from_the_token(emulator: EmulatorServer, net: Net) -> None:
    assert Net(emulator.url, "nope")("GET", "/ports").status_code == 401
    anywhere = Net(emulator.url, "emulator-token")  # a token for any project names one
    response = anywhere("GET", "/ports")
    assert net.error(response)[:2] == (403, "HTTPForbidden")
    created = anywhere("POST", "/ports", {"port": {"network_id": NET}}, **{"X-Project-Id": MINE})
    assert created.json()["port"]["project_id"] == MINE
    claimed = net("GET", "/ports", **{"X-Project-Id": THEIRS})  # a bound token cannot
    assert net.error(claimed)[0] == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"port": {"network_id": NET, "colour": "red"}}, "Unrecognized attribute(s) 'colour'"),
        (
            {"port": {"name": "x"}},
            "Failed to parse request. Required attribute 'network_id' not specified",
        ),
        (
            {"port": {"network_id": NET, "name": 5}},
            "Invalid input for name. Reason: '5' is not a valid string.",
        ),
        (
            {"port": {"network_id": NET, "fixed_ips": [{"ip_address": "not-an-ip"}]}},
            "Invalid input for fixed_ips. Reason: 'not-an-ip' is not a valid IP address.",
        ),
        (
            {"port": {"network_id": NET, "status": "ACTIVE"}},
            "Attribute 'status' not allowed in POST",
        ),
    ],
)
def test_bad_bodies_are_400_http_bad_request(net: Net, body: Any, message: str) -> None:
    assert net.error(net("POST", "/ports", body)) == (400, "HTTPBadRequest", message)


def test_the_admin_api_lists_every_projects_ports(
    net: Net, theirs: Net, admin: AdminClient
) -> None:
    mine, other = net.port(name="m"), theirs.port(name="t")
    assert {p["id"] for p in admin.ports()} == {mine["id"], other["id"]}
    assert [p["id"] for p in admin.ports(project_id=THEIRS)] == [other["id"]]
    assert [
        p["name"] for p in admin.ports(fixed_ips=f"ip_address={mine['fixed_ips'][0]['ip_address']}")
    ] == ["m"]


def test_a_projects_own_network_is_hidden_from_the_others(
    net: Net, theirs: Net, admin: AdminClient
) -> None:
    owned = admin.create_network("10.40.0.0/24", name="private-b", project_id=THEIRS)
    mine = {n["name"]: n for n in net("GET", "/networks").json()["networks"]}
    assert set(mine) == {"storage", "backup"}  # unowned: every project's, as its own
    assert (mine["storage"]["shared"], mine["storage"]["project_id"]) == (False, MINE)
    their_view = {n["name"]: n for n in theirs("GET", "/networks").json()["networks"]}
    assert their_view["private-b"]["shared"] is False
    assert their_view["private-b"]["project_id"] == THEIRS
    response = net("POST", "/ports", {"port": {"network_id": owned["id"]}})
    assert net.error(response)[:2] == (404, "NetworkNotFound")
    assert theirs.port(network_id=owned["id"])["network_id"] == owned["id"]


def test_the_fault_plan_applies_to_the_network_api(net: Net, admin: AdminClient) -> None:
    admin.set_faults(error_rate=1.0, seed=1)
    assert net("GET", "/ports").status_code in (500, 503)
    admin.set_faults(error_rate=0.0)
    assert net("GET", "/ports").status_code == 200
    assert admin.set_faults()["counts"]["error"] == 1
    assert [r["path"] for r in admin.requests_log()][-1] == "/v2.0/ports"  # logged too
