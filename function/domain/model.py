"""Plain data shared by the pure parts: what an event asks for, and why one is ignored.

No I/O, no third-party imports: these types cross every layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from function.domain.errors import InputError
from function.domain.tags import Tags
from function.domain.text import canonical_uuid, shorten

if TYPE_CHECKING:  # a type only: lifecycle hooks are parsed (sources/smn.py) when one comes
    from function.domain.lifecycle import Lifecycle

PROJECT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Trigger:
    """The identity of the input event, copied into every outcome event."""

    id: str
    source: str
    type: str
    traceparent: str | None = field(default=None, compare=False)
    """The incoming W3C trace context (``domain/tracecontext.py``), when valid."""


@dataclass(frozen=True)
class ServerRef:
    """One server an event is about.

    ``tags`` are the event's tags, parsed at the edge (every shape an event may
    carry them in), or ``None`` when the event carries none and they must be read
    from the API.
    """

    server_id: str
    project_id: str | None = None
    tags: Tags | None = None
    status: str | None = None
    lifecycle: Lifecycle | None = None
    """Set when an Auto Scaling lifecycle hook holds the server (``sources/smn.py``)."""
    deleted: bool = False
    """A delete event (CTS ``deleteServer``, Nova ``instance.delete.end``): no NIC work; the
    function's ports of the server are released once it is gone."""


@dataclass(frozen=True)
class ParsedEvent:
    """An input event reduced to what the flow needs."""

    trigger: Trigger
    servers: tuple[ServerRef, ...] = ()
    ignored_reason: str | None = None


class Ignored(Exception):
    """Raised by a source parser for a valid event not about a new, re-tagged or deleted server."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_server_id(value: object, where: str = "server_id") -> str:
    """Return a canonical server id, or raise ``InputError`` if it is not a UUID."""
    if not isinstance(value, str):
        raise InputError(f"{where} must be a string UUID, got {type(value).__name__}")
    parsed = canonical_uuid(value)
    if parsed is None:
        raise InputError(f"{where} is not a UUID: {shorten(value.strip())!r}")
    return parsed


def check_project_id(value: object, where: str = "project_id") -> str:
    """Return a project id, or raise ``InputError`` unless it is 1-64 of [A-Za-z0-9_-]."""
    if not isinstance(value, str):
        raise InputError(f"{where} must be a string, got {type(value).__name__}")
    text = value.strip()
    if not PROJECT_ID_RE.fullmatch(text):
        raise InputError(f"{where} must be 1-64 characters of [A-Za-z0-9_-]: {shorten(text)!r}")
    return text
