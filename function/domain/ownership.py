"""Ownership written into the cloud (pure): the port the function names before a NIC exists.

For every network request the function first finds, and otherwise creates, a
port with a deterministic name, then attaches that port by id. The name is the
idempotency key the compute APIs lack: any delivery, on any instance, finds the
same port for the same (server, request) and continues from what the cloud says.

Name format (``port_name``)::

    nicattach-<server id>-<12 hex digits>

the digits are the first 12 of the SHA-256 of ``<net id>|<fixed ip or "">``: the
request's identity. Rule names are not part of it (the policy merges one network
asked by several rules into one request, and renaming a rule must not make a
second port); they go in the port's ``description``. 59 characters of
``[a-z0-9-]``: within Neutron's and Huawei's 255 and their allowed characters.

Which named port is the request's (``claim``): the lowest port id among those
with its name (two copies that created one at once agree on it); the others
are extras, removed (detached first if attached to the server).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from function.domain.policy import NicRequest

PORT_PREFIX = "nicattach-"
DIGEST_HEX = 12


@dataclass(frozen=True)
class Port:
    """A port as the network API shows it (only what ownership needs)."""

    id: str
    name: str
    network_id: str
    device_id: str
    """The server it is bound to; ``""`` when unbound."""
    status: str


def port_name(server_id: str, nic: NicRequest) -> str:
    """The name of the port the function makes for ``nic`` on ``server_id``."""
    identity = f"{nic.net_id or ''}|{nic.fixed_ip or ''}".encode()
    return f"{PORT_PREFIX}{server_id}-{hashlib.sha256(identity).hexdigest()[:DIGEST_HEX]}"


def server_of(name: str) -> str | None:
    """The server id in one of the function's port names; ``None`` for any other name."""
    if not name.startswith(PORT_PREFIX) or len(name) <= len(PORT_PREFIX) + DIGEST_HEX + 1:
        return None
    server, sep, digest = name[len(PORT_PREFIX) :].rpartition("-")
    if not sep or len(digest) != DIGEST_HEX or not server:
        return None
    return server


def description(nic: NicRequest) -> str:
    """What a person reading the port should know: who made it and for which rules."""
    rules = ",".join(nic.rules) or "policy"
    return f"made by nic-autoattach for rule(s) {rules}"[:255]


class State(str, Enum):
    NONE = "none"
    """No port of ours yet: create one."""
    FREE = "free"
    """Unbound: attach it (an attach job may already be running: attaching the same
    port twice cannot make two NICs)."""
    ON_SERVER = "on_server"
    """Bound to this server (attached, or its attach still settling)."""
    ELSEWHERE = "elsewhere"
    """Bound to another server: a permanent failure, never touched."""


@dataclass(frozen=True)
class Claim:
    """The named ports of one request: which one is its, and which are extra."""

    port: Port | None
    extras: tuple[Port, ...]
    state: State


def claim(server_id: str, nic: NicRequest, ports: Iterable[Port]) -> Claim:
    """The request's port among ``ports`` (any of the function's ports may be given)."""
    name = port_name(server_id, nic)
    named = sorted((p for p in ports if p.name == name), key=lambda p: p.id)
    if not named:
        return Claim(None, (), State.NONE)
    keeper, extras = named[0], tuple(named[1:])
    if not keeper.device_id:
        state = State.FREE
    elif keeper.device_id == server_id:
        state = State.ON_SERVER
    else:
        state = State.ELSEWHERE
    return Claim(keeper, extras, state)
