"""The compute service's in-memory backend: servers and their interfaces.

It also holds the networks and ports (``FakeNeutron``), which every compute API
changes with its servers; who may call (``identity.tokens.TokenStore``) and what was
called (``core.requestlog.RequestLog``) are the front door's (``emulator.app``).

As in moto, the backend knows nothing about HTTP: it raises ``FakeApiError``s
that already carry Nova's status code and message. One re-entrant lock guards
all state (networks and ports live in ``FakeNeutron``, under the same lock);
every public method takes it and returns frozen snapshots. Time comes from an
injectable clock, and everything that depends on it (BUILD → ACTIVE, ports
DOWN → ACTIVE, delayed detaches) is computed lazily when read, so tests need
no sleeps.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from emulator.compute.manage import ManageMixin
from emulator.compute.ports import PortsMixin
from emulator.compute.records import (
    INTERFACE_STATES,
    VM_STATES,
    AttachRequest,
    FakeServer,
    ServerSnapshot,
)
from emulator.core import clock as clocks
from emulator.core.errors import BadRequest, Conflict, ItemNotFound
from emulator.core.ids import new_id
from emulator.core.timeline import Timeline, advance, iso_time
from emulator.network.models import FakeNeutron
from emulator.network.records import FakePort, InterfaceSnapshot


def _check_request(request: AttachRequest) -> None:
    """The checks Nova's controller makes once the server is found."""
    if request.net_id and request.port_id:
        raise BadRequest("Must not input both network_id and port_id")
    if request.ip_address and not request.net_id:
        raise BadRequest("Must input network_id when request IP address")


#: How long after creation a BUILDing server's boot ports show in ``GET os-interface``.
BOOT_PORTS_AFTER_S = 0.2


class FakeBackend(ManageMixin, PortsMixin):
    """All state of one emulated cloud (the networks are shared by every project).

    Options (plain attributes, may be changed while running):
        clock: monotonic seconds; inject a fake one to drive time in tests. Wall-clock
            times (``created``, ``updated``, ``changes-since``) follow it too: the wall
            time when the backend was made, plus the clock's progress since.
        nova_errors: answer like real Nova where it is unhelpful (an unknown
            network and a fixed IP outside the subnet become 500 computeFault
            instead of 404 / 400).
        build_seconds: how long new servers stay BUILD unless told otherwise.
        port_down_seconds: new attachments report ``port_state`` DOWN this long.
        detach_delay_seconds: a detached interface stays visible this long
            (Nova detaches asynchronously; 0 = at once).
        rng: source of MAC addresses.
    """

    def __init__(
        self,
        *,
        clock: clocks.Clock = clocks.monotonic,
        nova_errors: bool = False,
        build_seconds: float = 0.0,
        port_down_seconds: float = 0.0,
        detach_delay_seconds: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self.timeline = Timeline(clock)
        self.build_seconds = build_seconds
        self.max_limit = 1000
        """Nova's ``[api] max_limit``: no page is longer, whatever ``limit`` asks."""
        self.port_down_seconds = port_down_seconds
        self.detach_delay_seconds = detach_delay_seconds
        self._lock = threading.RLock()
        self._neutron = FakeNeutron(
            nova_errors=nova_errors,
            rng=rng or random.Random(),
            stamp=lambda: iso_time(self.wall_time()),
        )
        self._servers: dict[str, FakeServer] = {}
        #: Ports whose detach has started (``_settle`` looks at these, not at every port).
        self._detaching: dict[str, FakePort] = {}
        self._seq = 0

    def wall_time(self) -> float:
        """Seconds since the epoch, as this backend's clock has it."""
        return self.timeline.epoch + self.clock()

    def advance_clock(self, seconds: float) -> float:
        """Move the clock forward (it must be an ``AdjustableClock``); the new wall time."""
        advance(self.clock, seconds)
        return self.wall_time()

    # -- admin -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the backend's lock (re-entrant), for services that keep state beside it."""
        with self._lock:
            yield

    def schedule(self, at: float, action: Callable[[], None]) -> None:
        """Run ``action`` under the lock once ``clock()`` reaches ``at``, before anything
        reads the state (as the detaches are: lazily, so a fake clock drives it)."""
        with self._lock:
            self.timeline.schedule(at, action)

    def settle(self) -> None:
        """Bring the state up to ``clock()`` now."""
        with self._lock:
            self._settle()

    # -- the compute API ---------------------------------------------------------------

    def get_server(self, project_id: str, server_id: str) -> ServerSnapshot:
        with self._lock:
            return self._snapshot(self._server(project_id, server_id))

    def list_servers(
        self,
        project_id: str,
        *,
        limit: int | None = None,
        marker: str | None = None,
        changes_since: float | None = None,
    ) -> list[ServerSnapshot]:
        """One page of the project's servers, newest first (Nova's default sort).

        ``changes_since`` (epoch seconds): only servers whose ``updated`` time is at or
        after it, as Nova filters ``updated_at >= changes-since``. The marker is looked up
        among all of the project's servers (Nova reads the marker instance by id), the
        page is the filtered servers after it."""
        with self._lock:
            self._settle()  # finished detaches change interfaces and ``updated``
            servers = [s for s in self._ordered() if s.project_id == project_id]
            if marker is not None:
                ids = [server.id for server in servers]
                if marker not in ids:
                    raise BadRequest(f"marker [{marker}] not found")
                servers = servers[ids.index(marker) + 1 :]
            if changes_since is not None:
                servers = [s for s in servers if self._updated_at(s) >= changes_since]
            page = servers if limit is None else servers[:limit]
            return [self._snapshot(server) for server in page]

    def list_interfaces(self, project_id: str, server_id: str) -> list[InterfaceSnapshot]:
        """The attached interfaces. Like Nova, a BUILDing server lists none right after it
        was created, and its boot ports once "Neutron" has made them (the contract suite
        measured this on Nova 34)."""
        with self._lock:
            age = self.clock() - self._server(project_id, server_id).created_at
        snapshot = self.get_server(project_id, server_id)
        if snapshot.status == "BUILD" and age < BOOT_PORTS_AFTER_S:
            return []
        return list(snapshot.interfaces)

    def get_interface(self, project_id: str, server_id: str, port_id: str) -> InterfaceSnapshot:
        with self._lock:
            server = self._server(project_id, server_id)
            port = self._neutron.port(port_id)
            if port.server_id != server.id:
                raise ItemNotFound(f"Instance {server_id} does not have a port with id {port_id}")
            return self._interface(port)

    def attach_interface(
        self, project_id: str, server_id: str, request: AttachRequest
    ) -> InterfaceSnapshot:
        """Attach like Nova: any number of interfaces on one network is fine."""
        with self._lock:
            server = self._server(project_id, server_id)
            _check_request(request)
            self._check_state(server, "attach_interface")
            port = self._attach(server, request, self.clock())
            self._touch(server)
            return self._interface(port)

    def detach_interface(self, project_id: str, server_id: str, port_id: str) -> None:
        """Start a detach; like Nova, a port that is not attached is silently ignored."""
        with self._lock:
            server = self._server(project_id, server_id)
            self._check_state(server, "detach_interface")
            port = self._neutron.ports.get(port_id)
            if port is None or port.server_id != server.id or port.detach_at is not None:
                return
            port.detach_at = self.clock() + self.detach_delay_seconds
            self._detaching[port.id] = port
            self._touch(server)
            self._settle()

    # -- internals (call with the lock held) ------------------------------------------------

    def _settle(self) -> None:
        """Run the scheduled changes and finish the detaches whose time has come."""
        now = self.clock()
        for action in self.timeline.pop_due(now):  # off the queue first: an action may settle
            action()
        for port in list(self._detaching.values()):
            if port.detach_at is not None and port.detach_at <= now:
                del self._detaching[port.id]
                server = self._servers[port.server_id or ""]
                server.port_ids.remove(port.id)
                self._touch(server, self.timeline.epoch + port.detach_at)  # when it finished
                self._neutron.release(port)

    def _touch(self, server: FakeServer, at: float | None = None) -> None:
        """The server changed (at wall time ``at``, default now): its ``updated`` moves."""
        when = self.wall_time() if at is None else at
        if when > server.updated_at:
            server.updated_at, server.updated = when, iso_time(when)

    def _updated_at(self, server: FakeServer) -> float:
        """``updated``, counting the end of a timed build (BUILD → ACTIVE is a change too,
        computed lazily like the status itself)."""
        built = server.created_at + server.build_seconds
        if server.build_seconds > 0 and self.clock() >= built:
            return max(server.updated_at, self.timeline.epoch + built)
        return server.updated_at

    def _ordered(self) -> list[FakeServer]:
        return sorted(self._servers.values(), key=lambda server: -server.seq)

    def _status(self, server: FakeServer) -> str:
        if self.clock() < server.created_at + server.build_seconds:
            return "BUILD"
        return server.status

    def _server(self, project_id: str, server_id: str) -> FakeServer:
        server = self._admin_server(server_id)
        if server.project_id != project_id:
            raise ItemNotFound(f"Instance {server_id} could not be found.")
        return server

    def _admin_server(self, server_id: str) -> FakeServer:
        self._settle()
        server = self._servers.get(server_id)
        if server is None:
            raise ItemNotFound(f"Instance {server_id} could not be found.")
        return server

    def _check_state(self, server: FakeServer, action: str) -> None:
        status = self._status(server)
        if status not in INTERFACE_STATES:
            raise Conflict(
                f"Cannot '{action}' instance {server.id} while it is in vm_state "
                f"{VM_STATES[status]}"
            )

    def _attach(self, server: FakeServer, request: AttachRequest, now: float) -> FakePort:
        _check_request(request)
        neutron = self._neutron
        if request.port_id is not None:
            port = neutron.free_port(request.port_id, server.project_id)
        else:
            network = neutron.pick_network(request.net_id, server.project_id)
            port = neutron.new_port(network, request.ip_address, new_id(None))
            port.created_by_attach = port.delete_on_termination = True
        neutron.bind(port, server.id, server.project_id, server.availability_zone)
        port.tag, port.attached_at = request.tag, now
        server.port_ids.append(port.id)
        return port

    def _interface(self, port: FakePort) -> InterfaceSnapshot:
        down = self.clock() < port.attached_at + self.port_down_seconds
        return self._neutron.interface(port, "DOWN" if down else "ACTIVE")

    def _snapshot(self, server: FakeServer) -> ServerSnapshot:
        ports = self._neutron.ports
        interfaces = tuple(self._interface(ports[port_id]) for port_id in server.port_ids)
        return ServerSnapshot(
            server.id,
            server.project_id,
            server.name,
            self._status(server),
            tuple(server.tags),
            server.created,
            iso_time(self._updated_at(server)),
            interfaces,
        )
