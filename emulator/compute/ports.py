"""The compute backend's port and network calls, and server deletion (a mixin of ``FakeBackend``).

Kept apart from ``models.py`` so each stays readable: what the admin API and the
network API (``emulator.network_api``) ask of ports, and deleting a server the
way Nova and ECS do (its ``delete_on_termination`` ports go with it, the others
are unbound and kept). Every method takes the backend's lock.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from emulator.compute.records import FakeServer
from emulator.core import clock as clocks
from emulator.network.models import FakeNeutron
from emulator.network.records import FakeNetwork, FakePort, PortSnapshot


class PortsMixin:
    """Ports, networks and server deletion over ``FakeBackend``'s state."""

    _lock: AbstractContextManager[bool]
    _neutron: FakeNeutron
    _servers: dict[str, FakeServer]
    _detaching: dict[str, FakePort]
    clock: clocks.Clock
    port_down_seconds: float

    if TYPE_CHECKING:

        def _touch(self, server: FakeServer, at: float | None = None) -> None: ...
        def _server(self, project_id: str, server_id: str) -> FakeServer: ...
        def _admin_server(self, server_id: str) -> FakeServer: ...
        def _settle(self) -> None: ...

    def create_network(
        self,
        cidr: str,
        *,
        id: str | None = None,
        name: str | None = None,
        subnet_id: str | None = None,
        project_id: str | None = None,
        shared: bool = False,
    ) -> FakeNetwork:
        """A network with one subnet: ``project_id``'s (only it sees it in the network API,
        unless ``shared``), or, when None, every project's as if each owned it."""
        with self._lock:
            return self._neutron.create_network(cidr, id, name, subnet_id, project_id, shared)

    def create_port(
        self,
        net_id: str,
        *,
        id: str | None = None,
        fixed_ip: str | None = None,
        project_id: str | None = None,
        name: str = "",
    ) -> PortSnapshot:
        """A free port on ``net_id``, to attach later by ``port_id`` (in ``project_id`` only,
        when it is given)."""
        with self._lock:
            port = self._neutron.create_port(net_id, id, fixed_ip, project_id, name)
            return self._neutron.port_snapshot(port)

    @property
    def neutron(self) -> FakeNeutron:
        """The network service's state, for the network API (hold ``transaction()``)."""
        return self._neutron

    def port_status(self, port: FakePort) -> str:
        """Neutron's ``status``: ACTIVE once bound (after ``port_down_seconds``), else DOWN."""
        if port.server_id is None or self.clock() < port.attached_at + self.port_down_seconds:
            return "DOWN"
        return "ACTIVE"

    def forget_port(self, port: FakePort) -> None:
        """A bound port is being deleted through the network API: its server loses it."""
        with self._lock:
            server = self._servers.get(port.server_id or "")
            if server is not None and port.id in server.port_ids:
                server.port_ids.remove(port.id)
                self._touch(server)
            self._detaching.pop(port.id, None)

    def delete_server(self, project_id: str | None, server_id: str) -> None:
        """Delete a server (any project's when ``project_id`` is None): its ports that are
        ``delete_on_termination`` go with it, the others are unbound and kept."""
        with self._lock:
            if project_id is None:
                server = self._admin_server(server_id)
            else:
                server = self._server(project_id, server_id)
            for port_id in server.port_ids:
                self._detaching.pop(port_id, None)
                self._neutron.release(self._neutron.ports[port_id], deleting_server=True)
            del self._servers[server.id]

    def network(self, net_id: str) -> FakeNetwork:
        """A network; ItemNotFound (or, with nova_errors, a 500) when there is none."""
        with self._lock:
            return self._neutron.network(net_id)

    def port(self, port_id: str) -> PortSnapshot:
        """A port, attached or free; ItemNotFound when there is none."""
        with self._lock:
            self._settle()
            return self._neutron.port_snapshot(self._neutron.port(port_id))
