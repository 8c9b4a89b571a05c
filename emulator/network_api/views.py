"""Neutron's JSON for ports, networks, subnets and security groups, as a project member sees it.

A port has exactly the 21 fields Neutron 29 (ML2, ``port_security`` extension,
no mechanism driver) shows a member; ``binding:host_id``, ``binding:profile``,
``binding:vif_*`` are admin-only and absent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from emulator.network import ipam
from emulator.network.ipam import IPNetwork
from emulator.network.records import FakeNetwork, FakePort

#: Neutron's default MTU for a VXLAN tenant network.
MTU = 1450


@dataclass
class FakeSecurityGroup:
    id: str
    project_id: str
    name: str
    description: str
    created_at: str
    updated_at: str
    revision_number: int = 1
    rules: list[dict[str, Any]] = field(default_factory=list)


def port_view(
    port: FakePort, status: str, subnet_id: str, ipv6_subnet_id: str | None = None
) -> dict[str, Any]:
    project = port.project_id or ""
    pairs = [
        {"ip_address": p["ip_address"], "mac_address": p.get("mac_address", port.mac_addr)}
        for p in port.allowed_address_pairs
    ]
    return {
        "id": port.id,
        "name": port.name,
        "network_id": port.net_id,
        "tenant_id": project,
        "mac_address": port.mac_addr,
        "admin_state_up": port.admin_state_up,
        "status": status,
        "device_id": port.server_id or "",
        "device_owner": port.device_owner,
        "fixed_ips": [{"subnet_id": subnet_id, "ip_address": port.ip_address}]
        + (
            [{"subnet_id": ipv6_subnet_id, "ip_address": port.ipv6_address}]
            if port.ipv6_address and ipv6_subnet_id
            else []
        ),
        "allowed_address_pairs": pairs,
        "extra_dhcp_opts": [],
        "security_groups": list(port.security_groups),
        "description": port.description,
        "binding:vnic_type": "normal",
        "port_security_enabled": port.port_security_enabled,
        "tags": [],
        "created_at": port.created_at,
        "updated_at": port.updated_at,
        "revision_number": port.revision_number,
        "project_id": project,
    }


def network_view(network: FakeNetwork, viewer: str) -> dict[str, Any]:
    """As ``viewer`` sees it: an unowned network as the viewer's own."""
    project, stamp = network.project_id or viewer, network.created_at
    return {
        "id": network.id,
        "name": network.name,
        "tenant_id": project,
        "admin_state_up": True,
        "mtu": MTU,
        "status": "ACTIVE",
        "subnets": [s for s in (network.subnet_id, network.ipv6_subnet_id) if s],
        "shared": network.shared,
        "availability_zone_hints": [],
        "availability_zones": [],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "router:external": network.external,
        "qinq": False,
        "vlan_transparent": False,
        "description": "",
        "port_security_enabled": True,
        "tags": [],
        "created_at": stamp,
        "updated_at": stamp,
        "revision_number": 2,
        "project_id": project,
    }


def subnet_views(network: FakeNetwork, viewer: str) -> list[dict[str, Any]]:
    """The network's subnets: its IPv4 one, and its IPv6 one when it has one."""
    views = [subnet_view(network, viewer)]
    if network.ipv6_cidr is not None and network.ipv6_subnet_id is not None:
        v6 = subnet_view(network, viewer, network.ipv6_cidr, network.ipv6_subnet_id)
        views.append(
            {
                **v6,
                "ipv6_ra_mode": "dhcpv6-stateful",
                "ipv6_address_mode": "dhcpv6-stateful",
                "name": f"{network.name}-v6",
            }
        )
    return views


def subnet_view(
    network: FakeNetwork, viewer: str, cidr: IPNetwork | None = None, ident: str | None = None
) -> dict[str, Any]:
    project, stamp = network.project_id or viewer, network.created_at
    cidr = cidr or network.cidr
    gateway = ipam.gateway_ip(cidr)
    return {
        "id": ident or network.subnet_id,
        "name": f"{network.name}-subnet",
        "tenant_id": project,
        "network_id": network.id,
        "ip_version": cidr.version,
        "subnetpool_id": None,
        "enable_dhcp": True,
        "ipv6_ra_mode": None,
        "ipv6_address_mode": None,
        "gateway_ip": gateway,
        "cidr": str(cidr),
        "allocation_pools": [ipam.allocation_pool(cidr)],
        "host_routes": [],
        "dns_nameservers": [],
        "description": "",
        "router:external": False,
        "service_types": [],
        "tags": [],
        "created_at": stamp,
        "updated_at": stamp,
        "revision_number": 0,
        "project_id": project,
    }


def group_rules(
    group: FakeSecurityGroup, default: bool, first_attr_id: int
) -> list[dict[str, Any]]:
    """A new group's rules, from Neutron's templates: all egress (v4 and v6), and for a
    ``default`` group ingress from the group itself too."""
    kinds = [("egress", "IPv4"), ("egress", "IPv6")]
    kinds += [("ingress", "IPv4"), ("ingress", "IPv6")] if default else []
    rules: list[dict[str, Any]] = []
    for index, (direction, ethertype) in enumerate(kinds):
        rules.append(
            {
                "id": str(uuid.uuid4()),
                "project_id": group.project_id,
                "security_group_id": group.id,
                "ethertype": ethertype,
                "direction": direction,
                "protocol": None,
                "port_range_min": None,
                "port_range_max": None,
                "remote_ip_prefix": None,
                "remote_address_group_id": None,
                "normalized_cidr": None,
                "remote_group_id": group.id if direction == "ingress" else None,
                "standard_attr_id": first_attr_id + index,
                "belongs_to_default_sg": None if default else False,
                "description": None,
                "tags": [],
                "created_at": group.created_at,
                "updated_at": group.created_at,
                "revision_number": 0,
                "tenant_id": group.project_id,
            }
        )
    return rules


def group_view(group: FakeSecurityGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "tenant_id": group.project_id,
        "description": group.description,
        "security_group_rules": [dict(rule) for rule in group.rules],
        "stateful": True,
        "shared": False,
        "tags": [],
        "created_at": group.created_at,
        "updated_at": group.updated_at,
        "revision_number": group.revision_number,
        "project_id": group.project_id,
    }
