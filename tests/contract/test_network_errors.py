"""The network API's errors, the same cases on the emulator and on Neutron 29's own API code:
status, ``NeutronError`` type and message, word for word (the function decides on the type).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from network_targets import GHOST, NetworkTarget, create, default_group, error


def test_an_unknown_filter_is_a_400(network: NetworkTarget) -> None:
    response = network.call("GET", "/ports?colour=red")
    assert error(response) == (
        400,
        "HTTPBadRequest",
        "['colour'] is invalid attribute for filtering",
    )


def test_a_second_port_asking_for_the_same_ip_is_409(network: NetworkTarget) -> None:
    create(network, fixed_ips=[{"ip_address": "10.20.0.42"}])
    body = {"port": {"network_id": network.net_a.id, "fixed_ips": [{"ip_address": "10.20.0.42"}]}}
    assert error(network.call("POST", "/ports", body)) == (
        409,
        "IpAddressAlreadyAllocated",
        f"IP address 10.20.0.42 already allocated in subnet {network.net_a.subnet_id}",
    )


def test_an_ip_outside_the_networks_subnets_is_400(network: NetworkTarget) -> None:
    body = {"port": {"network_id": network.net_a.id, "fixed_ips": [{"ip_address": "172.16.5.5"}]}}
    assert error(network.call("POST", "/ports", body)) == (
        400,
        "InvalidIpForNetwork",
        "IP address 172.16.5.5 is not a valid IP for any of the subnets on the specified network.",
    )


def test_a_port_on_an_unknown_network_is_404(network: NetworkTarget) -> None:
    response = network.call("POST", "/ports", {"port": {"network_id": GHOST}})
    assert error(response) == (404, "NetworkNotFound", f"Network {GHOST} could not be found.")


def test_port_security_off_with_groups_is_400(network: NetworkTarget) -> None:
    body = {
        "port": {
            "network_id": network.net_a.id,
            "port_security_enabled": False,
            "security_groups": [default_group(network)],
        }
    }
    status, kind, message = error(network.call("POST", "/ports", body))
    assert (status, kind) == (400, "PortSecurityAndIPRequiredForSecurityGroups")
    assert message == (
        "Port security must be enabled and port must have an IP address in order "
        "to use security groups."
    )


def test_delete_then_delete_again_is_404(network: NetworkTarget) -> None:
    port = create(network)
    deleted = network.call("DELETE", f"/ports/{port['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    again = network.call("DELETE", f"/ports/{port['id']}")
    assert error(again) == (404, "PortNotFound", f"Port {port['id']} could not be found.")
    assert error(network.call("GET", f"/ports/{port['id']}"))[:2] == (404, "PortNotFound")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"colour": "red"}, "Unrecognized attribute(s) 'colour'"),
        ({"status": "ACTIVE"}, "Attribute 'status' not allowed in POST"),
    ],
)
def test_bad_port_bodies_are_400(
    network: NetworkTarget, fields: dict[str, Any], message: str
) -> None:
    body = {"port": {"network_id": network.net_a.id, **fields}}
    assert error(network.call("POST", "/ports", body)) == (400, "HTTPBadRequest", message)


def test_an_update_of_a_read_only_attribute_is_400(network: NetworkTarget) -> None:
    port = create(network)
    body = {"port": {"network_id": network.net_a.id}}
    assert error(network.call("PUT", f"/ports/{port['id']}", body)) == (
        400,
        "HTTPBadRequest",
        "Cannot update read-only attribute network_id",
    )


def test_turning_port_security_off_while_groups_remain(network: NetworkTarget) -> None:
    port = create(network)
    body = {"port": {"port_security_enabled": False}}
    response = network.call("PUT", f"/ports/{port['id']}", body)
    assert error(response)[:2] == (409, "PortSecurityPortHasSecurityGroup")
    body = {"port": {"port_security_enabled": False, "security_groups": []}}
    updated = network.call("PUT", f"/ports/{port['id']}", body).json()["port"]
    assert (updated["port_security_enabled"], updated["security_groups"]) == (False, [])


def test_an_unknown_token_is_401(network: NetworkTarget) -> None:
    assert network.call("GET", "/ports", token="not-a-token").status_code == 401


@pytest.mark.parametrize("field", ["ip", "subnet"])
def test_a_fixed_ip_that_does_not_fit_the_subnet_asked_for(
    network: NetworkTarget, field: str
) -> None:
    subnet = network.net_a.subnet_id if field == "ip" else network.net_b.subnet_id
    body = {
        "port": {
            "network_id": network.net_a.id,
            "fixed_ips": [{"subnet_id": subnet, "ip_address": "10.30.0.9"}],
        }
    }
    status, kind, message = error(network.call("POST", "/ports", body))
    if field == "ip":
        assert (status, kind) == (400, "InvalidIpForSubnet")
        assert message == "IP address 10.30.0.9 is not a valid IP for the specified subnet."
    else:
        assert (status, kind) == (400, "InvalidInput")
        assert message == (
            "Invalid input for operation: Failed to create port on network "
            f"{network.net_a.id}, because fixed_ips included invalid subnet {subnet}."
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"port": {"name": "x"}},
            "Failed to parse request. Required attribute 'network_id' not specified",
        ),
        ({"pork": {}}, "Unable to find 'port' in request body"),
        (None, "Unable to find 'port' in request body"),
        (
            {"port": {"network_id": "not-a-uuid"}},
            "Invalid input for network_id. Reason: 'not-a-uuid' is not a valid UUID.",
        ),
        (
            {"port": {"network_id": "{net}", "security_groups": ["web"]}},
            "Invalid input for security_groups. Reason: 'web' is not a valid UUID.",
        ),
        (
            {"port": {"network_id": "{net}", "name": 5}},
            "Invalid input for name. Reason: '5' is not a valid string.",
        ),
        (
            {"port": {"network_id": "{net}", "fixed_ips": [{"ip_address": "not-an-ip"}]}},
            "Invalid input for fixed_ips. Reason: 'not-an-ip' is not a valid IP address.",
        ),
    ],
)
def test_malformed_bodies_are_400_with_neutrons_messages(
    network: NetworkTarget, body: dict[str, Any], message: str
) -> None:
    sent = json.loads(json.dumps(body).replace("{net}", network.net_a.id))
    assert error(network.call("POST", "/ports", sent)) == (400, "HTTPBadRequest", message)


def test_a_value_that_is_not_a_boolean_is_400_invalid_input(network: NetworkTarget) -> None:
    body = {"port": {"network_id": network.net_a.id, "port_security_enabled": "maybe"}}
    assert error(network.call("POST", "/ports", body)) == (
        400,
        "InvalidInput",
        "Invalid input for operation: 'maybe' cannot be converted to boolean.",
    )


def test_an_unknown_subnet_in_fixed_ips_is_404(network: NetworkTarget) -> None:
    body = {"port": {"network_id": network.net_a.id, "fixed_ips": [{"subnet_id": GHOST}]}}
    assert error(network.call("POST", "/ports", body)) == (
        404,
        "SubnetNotFound",
        f"Subnet {GHOST} could not be found.",
    )


def test_an_address_pair_without_an_ip_is_400(network: NetworkTarget) -> None:
    pair = {"mac_address": "fa:16:3e:00:00:01"}
    body = {"port": {"network_id": network.net_b.id, "allowed_address_pairs": [pair]}}
    assert error(network.call("POST", "/ports", body)) == (
        400,
        "AllowedAddressPairsMissingIP",
        "AllowedAddressPair must contain ip_address",
    )


def test_address_pairs_need_port_security(network: NetworkTarget) -> None:
    body = {
        "port": {
            "network_id": network.net_b.id,
            "port_security_enabled": False,
            "allowed_address_pairs": [{"ip_address": "10.30.0.99"}],
        }
    }
    assert error(network.call("POST", "/ports", body)) == (
        409,
        "AddressPairAndPortSecurityRequired",
        "Port Security must be enabled in order to have allowed address pairs on a port.",
    )


def test_an_unknown_path_is_404_and_an_unknown_method_405(network: NetworkTarget) -> None:
    assert error(network.call("GET", "/nonsense")) == (
        404,
        "HTTPNotFound",
        "The resource could not be found.",
    )
    assert error(network.call("PATCH", "/ports")) == (
        405,
        "HTTPMethodNotAllowed",
        "The server could not comply with the request since it is either malformed or "
        "otherwise incorrect.",
    )


def test_an_unknown_port_id_is_404(network: NetworkTarget) -> None:
    assert error(network.call("GET", "/ports/nonexistent")) == (
        404,
        "PortNotFound",
        "Port nonexistent could not be found.",
    )
