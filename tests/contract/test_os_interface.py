"""The os-interface contract: what the function relies on, asserted on the emulator and on Nova.

Each test runs on both targets (``target`` fixture). Where they must differ,
the test names the target and says why. The function's own client
(``NovaClient``) drives the calls it makes; raw ``requests`` covers the
malformed bodies the client would never send.
"""

from __future__ import annotations

import ipaddress
import random
import time
import uuid
from typing import Any

import pytest
import requests
from contract_targets import EmulatorTarget, Target

from function.compute.nova.client import NovaClient
from function.domain.errors import ApiPermanentError, ApiTemporaryError

ATTACHMENT_KEYS = {"net_id", "port_id", "mac_addr", "port_state", "fixed_ips"}
UNEXPECTED = "Unexpected API Error. Please contact the administrator\n<class '{}'>"
DETACH_POLL_S = 10.0


def call(
    target: Target, method: str, path: str, body: Any = None, microversion: str | None = None
) -> requests.Response:
    headers = {"X-Auth-Token": target.token, "Accept": "application/json"}
    if microversion is not None:
        headers["X-OpenStack-Nova-API-Version"] = microversion
    return target.session.request(method, target.api(path), json=body, headers=headers, timeout=60)


def attach_raw(target: Target, server: str, attachment: Any, **kw: Any) -> requests.Response:
    body = attachment if kw.pop("bare", False) else {"interfaceAttachment": attachment}
    return call(target, "POST", f"/servers/{server}/os-interface", body, **kw)


def fault(response: requests.Response, kind: str, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == [kind], body
    assert body[kind]["code"] == status
    return str(body[kind]["message"])


def in_cidr(ip: str, cidr: str) -> bool:
    return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)


def spare_ip(cidr: str) -> str:
    """A host address few tests will have taken (the Nova target is shared by the session)."""
    net = ipaddress.ip_network(cidr)
    return str(net.network_address + random.randint(100, 250))


def port_ids(client: NovaClient, target: Target, server: str) -> list[str]:
    return [i.port_id for i in client.list_interfaces(target.project_id, server)]


@pytest.fixture
def server(target: Target) -> str:
    return target.create_server(["role=db", "env=prod"])


# -- reading -----------------------------------------------------------------------------


def test_a_new_server_lists_its_boot_interface(
    target: Target, client: NovaClient, server: str
) -> None:
    response = call(target, "GET", f"/servers/{server}/os-interface")
    assert response.status_code == 200
    (item,) = response.json()["interfaceAttachments"]
    assert set(item) == ATTACHMENT_KEYS
    assert item["net_id"] == target.boot.id and item["port_state"] == "ACTIVE"
    (ip,) = item["fixed_ips"]
    assert ip["subnet_id"] == target.boot.subnet_id and in_cidr(ip["ip_address"], target.boot.cidr)
    assert [i.port_id for i in client.list_interfaces(target.project_id, server)] == [
        item["port_id"]
    ]


def test_tags_need_microversion_2_26(target: Target, client: NovaClient) -> None:
    server = target.create_server(["role=db", "backup"])
    assert sorted(client.get_tags(target.project_id, server)) == ["backup", "role=db"]
    assert sorted(client.get_server(target.project_id, server)["tags"]) == ["backup", "role=db"]
    fault(call(target, "GET", f"/servers/{server}/tags"), "itemNotFound", 404)
    plain = call(target, "GET", f"/servers/{server}").json()["server"]
    assert "tags" not in plain


def test_an_unknown_server_is_404(target: Target, client: NovaClient) -> None:
    ghost = str(uuid.uuid4())
    message = fault(call(target, "GET", f"/servers/{ghost}/os-interface"), "itemNotFound", 404)
    assert message == f"Instance {ghost} could not be found."
    response = attach_raw(target, ghost, {"net_id": target.net_a.id})
    assert fault(response, "itemNotFound", 404) == message
    with pytest.raises(ApiPermanentError) as caught:
        client.list_interfaces(target.project_id, ghost)
    assert caught.value.status == 404


def test_an_unknown_token_is_401(target: Target, server: str) -> None:
    response = target.session.get(
        target.api(f"/servers/{server}/os-interface"), headers={"X-Auth-Token": "nope"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401


# -- attaching ---------------------------------------------------------------------------------


def test_attach_by_net_id_answers_200_with_the_new_port(
    target: Target, client: NovaClient, server: str
) -> None:
    response = attach_raw(target, server, {"net_id": target.net_a.id})
    assert response.status_code == 200, response.text  # 200, not the 202 some docs say
    item = response.json()["interfaceAttachment"]
    assert set(item) == ATTACHMENT_KEYS
    assert item["net_id"] == target.net_a.id and item["port_state"] == "ACTIVE"
    (ip,) = item["fixed_ips"]
    assert ip["subnet_id"] == target.net_a.subnet_id and in_cidr(
        ip["ip_address"], target.net_a.cidr
    )
    listed = {i.port_id: i for i in client.list_interfaces(target.project_id, server)}
    assert listed[item["port_id"]].to_json() == item
    assert item["port_id"] in {p["port_id"] for p in target.own_view(server)}


def test_attach_by_net_id_through_the_function_client(
    target: Target, client: NovaClient, server: str
) -> None:
    nic = client.attach(
        target.project_id, server, {"interfaceAttachment": {"net_id": target.net_b.id}}
    )
    assert nic.net_id == target.net_b.id and in_cidr(nic.fixed_ips[0].ip_address, target.net_b.cidr)
    assert nic.port_id in port_ids(client, target, server)


def test_attach_with_one_fixed_ip_gets_that_ip_and_a_second_time_409(
    target: Target, client: NovaClient, server: str
) -> None:
    ip = spare_ip(target.net_a.cidr)
    body = {"interfaceAttachment": {"net_id": target.net_a.id, "fixed_ips": [{"ip_address": ip}]}}
    nic = client.attach(target.project_id, server, body)
    assert [f.ip_address for f in nic.fixed_ips] == [ip]
    assert nic.fixed_ips[0].subnet_id == target.net_a.subnet_id
    with pytest.raises(ApiPermanentError) as caught:
        client.attach(target.project_id, server, body)
    assert (caught.value.status, caught.value.code) == (409, "fixed_ip_in_use")
    message = fault(
        attach_raw(target, server, body["interfaceAttachment"]), "conflictingRequest", 409
    )
    assert message == f"Fixed IP {ip} is already in use."


def test_attach_by_port_id(target: Target, client: NovaClient, server: str) -> None:
    port = target.free_port(target.net_b.id)
    nic = client.attach(target.project_id, server, {"interfaceAttachment": {"port_id": port}})
    assert (nic.port_id, nic.net_id) == (port, target.net_b.id)
    assert port in port_ids(client, target, server)


def test_a_port_bound_to_another_server_is_409(
    target: Target, client: NovaClient, server: str
) -> None:
    other = target.create_server([])
    (taken,) = port_ids(client, target, other)
    message = fault(attach_raw(target, server, {"port_id": taken}), "conflictingRequest", 409)
    assert message == f"Port {taken} is still in use."
    with pytest.raises(ApiPermanentError) as caught:
        client.attach(target.project_id, server, {"interfaceAttachment": {"port_id": taken}})
    assert caught.value.code == "port_in_use"


def test_an_unknown_port_is_404(target: Target, server: str) -> None:
    ghost = str(uuid.uuid4())
    message = fault(attach_raw(target, server, {"port_id": ghost}), "itemNotFound", 404)
    assert message == f"Port id {ghost} could not be found."


def test_two_nics_on_one_network_are_allowed(
    target: Target, client: NovaClient, server: str
) -> None:
    """Nothing in the API stops a double attach: duplicate protection is the function's job."""
    body = {"interfaceAttachment": {"net_id": target.net_a.id}}
    first = client.attach(target.project_id, server, body)
    second = client.attach(target.project_id, server, body)
    assert first.port_id != second.port_id
    on_a = [
        i for i in client.list_interfaces(target.project_id, server) if i.net_id == target.net_a.id
    ]
    assert sorted(i.port_id for i in on_a) == sorted([first.port_id, second.port_id])


def test_a_second_nic_on_the_boot_network_is_allowed(target: Target, server: str) -> None:
    response = attach_raw(target, server, {"net_id": target.boot.id})
    assert response.status_code == 200, response.text


def test_device_tag_needs_2_49(target: Target, server: str) -> None:
    tagged = {"net_id": target.net_a.id, "tag": "nicattach"}
    message = fault(attach_raw(target, server, tagged), "badRequest", 400)
    assert "Additional properties are not allowed ('tag' was unexpected)" in message
    assert attach_raw(target, server, tagged, microversion="2.49").status_code == 200


BAD_BODIES: dict[str, tuple[Any, str]] = {
    "two fixed_ips": (
        {
            "net_id": "NET",
            "fixed_ips": [{"ip_address": "10.20.0.80"}, {"ip_address": "10.20.0.81"}],
        },
        "is too long",
    ),
    "fixed_ips without net_id": (
        {"fixed_ips": [{"ip_address": "10.20.0.80"}]},
        "Must input network_id when request IP address",
    ),
    "ip_address not an IP": (
        {"net_id": "NET", "fixed_ips": [{"ip_address": "not-an-ip"}]},
        "Invalid input for field/attribute ip_address. Value: not-an-ip.",
    ),
    "port_id and net_id": (
        {"net_id": "NET", "port_id": "PORT"},
        "Must not input both network_id and port_id",
    ),
    "net_id not a uuid": (
        {"net_id": "private"},
        "Invalid input for field/attribute net_id. Value: private. 'private' is not a 'uuid'",
    ),
    "unknown key": (
        {"net_id": "NET", "foo": "bar"},
        "Additional properties are not allowed ('foo' was unexpected)",
    ),
    "empty attachment, several networks": (
        {},
        "Multiple possible networks found, use a Network ID to be more specific.",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_malformed_attach_is_400(target: Target, server: str, case: str) -> None:
    template, expected = BAD_BODIES[case]
    port = str(uuid.uuid4())
    body = {
        key: (target.net_a.id if value == "NET" else port if value == "PORT" else value)
        for key, value in template.items()
    }
    assert expected in fault(attach_raw(target, server, body), "badRequest", 400)


def test_no_body_is_400(target: Target, server: str) -> None:
    response = call(target, "POST", f"/servers/{server}/os-interface")
    assert "None is not of type 'object'" in fault(response, "badRequest", 400)


# -- where the emulator's default and Nova differ ----------------------------------------------


def test_an_unknown_network(target: Target, client: NovaClient, server: str) -> None:
    """Nova: 500 computeFault naming NetworkNotFoundClient (untranslated Neutron error).
    Emulator: a helpful 404 by default; with ``nova_errors`` exactly Nova's 500."""
    ghost = str(uuid.uuid4())
    nova_fault = UNEXPECTED.format("neutronclient.common.exceptions.NetworkNotFoundClient")
    if isinstance(target, EmulatorTarget):
        message = fault(attach_raw(target, server, {"net_id": ghost}), "itemNotFound", 404)
        assert message == f"Network {ghost} could not be found."
        target.set_nova_errors(True)
    response = attach_raw(target, server, {"net_id": ghost})
    assert fault(response, "computeFault", 500) == nova_fault
    with pytest.raises(ApiPermanentError) as caught:  # a 500, yet permanent: read the message
        client.attach(target.project_id, server, {"interfaceAttachment": {"net_id": ghost}})
    assert caught.value.code == "network_not_found"
    assert len(port_ids(client, target, server)) == 1  # nothing was attached


def test_a_fixed_ip_outside_the_subnet(target: Target, server: str) -> None:
    """Nova: 500 computeFault naming nova.exception.InvalidInput (not mapped by os-interface).
    Emulator: 400 by default; with ``nova_errors`` exactly Nova's 500."""
    body = {"net_id": target.net_a.id, "fixed_ips": [{"ip_address": "172.16.5.5"}]}
    if isinstance(target, EmulatorTarget):
        assert "172.16.5.5" in fault(attach_raw(target, server, body), "badRequest", 400)
        target.set_nova_errors(True)
    message = fault(attach_raw(target, server, body), "computeFault", 500)
    assert message == UNEXPECTED.format("nova.exception.InvalidInput")


# -- detaching and BUILD -----------------------------------------------------------------------


def test_detach_is_202_and_asynchronous(target: Target, client: NovaClient, server: str) -> None:
    """Poll: Nova casts the detach to the compute service; 202 also for a port not attached."""
    nic = client.attach(
        target.project_id, server, {"interfaceAttachment": {"net_id": target.net_a.id}}
    )
    path = f"/servers/{server}/os-interface/{nic.port_id}"
    shown = call(target, "GET", path)
    assert (
        shown.status_code == 200 and shown.json()["interfaceAttachment"]["port_id"] == nic.port_id
    )
    response = call(target, "DELETE", path)
    assert (response.status_code, response.content) == (202, b"")
    deadline = time.monotonic() + DETACH_POLL_S
    while nic.port_id in port_ids(client, target, server):
        assert time.monotonic() < deadline, "detached port still listed"
        time.sleep(0.1)
    assert nic.port_id not in {p["port_id"] for p in target.own_view(server)}
    assert call(target, "DELETE", path).status_code == 202  # again: still 202
    ghost = f"/servers/{server}/os-interface/{uuid.uuid4()}"
    assert call(target, "DELETE", ghost).status_code == 202
    client.detach(target.project_id, server, nic.port_id)  # the client accepts the empty 202


def test_a_building_server_lists_nothing_at_first_and_refuses_attach_with_409(
    target: Target, client: NovaClient
) -> None:
    server = target.create_server(["role=db"], hold=True)
    assert client.get_server(target.project_id, server)["status"] == "BUILD"
    assert client.list_interfaces(target.project_id, server) == []
    body = {"interfaceAttachment": {"net_id": target.net_a.id}}
    message = fault(
        attach_raw(target, server, body["interfaceAttachment"]), "conflictingRequest", 409
    )
    assert (
        message == f"Cannot 'attach_interface' instance {server} while it is in vm_state building"
    )
    with pytest.raises(ApiTemporaryError) as caught:
        client.attach(target.project_id, server, body)
    assert caught.value.code == "server_busy"
    deadline = time.monotonic() + DETACH_POLL_S
    # Both list the boot port once it exists (Neutron made it), still in BUILD (spawning).
    while not (listed := client.list_interfaces(target.project_id, server)):
        assert time.monotonic() < deadline, "the boot port never appeared"
        time.sleep(0.1)
    assert [i.net_id for i in listed] == [target.boot.id]
    assert client.get_server(target.project_id, server)["status"] == "BUILD"
    target.release(server)
    assert client.attach(target.project_id, server, body).net_id == target.net_a.id
