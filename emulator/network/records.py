"""The network's records: networks with one subnet, ports, and the snapshots handed out.

``FakeNetwork`` is immutable; ``FakePort`` is mutable and never leaves the
backend's lock. Callers get frozen snapshots (``InterfaceSnapshot``,
``PortSnapshot``) taken under that lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emulator.network.ipam import IPNetwork


@dataclass(frozen=True)
class FakeNetwork:
    """A network with exactly one subnet."""

    id: str
    name: str
    cidr: IPNetwork
    subnet_id: str
    #: The owner; None: every project's, as if each owned it (the emulator's default).
    project_id: str | None = None
    created_at: str = ""
    #: Neutron's ``shared``: other projects see it and may put ports on it, but not ask
    #: for an address, address pairs or port security (the owner's rights).
    shared: bool = False

    def to_dict(self) -> dict[str, str | bool | None]:
        return {
            "id": self.id,
            "name": self.name,
            "cidr": str(self.cidr),
            "subnet_id": self.subnet_id,
            "project_id": self.project_id,
            "shared": self.shared,
        }

    def owned_by(self, project_id: str) -> bool:
        return self.project_id in (None, project_id)


@dataclass
class FakePort:
    """A port; bound to a server while ``server_id`` is set (``device_id`` in Neutron)."""

    id: str
    net_id: str
    mac_addr: str
    ip_address: str
    server_id: str | None = None
    tag: str | None = None
    attached_at: float = 0.0
    detach_at: float | None = None
    #: Nova deletes the ports it created itself when they are detached; others are unbound.
    created_by_attach: bool = False
    #: Deleted with its server (Nova: the ports it created; Huawei: per NIC, updatable).
    delete_on_termination: bool = False
    #: The owning project; None for a port the admin API made without one (any project's).
    project_id: str | None = None
    name: str = ""
    description: str = ""
    device_owner: str = ""
    admin_state_up: bool = True
    port_security_enabled: bool = True
    security_groups: list[str] = field(default_factory=list)
    allowed_address_pairs: list[dict[str, str]] = field(default_factory=list)
    revision_number: int = 1
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class InterfaceSnapshot:
    port_id: str
    net_id: str
    network_name: str
    mac_addr: str
    ip_address: str
    subnet_id: str
    port_state: str
    tag: str | None
    #: Huawei's os-interface shows it; Nova's does not.
    delete_on_termination: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "port_state": self.port_state,
            "fixed_ips": [{"subnet_id": self.subnet_id, "ip_address": self.ip_address}],
            "port_id": self.port_id,
            "net_id": self.net_id,
            "mac_addr": self.mac_addr,
            "tag": self.tag,
        }


@dataclass(frozen=True)
class PortSnapshot:
    id: str
    net_id: str
    mac_addr: str
    ip_address: str
    subnet_id: str
    server_id: str | None
    project_id: str | None = None
    name: str = ""
    device_owner: str = ""
    delete_on_termination: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "net_id": self.net_id,
            "mac_addr": self.mac_addr,
            "fixed_ips": [{"subnet_id": self.subnet_id, "ip_address": self.ip_address}],
            "server_id": self.server_id,
            "project_id": self.project_id,
            "name": self.name,
            "device_owner": self.device_owner,
            "delete_on_termination": self.delete_on_termination,
        }
