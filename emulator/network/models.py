"""The networking half of the emulated cloud: networks, their one subnet, and ports.

Nova asks Neutron for these during an attach; the errors here are the ones
Nova passes on (or, with ``nova_errors``, fails to translate into anything
better than a 500). Not thread-safe on its own: ``FakeBackend`` calls it with
its lock held.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from emulator.core.errors import BadRequest, Conflict, ItemNotFound, unexpected_error
from emulator.core.ids import new_id
from emulator.network import ipam
from emulator.network.records import FakeNetwork, FakePort, InterfaceSnapshot, PortSnapshot

NETWORK_NOT_FOUND_CLASS = "neutronclient.common.exceptions.NetworkNotFoundClient"
INVALID_INPUT_CLASS = "nova.exception.InvalidInput"


class FakeNeutron:
    """Networks and ports, shared by every project."""

    def __init__(
        self, *, nova_errors: bool, rng: random.Random, stamp: Callable[[], str] = lambda: ""
    ) -> None:
        self.nova_errors = nova_errors
        #: The time now, as Neutron writes ``created_at`` / ``updated_at``.
        self.stamp = stamp
        self.networks: dict[str, FakeNetwork] = {}
        self.ports: dict[str, FakePort] = {}
        self._rng = rng
        #: Indexes kept beside ``ports`` (fleets of 10,000 servers): IPs in use per network,
        #: MACs in use.
        self._ips: dict[str, set[str]] = {}
        self._macs: set[str] = set()

    def clear(self) -> None:
        self.networks.clear()
        self.ports.clear()
        self._ips.clear()
        self._macs.clear()

    def create_network(
        self,
        cidr: str,
        net_id: str | None,
        name: str | None,
        subnet_id: str | None,
        project_id: str | None = None,
        shared: bool = False,
    ) -> FakeNetwork:
        network_id = new_id(net_id)
        if network_id in self.networks:
            raise Conflict(f"Network {network_id} already exists.")
        name = name or f"net-{network_id[:8]}"
        network = FakeNetwork(
            network_id,
            name,
            ipam.parse_cidr(cidr),
            new_id(subnet_id),
            project_id,
            self.stamp(),
            shared,
        )
        self.networks[network.id] = network
        return network

    def create_port(
        self,
        net_id: str,
        port_id: str | None,
        fixed_ip: str | None,
        project_id: str | None = None,
        name: str = "",
    ) -> FakePort:
        port_id = new_id(port_id)
        if port_id in self.ports:
            raise Conflict(f"Port {port_id} already exists.")
        port = self.new_port(self.network(net_id), fixed_ip, port_id)
        port.project_id, port.name = project_id, name
        return port

    def network(self, net_id: str) -> FakeNetwork:
        network = self.networks.get(net_id)
        if network is None:
            if self.nova_errors:
                raise unexpected_error(NETWORK_NOT_FOUND_CLASS)
            raise ItemNotFound(f"Network {net_id} could not be found.")
        return network

    def port(self, port_id: str) -> FakePort:
        port = self.ports.get(port_id)
        if port is None:
            raise ItemNotFound(f"Port id {port_id} could not be found.")
        return port

    def free_port(self, port_id: str, project_id: str) -> FakePort:
        """A port ``project_id`` may attach: Nova looks it up with the caller's token."""
        port = self.port(port_id)
        if port.project_id not in (None, project_id):
            raise ItemNotFound(f"Port id {port_id} could not be found.")
        if port.server_id is not None:
            raise Conflict(f"Port {port_id} is still in use.")
        return port

    def pick_network(self, net_id: str | None, project_id: str) -> FakeNetwork:
        """The network asked for, or the only one there is (Nova's auto-pick)."""
        if net_id is not None:
            return self.network(net_id)
        if len(self.networks) > 1:
            raise BadRequest(
                "Multiple possible networks found, use a Network ID to be more specific."
            )
        if not self.networks:
            raise BadRequest(
                "No specific network was requested and none are available for project "
                f"'{project_id}'."
            )
        return next(iter(self.networks.values()))

    def new_port(
        self, network: FakeNetwork, fixed_ip: str | None, port_id: str, *, checked: bool = False
    ) -> FakePort:
        """A port on ``network`` with ``fixed_ip`` (``checked`` already: taken as it is) or
        the first free address."""
        used = self._ips.setdefault(network.id, set())
        ip = fixed_ip if checked else None
        if fixed_ip and not checked:
            ip = self._check_fixed_ip(network, fixed_ip, used)
        ip = ip or ipam.first_free_ip(network.cidr, used)
        if ip is None:
            raise BadRequest(f"No fixed IP addresses available for network: {network.id}")
        mac = ipam.random_mac(self._rng, self._macs)
        now = self.stamp()
        port = FakePort(port_id, network.id, mac, ip, created_at=now, updated_at=now)
        self.ports[port.id] = port
        used.add(ip)
        self._macs.add(mac)
        return port

    def _check_fixed_ip(self, network: FakeNetwork, ip: str, used: set[str]) -> str:
        if not ipam.is_host_address(network.cidr, ip):
            if self.nova_errors:
                raise unexpected_error(INVALID_INPUT_CLASS)
            raise BadRequest(
                f"Invalid input received: IP address {ip} is not a valid IP for the "
                f"subnet {network.subnet_id} of network {network.id}."
            )
        if ip in used or ip == ipam.gateway_ip(network.cidr):
            raise Conflict(f"Fixed IP {ip} is already in use.")
        return ip

    def bind(self, port: FakePort, server_id: str, project_id: str, zone: str) -> None:
        """The port now belongs to ``server_id`` (Nova sets ``device_id`` and the owner)."""
        port.server_id, port.device_owner = server_id, f"compute:{zone}"
        port.project_id = port.project_id or project_id
        self.touch(port)

    def touch(self, port: FakePort) -> None:
        port.revision_number += 1
        port.updated_at = self.stamp()

    def release(self, port: FakePort, *, deleting_server: bool = False) -> None:
        """Unbind a detached port; delete it when an attach created it (as Nova does), or,
        when its server is deleted, when it is ``delete_on_termination``."""
        port.server_id, port.detach_at, port.tag, port.device_owner = None, None, None, ""
        if port.delete_on_termination if deleting_server else port.created_by_attach:
            self.delete_port(port)
        else:
            self.touch(port)

    def delete_port(self, port: FakePort) -> None:
        del self.ports[port.id]
        self._ips.get(port.net_id, set()).discard(port.ip_address)
        self._macs.discard(port.mac_addr)

    def in_use(self, network: FakeNetwork, ip: str, *, gateway: bool = True) -> bool:
        """True when ``ip`` is taken on ``network`` by a port (or is the gateway, when
        ``gateway``: Nova's attach path treats it as taken, Neutron's API does not)."""
        taken = ip in self._ips.get(network.id, set())
        return taken or (gateway and ip == ipam.gateway_ip(network.cidr))

    def network_of_subnet(self, subnet_id: str) -> FakeNetwork | None:
        return next((n for n in self.networks.values() if n.subnet_id == subnet_id), None)

    def interface(self, port: FakePort, port_state: str) -> InterfaceSnapshot:
        network = self.networks[port.net_id]
        return InterfaceSnapshot(
            port.id,
            port.net_id,
            network.name,
            port.mac_addr,
            port.ip_address,
            network.subnet_id,
            port_state,
            port.tag,
            port.delete_on_termination,
        )

    def port_snapshot(self, port: FakePort) -> PortSnapshot:
        subnet_id = self.networks[port.net_id].subnet_id
        return PortSnapshot(
            port.id,
            port.net_id,
            port.mac_addr,
            port.ip_address,
            subnet_id,
            port.server_id,
            port.project_id,
            port.name,
            port.device_owner,
            port.delete_on_termination,
        )
