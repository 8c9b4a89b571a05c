"""Neutron's error answers: ``{"NeutronError": {"type", "message", "detail"}}``.

    NeutronError                 any status, ``type`` = Neutron's exception class name
    ├── bad_request()            400 HTTPBadRequest (body and filter validation)
    └── not_found()              404 <Kind>NotFound

The types and messages are Neutron 29's, as a project member gets them (the
contract suite, ``tests/contract``, checks them against Neutron's own API code).
"""

from __future__ import annotations

from typing import Any

from emulator.core.errors import FakeApiError


class NeutronError(FakeApiError):
    """An answer of the network API other than a success."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_

    def body(self) -> dict[str, Any]:
        return {"NeutronError": {"type": self.type, "message": self.message, "detail": ""}}


def bad_request(message: str) -> NeutronError:
    return NeutronError(400, "HTTPBadRequest", message)


def port_not_found(port_id: str) -> NeutronError:
    return NeutronError(404, "PortNotFound", f"Port {port_id} could not be found.")


def network_not_found(net_id: str) -> NeutronError:
    return NeutronError(404, "NetworkNotFound", f"Network {net_id} could not be found.")


def group_not_found(group_id: str) -> NeutronError:
    return NeutronError(404, "SecurityGroupNotFound", f"Security group {group_id} does not exist")


def ip_in_use(ip: str, subnet_id: str) -> NeutronError:
    return NeutronError(
        409, "IpAddressAlreadyAllocated", f"IP address {ip} already allocated in subnet {subnet_id}"
    )


def invalid_ip_for_network(ip: str) -> NeutronError:
    return NeutronError(
        400,
        "InvalidIpForNetwork",
        f"IP address {ip} is not a valid IP for any of the subnets on the specified network.",
    )


def invalid_ip_for_subnet(ip: str) -> NeutronError:
    return NeutronError(
        400, "InvalidIpForSubnet", f"IP address {ip} is not a valid IP for the specified subnet."
    )


def security_needs_port_security() -> NeutronError:
    return NeutronError(
        400,
        "PortSecurityAndIPRequiredForSecurityGroups",
        "Port security must be enabled and port must have an IP address in order to use "
        "security groups.",
    )


def port_has_security_groups() -> NeutronError:
    return NeutronError(
        409,
        "PortSecurityPortHasSecurityGroup",
        "Port has security group associated. Cannot disable port security or IP address until "
        "security group is removed.",
    )


def pairs_need_port_security() -> NeutronError:
    return NeutronError(
        409,
        "AddressPairAndPortSecurityRequired",
        "Port Security must be enabled in order to have allowed address pairs on a port.",
    )


def subnet_full(net_id: str) -> NeutronError:
    return NeutronError(
        409, "IpAddressGenerationFailure", f"No more IP addresses available on network {net_id}."
    )
