"""The emulated cloud's state: the records the backend keeps, and the snapshots it hands out.

Records (``FakeServer``, ``FakePort``) are mutable and never leave the backend's
lock; callers get frozen snapshots (``ServerSnapshot``, ``InterfaceSnapshot``,
``PortSnapshot``) taken under that lock, so HTTP threads share no mutable state.
The backend itself (``FakeBackend``) lives in ``emulator.models``, as in moto.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emulator.ipam import IPNetwork

#: Server status → Nova's ``OS-EXT-STS:vm_state``.
VM_STATES = {"BUILD": "building", "ACTIVE": "active", "SHUTOFF": "stopped", "ERROR": "error"}
#: Statuses in which Nova lets you attach or detach an interface (vm_state active/stopped).
INTERFACE_STATES = frozenset({"ACTIVE", "SHUTOFF"})


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


@dataclass
class FakeServer:
    id: str
    project_id: str
    name: str
    tags: list[str]
    status: str
    build_seconds: float
    created_at: float
    created: str
    updated: str
    seq: int
    port_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AttachRequest:
    """One interface to attach: by network (optionally with one fixed IP) or by port."""

    net_id: str | None = None
    port_id: str | None = None
    ip_address: str | None = None
    tag: str | None = None


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
class ServerSnapshot:
    id: str
    project_id: str
    name: str
    status: str
    tags: tuple[str, ...]
    created: str
    updated: str
    #: Every attached interface, also while the server builds (the API hides them then).
    interfaces: tuple[InterfaceSnapshot, ...]

    @property
    def vm_state(self) -> str:
        return VM_STATES[self.status]

    @property
    def task_state(self) -> str | None:
        return "spawning" if self.status == "BUILD" else None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "project_id": self.project_id,
            "name": self.name,
            "status": self.status,
            "tags": list(self.tags),
            "created": self.created,
            "updated": self.updated,
            "interfaces": [interface.to_dict() for interface in self.interfaces],
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
