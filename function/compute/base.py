"""The seam between the convergence logic and a compute API.

A backend owns its wire format, versions and error mapping; everything above
it speaks these typed values. Errors are the domain's (``domain/errors.py``):
``ApiTemporaryError`` (worth retrying; ``ServerBusy`` when the server runs a task,
``JobPending`` for an unfinished job), ``ApiPermanentError`` (not), and
``ServerGone`` for a server that no longer exists. Every call takes the event's
``Deadline``. What an API can do is a value, ``Capabilities``, known at wiring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from function.domain.errors import ServerGone
from function.domain.plan import Interface
from function.domain.policy import NicRequest
from function.domain.profile import ProfileSupport
from function.domain.tags import Tags
from function.domain.timing import Deadline

__all__ = ["Attached", "Capabilities", "ComputeBackend", "Server", "ServerGone", "ServerPage"]


@dataclass(frozen=True)
class Capabilities:
    """What a compute API can do, read once when the backend is wired."""

    marks: bool | None
    """NICs made by this function carry a mark the API shows back (a device tag);
    ``None``: the API's version document decides, read once by ``discover``."""
    security_groups: bool
    """An attach can set the NIC's security groups."""
    free_nics: bool
    """The NIC list says how many more NICs the server takes (``Attached.free``)."""
    delete_on_termination: bool
    """A NIC attached by port id can be marked to go away with its server
    (``keep_with_server``); otherwise the function deletes its ports itself."""
    profiles: ProfileSupport = ProfileSupport()
    """The NIC profile keys (``domain/profile.py``) this backend applies; the others are
    refused at start-up."""


@dataclass(frozen=True)
class Server:
    """A server as either backend reads it: its status and its tags."""

    id: str
    status: str
    tags: Tags | None
    """``None`` when this API cannot show tags (Nova's ``v2`` without microversions)."""
    ignored_tags: tuple[str, ...] = ()
    """Tags the API returned that cannot be used (an empty key, a lone space)."""


@dataclass(frozen=True)
class ServerPage:
    """One page of a server listing (the sweep reads them in turn)."""

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
    capabilities: Capabilities
    """Known without I/O at wiring; ``marks`` may still be ``None`` (see ``discover``)."""

    def discover(self, deadline: Deadline) -> Capabilities:
        """The capabilities with ``marks`` decided: the one read an API needs for it
        (Nova's version document, with ``marks=auto``), once per process; afterwards,
        and for every other backend, no I/O."""
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

    def keep_with_server(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline
    ) -> None:
        """Mark the attached NIC to be deleted with its server (``delete_on_termination``);
        a no-op where the capability is absent."""
        ...

    def detach(self, project_id: str, server_id: str, port_id: str, deadline: Deadline) -> None:
        """Detach the NIC; one that is already detached is done (idempotent)."""
        ...
