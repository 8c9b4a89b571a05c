"""Neutron's validation of port bodies, with its messages (``HTTPBadRequest``).

``parse_port(body, creating=...)`` answers the fields a create or an update
sets, checked; an unknown attribute, a read-only one in an update, or a value
of the wrong type is a 400 before anything changes.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from emulator.network_api.errors import NeutronError, bad_request

#: Attributes a project member may give when it creates a port.
CREATE_FIELDS = frozenset(
    {
        "network_id",
        "name",
        "description",
        "fixed_ips",
        "security_groups",
        "allowed_address_pairs",
        "port_security_enabled",
        "admin_state_up",
    }
)
#: ... and when it updates one.
UPDATE_FIELDS = CREATE_FIELDS - {"network_id", "fixed_ips"}
#: Attributes Neutron knows but never lets a member set (a 400 names them as read-only).
READ_ONLY = frozenset(
    {
        "id",
        "network_id",
        "status",
        "mac_address",
        "tenant_id",
        "project_id",
        "created_at",
        "updated_at",
        "revision_number",
        "device_id",
        "device_owner",
    }
)


def _invalid(field: str, reason: str) -> Exception:
    return bad_request(f"Invalid input for {field}. Reason: {reason}.")


def _string(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise _invalid(field, f"'{value}' is not a valid string")
    return value


def _boolean(field: str, value: object) -> bool:
    """Neutron's ``convert_to_boolean``: true/false, 1/0, "true"/"false" in any case."""
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1", "false", "0"):
        return text in ("true", "1")
    raise NeutronError(
        400,
        "InvalidInput",
        f"Invalid input for operation: '{value}' cannot be converted to boolean.",
    )


def _uuid(field: str, value: object) -> str:
    text = _string(field, value)
    try:
        uuid.UUID(text)
    except ValueError:
        raise _invalid(field, f"'{text}' is not a valid UUID") from None
    return text


def _ip(field: str, value: object, *, cidr: bool = False) -> str:
    text = _string(field, value)
    try:
        if cidr and "/" in text:
            ipaddress.ip_network(text, strict=False)
        else:
            ipaddress.ip_address(text)
    except ValueError:
        raise _invalid(field, f"'{text}' is not a valid IP address") from None
    return text


def _objects(field: str, value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _invalid(field, f"'{value}' is not a list of objects")
    return value


def _fixed_ips(value: object) -> list[dict[str, str]]:
    items = _objects("fixed_ips", value)
    for item in items:
        unknown = sorted(set(item) - {"ip_address", "subnet_id"})
        if unknown:
            raise _invalid("fixed_ips", f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        if "ip_address" in item:
            _ip("fixed_ips", item["ip_address"])
        if "subnet_id" in item:
            _string("fixed_ips", item["subnet_id"])
    if len(items) > 2:
        raise bad_request(
            "The emulator gives a port one IPv4 and one IPv6 fixed IP: at most two items."
        )
    return items


def _address_pairs(value: object) -> list[dict[str, str]]:
    pairs = []
    for item in _objects("allowed_address_pairs", value):
        unknown = sorted(set(item) - {"ip_address", "mac_address"})
        if unknown:
            raise bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        if "ip_address" not in item:
            message = "AllowedAddressPair must contain ip_address"
            raise NeutronError(400, "AllowedAddressPairsMissingIP", message)
        pair = {"ip_address": _ip("allowed_address_pairs", item["ip_address"], cidr=True)}
        _not_multicast(pair["ip_address"])
        if item.get("mac_address") is not None:
            pair["mac_address"] = _string("allowed_address_pairs", item["mac_address"])
        pairs.append(pair)
    return pairs


def _not_multicast(text: str) -> None:
    """Neutron's ``validate_subnet_not_multicast``: a pair may not overlap the multicast
    range (224.0.0.0/4, ff00::/8); only ``0.0.0.0/0`` is let through, ``::/0`` is not."""
    net = ipaddress.ip_network(text, strict=False)
    if net == ipaddress.ip_network("0.0.0.0/0"):
        return
    multicast = ipaddress.ip_network("224.0.0.0/4" if net.version == 4 else "ff00::/8")
    if net.overlaps(multicast):
        shown = text if "/" in text else f"{text}/{net.max_prefixlen}"
        raise bad_request(
            f"Subnet {shown} overlaps with multicast range {multicast}, which is not supported."
        )


def _groups(value: object) -> list[str]:
    if not isinstance(value, list):
        raise _invalid("security_groups", f"'{value}' is not a list")
    return list(dict.fromkeys(_uuid("security_groups", item) for item in value))


_PARSERS: dict[str, Callable[[object], Any]] = {
    "network_id": lambda v: _uuid("network_id", v),
    "name": lambda v: _string("name", v),
    "description": lambda v: _string("description", v),
    "fixed_ips": _fixed_ips,
    "security_groups": _groups,
    "allowed_address_pairs": _address_pairs,
    "port_security_enabled": lambda v: _boolean("port_security_enabled", v),
    "admin_state_up": lambda v: _boolean("admin_state_up", v),
}


#: What only the network's owner may ask for in a port (Neutron 29's default policies):
#: the field, and the rule Neutron names in its 403.
OWNER_RIGHTS = (
    ("port_security_enabled", "(rule:create_port and rule:create_port:port_security_enabled)"),
    (
        "allowed_address_pairs",
        "(rule:create_port and (rule:create_port:allowed_address_pairs and "
        "(rule:create_port:allowed_address_pairs:ip_address)))",
    ),
)
FIXED_IP_RULE = (
    "(rule:create_port and (rule:create_port:fixed_ips and "
    "(rule:create_port:fixed_ips:ip_address)))"
)


def check_owner_rights(fields: Mapping[str, Any]) -> None:
    """403 ``PolicyNotAuthorized`` for a port on another project's shared network that asks
    for an address, address pairs or port security (an address by ``subnet_id`` is fine)."""
    denied = [rule for name, rule in OWNER_RIGHTS if name in fields]
    if any("ip_address" in item for item in fields.get("fixed_ips") or []):
        denied.insert(0, FIXED_IP_RULE)
    if denied:
        raise NeutronError(403, "PolicyNotAuthorized", f"{denied[0]} is disallowed by policy")


def parse_port(body: object, *, creating: bool) -> dict[str, Any]:
    """The checked fields of ``{"port": {...}}``."""
    port = body.get("port") if isinstance(body, dict) else None
    if not isinstance(port, dict):
        raise bad_request("Unable to find 'port' in request body")
    allowed = CREATE_FIELDS if creating else UPDATE_FIELDS
    unknown = sorted(set(port) - allowed - READ_ONLY)
    if unknown:
        raise bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    read_only = sorted(set(port) - allowed)
    if read_only and creating:
        raise bad_request(f"Attribute '{read_only[0]}' not allowed in POST")
    if read_only:
        raise bad_request(f"Cannot update read-only attribute {read_only[0]}")
    if creating and "network_id" not in port:
        raise bad_request("Failed to parse request. Required attribute 'network_id' not specified")
    return {name: _PARSERS[name](value) for name, value in port.items()}
