"""An in-memory ``ComputeBackend``: the converger and the waiter on a virtual timeline,
without HTTP (after httpx's ``MockTransport``).

The cloud is a dict of servers; each call is first shown to ``handler`` (as httpx
hands each request to a ``MockTransport`` handler), which may raise a domain error
(a busy server, a refusal, a lost answer), change the state (another copy's attach,
the server coming up) or let virtual time pass, before the call runs on the state.
Every call is recorded in ``calls``. The real backends are tested over HTTP against
the emulator; this one stands in where a test is about the logic above the seam.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from function.compute.base import Attached, Capabilities, Server, ServerPage
from function.domain.codes import ErrorCode
from function.domain.errors import ApiPermanentError, ServerGone
from function.domain.plan import FixedIp, Interface
from function.domain.policy import NicRequest
from function.domain.tags import Tags
from function.domain.timing import Deadline

GONE = ("DELETED", "SOFT_DELETED")
EVERYTHING = Capabilities(
    marks=True, security_groups=True, free_nics=True, delete_on_termination=False
)


@dataclass(frozen=True)
class Call:
    name: str
    """``get_server``, ``list_servers``, ``list_interfaces``, ``get_interface``, ``attach``
    or ``detach``."""
    server_id: str
    nic: NicRequest | None = None
    port_id: str | None = None
    mark: str | None = None


@dataclass
class MemoryServer:
    status: str = "ACTIVE"
    tags: Tags = field(default_factory=lambda: Tags({}))
    interfaces: list[Interface] = field(default_factory=list)
    free: int | None = None


Handler = Callable[[Call, "MemoryBackend"], None]


def interface(
    port_id: str, net_id: str, ip: str = "", tag: str = "", state: str = "ACTIVE"
) -> Interface:
    ips = (FixedIp(f"subnet-of-{net_id}", ip),) if ip else ()
    return Interface(port_id, net_id, state, f"fa:16:3e:00:00:{port_id[-2:]}", ips, tag)


class MemoryBackend:
    name = "memory"

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        capabilities: Capabilities = EVERYTHING,
        new_port_state: str = "ACTIVE",
    ) -> None:
        self.handler = handler
        self.capabilities = capabilities
        self.servers: dict[str, MemoryServer] = {}
        self.ports: dict[str, str] = {}
        """port id → network, for attaches by port."""
        self.calls: list[Call] = []
        self.new_port_state = new_port_state
        self._ids = itertools.count(10)

    # -- the seam ---------------------------------------------------------------

    def discover(self, deadline: Deadline) -> Capabilities:
        return self.capabilities

    def get_server(self, project_id: str, server_id: str, deadline: Deadline) -> Server:
        server = self._server(Call("get_server", server_id))
        return Server(server_id, server.status, server.tags)

    def list_servers(
        self,
        project_id: str,
        deadline: Deadline,
        *,
        marker: str | None = None,
        changes_since: str | None = None,
    ) -> ServerPage:
        self._see(Call("list_servers", ""))
        ids = sorted(self.servers)
        after = ids[ids.index(marker) + 1 :] if marker in ids else ids
        listed = tuple(Server(i, self.servers[i].status, self.servers[i].tags) for i in after)
        return ServerPage(listed, None)

    def list_interfaces(self, project_id: str, server_id: str, deadline: Deadline) -> Attached:
        server = self._server(Call("list_interfaces", server_id))
        return Attached(tuple(server.interfaces), server.free)

    def get_interface(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline
    ) -> Interface:
        server = self._server(Call("get_interface", server_id, port_id=port_id))
        for nic in server.interfaces:
            if nic.port_id == port_id:
                return nic
        raise ApiPermanentError(
            "no such NIC", code=ErrorCode.NOT_FOUND, status=404, request_id=None
        )

    def attach(
        self,
        project_id: str,
        server_id: str,
        nic: NicRequest,
        deadline: Deadline,
        *,
        mark: str | None = None,
    ) -> None:
        self._server(Call("attach", server_id, nic=nic, mark=mark))
        self.plug(server_id, nic, mark if self.capabilities.marks else None)

    def keep_with_server(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline
    ) -> None:
        self._server(Call("keep_with_server", server_id, port_id=port_id))

    def detach(self, project_id: str, server_id: str, port_id: str, deadline: Deadline) -> None:
        server = self._server(Call("detach", server_id, port_id=port_id))
        server.interfaces = [i for i in server.interfaces if i.port_id != port_id]  # idempotent

    # -- for tests and handlers -------------------------------------------------

    def add_server(self, server_id: str, *nics: Interface, **fields: object) -> MemoryServer:
        server = MemoryServer(interfaces=list(nics), **fields)  # type: ignore[arg-type]
        self.servers[server_id] = server
        return server

    def plug(self, server_id: str, nic: NicRequest, mark: str | None = None) -> Interface:
        """Attach ``nic`` to the server as the cloud would (also: another copy's attach)."""
        server = self.servers[server_id]
        port_id = nic.port_id or f"port-{next(self._ids):02d}"
        net_id = nic.net_id or self.ports.get(port_id, "net-of-" + port_id)
        made = interface(port_id, net_id, nic.fixed_ip or "", mark or "", self.new_port_state)
        server.interfaces.append(made)
        return made

    def set_port_state(self, server_id: str, port_id: str, state: str) -> None:
        server = self.servers[server_id]
        server.interfaces = [
            replace(i, port_state=state) if i.port_id == port_id else i for i in server.interfaces
        ]

    def names(self) -> list[str]:
        return [call.name for call in self.calls]

    def _see(self, call: Call) -> None:
        self.calls.append(call)
        if self.handler is not None:
            self.handler(call, self)

    def _server(self, call: Call) -> MemoryServer:
        self._see(call)
        server = self.servers.get(call.server_id)
        if server is None or server.status in GONE:
            raise ServerGone()
        return server
