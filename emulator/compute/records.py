"""The compute service's records: servers, attach requests and server snapshots.

``FakeServer`` is mutable and never leaves the backend's lock; callers get
frozen ``ServerSnapshot``s taken under that lock, so HTTP threads share no
mutable state. Ports and networks are the network service's
(``emulator.network.records``); the backend is ``emulator.compute.models``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emulator.network.records import InterfaceSnapshot

#: Server status → Nova's ``OS-EXT-STS:vm_state``.
VM_STATES = {"BUILD": "building", "ACTIVE": "active", "SHUTOFF": "stopped", "ERROR": "error"}
#: Statuses in which Nova lets you attach or detach an interface (vm_state active/stopped).
INTERFACE_STATES = frozenset({"ACTIVE", "SHUTOFF"})


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
    #: ``updated`` as wall-clock seconds (the backend's clock), for ``changes-since``.
    updated_at: float = 0.0
    #: A bound port's ``device_owner`` is ``compute:<this>``.
    availability_zone: str = "nova"


@dataclass(frozen=True)
class AttachRequest:
    """One interface to attach: by network (optionally with one fixed IP) or by port."""

    net_id: str | None = None
    port_id: str | None = None
    ip_address: str | None = None
    tag: str | None = None


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
