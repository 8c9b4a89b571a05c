"""The network API's backend: the compute backend's ports and networks, seen by one project.

As Neutron shows them to a project member: a project lists and reads only its
own ports (another project's is a 404 ``PortNotFound``) and sees its own
networks and the shared ones (made without an owner); each project gets a
``default`` security group the first time it asks, and new ports join it.
Every call holds the compute backend's lock, so a port attached through Nova
or the ECS v1 API shows its ``device_id`` here at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from emulator.compute.models import FakeBackend
from emulator.core.errors import FakeApiError
from emulator.core.ids import new_id
from emulator.network import ipam
from emulator.network.records import FakeNetwork, FakePort
from emulator.network_api import errors
from emulator.network_api.filters import matches
from emulator.network_api.floatingips import FakeFloatingIps
from emulator.network_api.schemas import check_owner_rights
from emulator.network_api.views import (
    FakeSecurityGroup,
    group_rules,
    group_view,
    network_view,
    port_view,
    subnet_views,
)


def split_fixed_ips(
    network: FakeNetwork, fixed_ips: Sequence[Mapping[str, str]] | None
) -> tuple[list[Mapping[str, str]], list[Mapping[str, str]]]:
    """The IPv4 and the IPv6 asks, told apart by subnet id or address; an IPv6 ask on a
    network without an IPv6 subnet stays with the IPv4 ones (and fails there, as in Neutron)."""
    v4: list[Mapping[str, str]] = []
    v6: list[Mapping[str, str]] = []
    for item in fixed_ips or []:
        address = ipam.parse_ip(item.get("ip_address", ""))
        wants_v6 = item.get("subnet_id") == network.ipv6_subnet_id or (
            address is not None and address.version == 6
        )
        (v6 if wants_v6 and network.ipv6_subnet_id else v4).append(item)
    if len(v4) > 1 or len(v6) > 1:
        raise errors.bad_request("The emulator gives a port one fixed IP per IP version.")
    return v4, v6


class FakeNetworkApi:
    """Ports, networks, subnets and security groups for the callers of ``/v2.0``."""

    def __init__(self, backend: FakeBackend) -> None:
        self.backend = backend
        self._groups: dict[str, FakeSecurityGroup] = {}
        self.floating = FakeFloatingIps(backend)
        #: Neutron's ``standard_attr_id`` of security group rules.
        self._attr_id = 0

    def reset(self) -> None:
        with self.backend.transaction():
            self._groups.clear()
            self.floating.reset()

    # -- ports --------------------------------------------------------------------------

    def ports(
        self, project_id: str | None, filters: Mapping[str, list[str]]
    ) -> list[dict[str, Any]]:
        """The project's ports (every project's when ``project_id`` is None) that match."""
        with self.backend.transaction():
            self.backend.settle()
            found = [
                self._view(port)
                for port in self.backend.neutron.ports.values()
                if project_id is None or port.project_id == project_id
            ]
        return [view for view in found if matches(view, filters)]

    def port(self, project_id: str, port_id: str) -> dict[str, Any]:
        with self.backend.transaction():
            self.backend.settle()
            return self._view(self._own_port(project_id, port_id))

    def create_port(self, project_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        with self.backend.transaction():
            neutron = self.backend.neutron
            network = neutron.networks.get(fields["network_id"])
            if network is None or not (network.shared or network.owned_by(project_id)):
                raise errors.network_not_found(fields["network_id"])
            if not network.owned_by(project_id):
                check_owner_rights(fields)
            v4, v6 = split_fixed_ips(network, fields.get("fixed_ips"))
            ip = self._fixed_ip(network, v4 or [{}])
            ipv6 = self._ipv6(network, v6[0]) if v6 else None
            groups = self._security(project_id, fields, None)
            try:
                port = neutron.new_port(network, ip, new_id(None), checked=True)
            except FakeApiError:  # the only one left: no free address
                raise errors.subnet_full(network.id) from None
            if v6 or not fields.get("fixed_ips"):  # Neutron: no fixed_ips, one of each
                neutron.give_ipv6(port, network, ipv6)
            port.project_id, port.security_groups = project_id, groups
            self._set(port, fields)
            return self._view(port)

    def update_port(
        self, project_id: str, port_id: str, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        with self.backend.transaction():
            port = self._own_port(project_id, port_id)
            port.security_groups = self._security(project_id, fields, port)
            self._set(port, fields)
            self.backend.neutron.touch(port)
            return self._view(port)

    def delete_port(self, project_id: str, port_id: str) -> None:
        """Delete a port; a bound one leaves its server (as Nova learns from Neutron)."""
        with self.backend.transaction():
            port = self._own_port(project_id, port_id)
            if port.server_id is not None:
                self.backend.forget_port(port)
            self.backend.neutron.delete_port(port)

    # -- networks, subnets, security groups --------------------------------------------------

    def networks(self, project_id: str, filters: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        """The project's networks and the shared ones."""
        found = [network_view(n, project_id) for n in self._visible(project_id)]
        return [view for view in found if matches(view, filters)]

    def subnets(self, project_id: str, filters: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        found = [view for n in self._visible(project_id) for view in subnet_views(n, project_id)]
        return [view for view in found if matches(view, filters)]

    def security_groups(
        self, project_id: str, filters: Mapping[str, list[str]]
    ) -> list[dict[str, Any]]:
        with self.backend.transaction():
            self._default_group(project_id)
            found = [group_view(g) for g in self._groups.values() if g.project_id == project_id]
        return [view for view in found if matches(view, filters)]

    def create_security_group(self, project_id: str, name: str, description: str) -> dict[str, Any]:
        with self.backend.transaction():
            self._default_group(project_id)
            group = self._new_group(project_id, name, description)
            return group_view(group)

    # -- internals (lock held) -------------------------------------------------------------

    def _own_port(self, project_id: str, port_id: str) -> FakePort:
        port = self.backend.neutron.ports.get(port_id)
        if port is None or port.project_id != project_id:
            raise errors.port_not_found(port_id)
        return port

    def _view(self, port: FakePort) -> dict[str, Any]:
        network = self.backend.neutron.networks[port.net_id]
        status = self.backend.port_status(port)
        return port_view(port, status, network.subnet_id, network.ipv6_subnet_id)

    def _ipv6(self, network: FakeNetwork, wanted: Mapping[str, str]) -> str | None:
        """The IPv6 address asked for (None: the first free one), checked as Neutron does."""
        ip = wanted.get("ip_address")
        if ip is None or network.ipv6_cidr is None:
            return None
        if not ipam.is_host_address(network.ipv6_cidr, ip):
            if wanted.get("subnet_id") is not None:
                raise errors.invalid_ip_for_subnet(ip)
            raise errors.invalid_ip_for_network(ip)
        if self.backend.neutron.in_use(network, ip, gateway=False):
            raise errors.ip_in_use(ip, network.ipv6_subnet_id or "")
        return str(ipaddress.ip_address(ip))

    def _fixed_ip(self, network: FakeNetwork, fixed_ips: Sequence[Mapping[str, str]]) -> str | None:
        """The IP asked for on ``network`` (None: the first free one), checked as Neutron does."""
        neutron, wanted = self.backend.neutron, fixed_ips[0]
        subnet_id, ip = wanted.get("subnet_id"), wanted.get("ip_address")
        if subnet_id is not None and subnet_id != network.subnet_id:
            if neutron.network_of_subnet(subnet_id) is None:
                raise errors.NeutronError(
                    404, "SubnetNotFound", f"Subnet {subnet_id} could not be found."
                )
            raise errors.NeutronError(
                400,
                "InvalidInput",
                f"Invalid input for operation: Failed to create port on network {network.id}, "
                f"because fixed_ips included invalid subnet {subnet_id}.",
            )
        if ip is None:
            return None
        if not ipam.is_host_address(network.cidr, ip):
            if subnet_id is not None:
                raise errors.invalid_ip_for_subnet(ip)
            raise errors.invalid_ip_for_network(ip)
        if neutron.in_use(network, ip, gateway=False):  # Neutron lets a port take the gateway
            raise errors.ip_in_use(ip, network.subnet_id)
        return ip

    def _security(
        self, project_id: str, fields: Mapping[str, Any], port: FakePort | None
    ) -> list[str]:
        """The port's groups after this change: the ones given, else the port's, else the
        ``default`` group for a new port with port security, else none; Neutron's 400 for
        groups without port security, its 409 for turning it off while groups remain."""
        enabled = fields.get("port_security_enabled", port.port_security_enabled if port else True)
        if "security_groups" in fields:
            groups: list[str] = fields["security_groups"]
        elif port is not None:
            if not enabled and port.security_groups:
                raise errors.port_has_security_groups()  # Neutron's 409: remove them first
            groups = port.security_groups
        else:
            groups = [self._default_group(project_id).id] if enabled else []
        for group_id in groups:
            group = self._groups.get(group_id)
            if group is None or group.project_id != project_id:
                raise errors.group_not_found(group_id)
        if groups and not enabled:
            raise errors.security_needs_port_security()
        pairs = fields.get("allowed_address_pairs", port.allowed_address_pairs if port else [])
        if pairs and not enabled:
            raise errors.pairs_need_port_security()
        return list(groups)

    def _set(self, port: FakePort, fields: Mapping[str, Any]) -> None:
        for name in (
            "name",
            "description",
            "admin_state_up",
            "port_security_enabled",
            "allowed_address_pairs",
        ):
            if name in fields:
                setattr(port, name, fields[name])

    def _default_group(self, project_id: str) -> FakeSecurityGroup:
        for group in self._groups.values():
            if group.project_id == project_id and group.name == "default":
                return group
        return self._new_group(project_id, "default", "Default security group")

    def _new_group(self, project_id: str, name: str, description: str) -> FakeSecurityGroup:
        stamp = self.backend.neutron.stamp()
        group = FakeSecurityGroup(new_id(None), project_id, name, description, stamp, stamp)
        group.rules = group_rules(group, name == "default", self._attr_id + 1)
        self._attr_id += len(group.rules)
        self._groups[group.id] = group
        return group

    def _visible(self, project_id: str) -> list[FakeNetwork]:
        with self.backend.transaction():
            networks = self.backend.neutron.networks.values()
            return [n for n in networks if n.shared or n.external or n.owned_by(project_id)]
