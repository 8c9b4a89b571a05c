"""The seam between the convergence logic and a compute API.

A backend owns its wire format, versions and error mapping; everything above
it speaks these typed values. Errors are the domain's: ``ApiTemporaryError``
(worth retrying), ``ApiPermanentError`` (not), and ``ServerGone`` for a
server that no longer exists. Every call takes the event's ``Deadline``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from function.domain.plan import Interface
from function.domain.policy import NicRequest
from function.domain.tags import Tags
from function.domain.timing import Deadline


class ServerGone(Exception):
    """The server disappeared (404 or DELETED): nothing to do, not a failure."""


@dataclass(frozen=True)
class Server:
    id: str
    status: str
    tags: Tags | None
    """``None`` when this API cannot show tags (Nova's ``v2`` without microversions)."""
    ignored_tags: tuple[str, ...] = ()
    """Tags the API returned that cannot be used (an empty key, a lone space)."""


@dataclass(frozen=True)
class ServerPage:
    servers: tuple[Server, ...]
    next_marker: str | None
    """Where the next page starts; ``None`` after the last page."""


@dataclass(frozen=True)
class Attached:
    """A server's NICs, and how many more it takes if the API says."""

    interfaces: tuple[Interface, ...]
    free: int | None = None


class ComputeBackend(Protocol):
    """What the flow, the sweep and the dry run need of a compute API."""

    name: str

    @property
    def calls(self) -> int:
        """Requests sent so far (for logs and the bench)."""
        ...

    def marks(self, deadline: Deadline) -> bool:
        """Whether NICs made by this function carry a mark this API shows back."""
        ...

    def get_server(self, project_id: str, server_id: str, deadline: Deadline) -> Server: ...

    def list_servers(
        self,
        project_id: str,
        deadline: Deadline,
        *,
        marker: str | None = None,
        changes_since: str | None = None,
    ) -> ServerPage: ...

    def list_interfaces(self, project_id: str, server_id: str, deadline: Deadline) -> Attached: ...

    def get_interface(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline
    ) -> Interface: ...

    def attach(
        self,
        project_id: str,
        server_id: str,
        nic: NicRequest,
        deadline: Deadline,
        *,
        mark: str | None = None,
    ) -> None:
        """Ask for ``nic``. Returning means the API accepted it (it may still be settling);
        the caller re-reads to learn the result."""
        ...

    def detach(self, project_id: str, server_id: str, port_id: str, deadline: Deadline) -> None: ...
