"""What the admin API asks of the compute backend (a mixin of ``FakeBackend``).

Kept apart from ``models.py`` so each stays readable: creating servers with their
boot interfaces (the seed document, ``POST /_admin/servers``), changing a server's
status or tags, and the whole state as JSON. Every method takes the backend's lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from emulator.compute.records import VM_STATES, AttachRequest, FakeServer, ServerSnapshot
from emulator.core import clock as clocks
from emulator.core.errors import BadRequest, Conflict, FakeApiError
from emulator.core.ids import new_id
from emulator.core.timeline import Timeline, iso_time
from emulator.network.models import FakeNeutron
from emulator.network.records import FakePort


def _check_status(status: str | None) -> None:
    if status is not None and status not in VM_STATES:
        raise BadRequest(f"Invalid status {status!r}: one of {sorted(VM_STATES)}.")


class ManageMixin:
    """Servers made and changed by the admin API, and the state it reads."""

    _lock: AbstractContextManager[bool]
    _neutron: FakeNeutron
    _servers: dict[str, FakeServer]
    _seq: int
    clock: clocks.Clock
    build_seconds: float
    port_down_seconds: float
    detach_delay_seconds: float
    max_limit: int
    timeline: Timeline
    _detaching: dict[str, FakePort]

    if TYPE_CHECKING:

        def wall_time(self) -> float: ...
        def _attach(self, server: FakeServer, request: AttachRequest, now: float) -> FakePort: ...
        def _snapshot(self, server: FakeServer) -> ServerSnapshot: ...
        def _admin_server(self, server_id: str) -> FakeServer: ...
        def _touch(self, server: FakeServer, at: float | None = None) -> None: ...
        def _settle(self) -> None: ...
        def _ordered(self) -> list[FakeServer]: ...

    @property
    def nova_errors(self) -> bool:
        return self._neutron.nova_errors

    @nova_errors.setter
    def nova_errors(self, value: bool) -> None:
        self._neutron.nova_errors = value

    def reset(self) -> None:
        """Forget every network, port and server; keep the options."""
        with self._lock:
            self._neutron.clear()
            self._servers.clear()
            self._detaching.clear()
            self.timeline.clear()

    def create_server(
        self,
        project_id: str,
        *,
        id: str | None = None,
        name: str | None = None,
        tags: Iterable[str] = (),
        status: str = "ACTIVE",
        build_seconds: float | None = None,
        interfaces: Sequence[AttachRequest] = (),
    ) -> ServerSnapshot:
        """A server in ``project_id`` with its boot interfaces attached.

        It is BUILD for ``build_seconds`` (default: the backend's), then ``status``
        (ACTIVE when ``status`` is BUILD; with no build time, BUILD lasts until changed).
        """
        _check_status(status)
        with self._lock:
            server = self._new_server(project_id, new_id(id), name, list(tags), status)
            if build_seconds is not None:
                server.build_seconds = build_seconds
            if status == "BUILD" and server.build_seconds > 0:
                server.status = "ACTIVE"  # a timed build ends ACTIVE; untimed BUILD lasts
            try:
                for request in interfaces:
                    self._attach(server, request, server.created_at + server.build_seconds)
            except FakeApiError:
                for port_id in server.port_ids:
                    self._neutron.release(self._neutron.ports[port_id])
                raise
            self._servers[server.id] = server
            return self._snapshot(server)

    def update_server(
        self, server_id: str, *, status: str | None = None, tags: Iterable[str] | None = None
    ) -> ServerSnapshot:
        """Change a server's status (ending any BUILD at once) or its tags."""
        _check_status(status)
        with self._lock:
            server = self._admin_server(server_id)
            if status is not None:
                server.status, server.build_seconds = status, 0.0
            if tags is not None:
                server.tags = list(tags)
            self._touch(server)
            return self._snapshot(server)

    def admin_server(self, server_id: str) -> ServerSnapshot:
        with self._lock:
            return self._snapshot(self._admin_server(server_id))

    def state(self) -> dict[str, Any]:
        """Everything but the tokens, as JSON-ready dicts."""
        with self._lock:
            self._settle()
            neutron = self._neutron
            return {
                "networks": [network.to_dict() for network in neutron.networks.values()],
                "ports": [neutron.port_snapshot(p).to_dict() for p in neutron.ports.values()],
                "servers": [self._snapshot(server).to_dict() for server in self._ordered()],
                "options": self.options(),
            }

    def options(self) -> dict[str, Any]:
        return {
            "nova_errors": self.nova_errors,
            "build_seconds": self.build_seconds,
            "port_down_seconds": self.port_down_seconds,
            "detach_delay_seconds": self.detach_delay_seconds,
            "max_limit": self.max_limit,
        }

    def _new_server(
        self, project_id: str, server_id: str, name: str | None, tags: list[str], status: str
    ) -> FakeServer:
        if not project_id:
            raise BadRequest("project_id is required.")
        if server_id in self._servers:
            raise Conflict(f"Server {server_id} already exists.")
        self._seq += 1
        now = self.wall_time()
        stamp = iso_time(now)
        return FakeServer(
            server_id,
            project_id,
            name or f"server-{self._seq}",
            tags,
            status,
            self.build_seconds,
            self.clock(),
            stamp,
            stamp,
            self._seq,
            updated_at=now,
        )
