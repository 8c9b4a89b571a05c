"""Desired minus actual: which NICs to attach, which duplicates to undo (pure).

Nova attaches any number of NICs on one network, so duplicate protection
is ours. Every copy of the function applies the same rule to what it sees
after its own POSTs: among the NICs for one policy entry that were not
there at this delivery's first read, keep the one with the lowest port id
and detach the rest. The globally lowest port is never detached by anyone,
so racing copies converge on exactly one NIC, never zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from function.domain.policy import NicRequest


@dataclass(frozen=True)
class FixedIp:
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
    """The device tag (shown from microversion 2.70); not part of the completion event."""

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Interface:
        """Build from an ``interfaceAttachment`` object; ids are stripped (the vendor's
        own example has a leading space)."""
        fixed = raw.get("fixed_ips") or ()
        return cls(
            port_id=_text(raw.get("port_id")),
            net_id=_text(raw.get("net_id")),
            port_state=_text(raw.get("port_state")),
            mac_addr=_text(raw.get("mac_addr")),
            fixed_ips=tuple(
                FixedIp(_text(ip.get("subnet_id")), _text(ip.get("ip_address")))
                for ip in fixed
                if isinstance(ip, Mapping)
            ),
            tag=_text(raw.get("tag")),
        )

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
        return frozenset(ip.ip_address for ip in self.fixed_ips)


@dataclass(frozen=True)
class Detach:
    """Undo a duplicate NIC that a copy of this function made."""

    port_id: str
    keep: str


def satisfies(interface: Interface, nic: NicRequest) -> bool:
    """Whether an attached interface is the NIC the policy asks for."""
    if nic.port_id is not None:
        return interface.port_id == nic.port_id
    if interface.net_id != nic.net_id:
        return False
    return nic.fixed_ip is None or nic.fixed_ip in interface.ip_addresses


def find(nic: NicRequest, actual: Iterable[Interface]) -> list[Interface]:
    """The attached interfaces that satisfy ``nic``, lowest port id first."""
    return sorted((i for i in actual if satisfies(i, nic)), key=lambda i: i.port_id)


def plan_attach(desired: Iterable[NicRequest], actual: Iterable[Interface]) -> list[NicRequest]:
    """The desired NICs that no attached interface satisfies, in policy order."""
    present = list(actual)
    return [nic for nic in desired if not find(nic, present)]


def plan_detach(
    desired: Iterable[NicRequest], first_read: Iterable[str], actual: Iterable[Interface]
) -> list[Detach]:
    """Duplicates to undo: for each desired NIC, the new matches but the lowest.

    ``first_read`` holds the port ids attached at this delivery's first read;
    those are never detached, and neither is any NIC no policy entry asks for.
    """
    before = set(first_read)
    present = list(actual)
    detach: dict[str, Detach] = {}
    for nic in desired:
        matches = find(nic, present)
        if any(m.port_id in before for m in matches):
            continue  # the NIC was there before this delivery: nothing of ours to undo
        new = [m.port_id for m in matches]
        for port_id in new[1:]:
            detach.setdefault(port_id, Detach(port_id=port_id, keep=new[0]))
    return list(detach.values())


def kept(
    nic: NicRequest, actual: Iterable[Interface], first_read: Iterable[str]
) -> Interface | None:
    """The interface reported for ``nic``: one that was there before, else the lowest new one."""
    matches = find(nic, actual)
    before = set(first_read)
    return next((m for m in matches if m.port_id in before), matches[0] if matches else None)


def attach_body(nic: NicRequest, device_tag: str | None = None) -> dict[str, Any]:
    """Exactly the ``interfaceAttachment`` the API reference allows for ``nic``."""
    body: dict[str, Any]
    if nic.port_id is not None:
        body = {"port_id": nic.port_id}
    else:
        body = {"net_id": nic.net_id}
        if nic.fixed_ip is not None:
            body["fixed_ips"] = [{"ip_address": nic.fixed_ip}]
    if device_tag is not None:
        body["tag"] = device_tag
    return {"interfaceAttachment": body}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
