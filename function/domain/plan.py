"""Desired minus actual (pure): which NIC satisfies which request, what to attach,
which duplicates to undo, which NICs of ours no request wants any more.

Matching is a one-to-one assignment. A port request is satisfied only by that
port. A network request (one per network: the policy merges them) is
satisfied by a NIC on that network, with the fixed IP if one is asked, that no
port request claimed. Among several candidates the assignment prefers a NIC
that is not ours (an operator's NIC counts toward the policy), then the
lowest port id.

Duplicate protection is ours (Nova attaches any number of NICs on one
network). A NIC is *ours* only when the cloud says so: its port is one the
function named before attaching it (``owned``, see ``domain/ownership.py``), or
it carries the function's mark (a Nova device tag). Timing proves nothing: a NIC
that appeared after a first read may be an operator's or a boot NIC of a server
still building. An unassigned NIC of ours that satisfies a network request whose
assigned NIC is also ours is a duplicate: detached. Every copy applies the same
rule to the same NICs, and the lowest port id is never detached by anyone, so
racing copies converge on exactly one NIC, never zero. NICs that are not ours
are never touched, whatever their network and timing: beyond the one asked for
on a policy network they are reported (``suspected``). A NIC of ours that no
request wants any more is *stale* (reported; detached only when pruning is on).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from function.domain.policy import NicRequest, parse_ip

MARK_PREFIX = "nicattach:"
"""The device tag prefix that marks a NIC as made by this function."""


@dataclass(frozen=True)
class FixedIp:
    """One fixed IP of an attached NIC, in the subnet that holds it."""

    subnet_id: str
    ip_address: str


@dataclass(frozen=True)
class Interface:
    """One attached NIC as the API reports it."""

    port_id: str
    net_id: str
    port_state: str
    mac_addr: str
    fixed_ips: tuple[FixedIp, ...]
    tag: str = ""
    """The NIC's mark (a device tag), if the API shows one; not part of the completion event."""
    delete_on_termination: bool | None = None
    """Whether the NIC goes with its server, where the API says (Huawei v1)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "port_state": self.port_state,
            "fixed_ips": [
                {"subnet_id": ip.subnet_id, "ip_address": ip.ip_address} for ip in self.fixed_ips
            ],
            "port_id": self.port_id,
            "net_id": self.net_id,
            "mac_addr": self.mac_addr,
        }

    @property
    def ip_addresses(self) -> frozenset[str]:
        """Canonical (``2001:DB8::0:10`` is ``2001:db8::10``), as the policy's are: the API's
        spelling never decides whether a NIC satisfies a request."""
        return frozenset(canonical_ip(ip.ip_address) for ip in self.fixed_ips)

    @property
    def marked(self) -> bool:
        return self.tag.startswith(MARK_PREFIX)


@dataclass(frozen=True)
class Detach:
    """Undo a NIC: a duplicate a copy of this function made, or a stale one of ours."""

    port_id: str
    keep: str | None
    """The NIC kept instead (duplicates); ``None`` for a stale NIC."""


@dataclass(frozen=True)
class Plan:
    """What to do about a server's NICs, given what the policy wants and what it has."""

    assigned: tuple[Interface | None, ...]
    """Per desired request, in order: the NIC that satisfies it, or ``None``."""
    missing: tuple[NicRequest, ...]
    duplicates: tuple[Detach, ...]
    stale: tuple[Interface, ...]
    """NICs of ours that no request wants (tags or policy changed)."""
    suspected: tuple[Interface, ...]
    """NICs beyond the one asked for on a policy network that are not ours to undo:
    perhaps duplicates left by a copy killed before it re-read (without a mark the
    function cannot tell them from an operator's); reported, never touched."""

    @property
    def settled(self) -> bool:
        return not self.missing and not self.duplicates


def satisfies(interface: Interface, nic: NicRequest) -> bool:
    """Whether ``interface`` could be the NIC ``nic`` asks for (ignoring other claims)."""
    if nic.port_id is not None:
        return interface.port_id == nic.port_id
    if interface.net_id != nic.net_id:
        return False
    return nic.fixed_ip is None or canonical_ip(nic.fixed_ip) in interface.ip_addresses


def canonical_ip(text: str) -> str:
    """``text`` as ``ipaddress`` writes it; unchanged when it is not an address."""
    return parse_ip(text) or text


def plan(
    desired: Sequence[NicRequest],
    actual: Iterable[Interface],
    owned: Iterable[str] = (),
) -> Plan:
    """Assign NICs to requests one to one and derive what to do.

    ``owned`` holds the port ids the cloud shows as the function's (its named ports).
    """
    present = sorted(actual, key=lambda i: i.port_id)
    mine = frozenset(owned)

    def ours(interface: Interface) -> bool:
        return interface.marked or interface.port_id in mine

    assigned: list[Interface | None] = [None] * len(desired)
    claimed: set[str] = set()
    # Port requests first: a port satisfies only its own request.
    for index, nic in enumerate(desired):
        if nic.port_id is not None:
            match = next((i for i in present if i.port_id == nic.port_id), None)
            if match is not None:
                assigned[index] = match
                claimed.add(match.port_id)
    for index, nic in enumerate(desired):
        if nic.port_id is None:
            candidates = [i for i in present if i.port_id not in claimed and satisfies(i, nic)]
            candidates.sort(key=lambda i: (ours(i), i.port_id))
            if candidates:
                assigned[index] = candidates[0]
                claimed.add(candidates[0].port_id)

    missing = tuple(nic for nic, got in zip(desired, assigned, strict=True) if got is None)
    duplicates: list[Detach] = []
    stale: list[Interface] = []
    suspected: list[Interface] = []
    for interface in present:
        if interface.port_id in claimed:
            continue
        wanted_by = [
            (nic, got)
            for nic, got in zip(desired, assigned, strict=True)
            if nic.port_id is None and satisfies(interface, nic)
        ]
        keeper = next((got for _, got in wanted_by if got is not None and ours(got)), None)
        if ours(interface) and keeper is not None:
            duplicates.append(Detach(interface.port_id, keep=keeper.port_id))
        elif wanted_by:
            suspected.append(interface)
        elif ours(interface):
            stale.append(interface)
    return Plan(tuple(assigned), missing, tuple(duplicates), tuple(stale), tuple(suspected))


def by_port(interfaces: Iterable[Interface]) -> Mapping[str, Interface]:
    return {i.port_id: i for i in interfaces}
