"""The network's records: networks with one subnet, ports, and the snapshots handed out.

``FakeNetwork`` is immutable; ``FakePort`` is mutable and never leaves the
backend's lock. Callers get frozen snapshots (``InterfaceSnapshot``,
``PortSnapshot``) taken under that lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.network.ipam import IPNetwork


@dataclass(frozen=True)
class FakeNetwork:
    """A network with exactly one subnet."""

    id: str
    name: str
    cidr: IPNetwork
    subnet_id: str

    def to_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "cidr": str(self.cidr),
            "subnet_id": self.subnet_id,
        }


@dataclass
class FakePort:
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

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "net_id": self.net_id,
            "mac_addr": self.mac_addr,
            "fixed_ips": [{"subnet_id": self.subnet_id, "ip_address": self.ip_address}],
            "server_id": self.server_id,
        }
