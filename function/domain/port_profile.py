"""A NIC profile as port fields, per network flavour, and the drift check. Pure.

The network API is Neutron's ``/v2.0`` on both clouds, but the two clouds spell "no
source/destination check" differently:

- ``HUAWEI_VPC``: the allowed address pair ``1.1.1.1/0`` (Huawei's VPC refuses
  ``0.0.0.0/0``; the vendor's Terraform provider does the same in
  ``huaweicloud/services/ecs/resource_huaweicloud_compute_interface_attach.go``,
  ``updatePort``, and documents it for ``allowed_addresses`` in
  ``docs/resources/vpc_network_interface.md``).
- ``NEUTRON``: the pair ``0.0.0.0/0`` and the eight IPv6 prefixes that cover every
  address but multicast (``::/1`` … ``fe00::/8``; a source is never multicast).
  Neutron refuses ``::/0`` (400 ``Subnet ::/0 overlaps with multicast range ff00::/8``:
  neutron-lib's ``validate_subnet_not_multicast`` lets only ``0.0.0.0/0`` through; the
  network contract suite pins it). Not ``port_security_enabled:
  false``: that also drops the port's security groups (the firewall, not only the
  anti-spoofing rule), Neutron refuses it beside security groups, and on a shared
  network only the network's owner may set it. Pairs keep the groups working.

Drift is one-sided: what the profile asks for must be on the port; what else is there
(a pair a VIP association added) is left alone, and the correcting ``PUT`` keeps it.
A port whose ``port_security_enabled`` is false filters nothing, so a profile's pairs
and its "check off" already hold there. ``public_ip`` is not a port field: its binding
is the EIP's (or floating IP's) ``port_id``, read and written by the caller.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from function.domain.addresses import canonical_network, contains, same_address, version
from function.domain.codes import ErrorCode
from function.domain.errors import PermanentError
from function.domain.profile import AddressPair, NicProfile

__all__ = [
    "Drift",
    "Flavour",
    "NoIpv6Subnet",
    "PortDrift",
    "Subnet",
    "address_pairs",
    "fixed_ips",
    "port_fields",
    "profile_drift",
    "subnets_of",
]


class Flavour(str, Enum):
    """Which cloud's network API the ports live in."""

    HUAWEI_VPC = "huawei-vpc"
    NEUTRON = "neutron"

    def __str__(self) -> str:
        return self.value


ALLOW_ALL: dict[Flavour, tuple[str, ...]] = {
    Flavour.HUAWEI_VPC: ("1.1.1.1/0",),
    Flavour.NEUTRON: (
        "0.0.0.0/0",
        *("::/1", "8000::/2", "c000::/3", "e000::/4", "f000::/5", "f800::/6"),
        *("fc00::/7", "fe00::/8"),
    ),
}


class NoIpv6Subnet(PermanentError):
    """``ipv6: true`` on a network without an IPv6 subnet (or not the one holding the
    asked ``ipv6_address``): no retry will add one."""

    code = ErrorCode.NO_IPV6_SUBNET


@dataclass(frozen=True)
class Subnet:
    """A subnet of a NIC's network, as far as profiles need it."""

    id: str
    ip_version: int
    cidr: str


@dataclass(frozen=True)
class Drift:
    """What of a profile a port lost, and the ``PUT /v2.0/ports/{id}`` body that restores it."""

    fields: tuple[str, ...] = ()
    """Profile keys that drifted: ``source_dest_check``, ``allowed_address_pairs``, ``ipv6``,
    ``ipv6_address``; empty when the port matches."""
    body: dict[str, Any] = field(default_factory=dict)
    """``{"port": {...}}`` with only the fields to write; empty when nothing drifted."""


@dataclass(frozen=True)
class PortDrift:
    """One of the function's ports found to have lost part of its profile (an event field)."""

    port_id: str
    fields: tuple[str, ...]
    corrected: bool
    """Whether this delivery put the profile back (``NICATTACH_FIX_DRIFT``, and the cloud
    took the ``PUT``)."""

    def to_json(self) -> dict[str, object]:
        return {"port_id": self.port_id, "fields": list(self.fields), "corrected": self.corrected}


def address_pairs(profile: NicProfile, flavour: Flavour) -> list[dict[str, str]]:
    """The ``allowed_address_pairs`` a new port gets: the flavour's "allow all" pairs when
    the check is off, then the profile's own pairs (sorted); ``[]`` for neither."""
    wanted = _wanted_pairs(profile, flavour)
    return [_pair_body(pair) for pair in wanted]


def fixed_ips(
    fixed_ip: str | None, profile: NicProfile, subnets: Sequence[Subnet]
) -> list[dict[str, str]] | None:
    """The ``fixed_ips`` of a new port: ``None`` lets the cloud choose (no fixed IP, no
    IPv6 asked). With ``ipv6`` the IPv4 side is named too (a port given ``fixed_ips``
    gets only those): the fixed IP, else any address of the first IPv4 subnet."""
    if not profile.ipv6:
        return None if fixed_ip is None else [{"ip_address": fixed_ip}]
    ips: list[dict[str, str]] = []
    v4 = [s for s in subnets if s.ip_version == 4]
    if fixed_ip is not None:
        ips.append({"ip_address": fixed_ip})
    elif v4:
        ips.append({"subnet_id": v4[0].id})
    ips.append(_ipv6_entry(profile, subnets))
    return ips


def port_fields(
    fixed_ip: str | None, profile: NicProfile, flavour: Flavour, subnets: Sequence[Subnet] = ()
) -> dict[str, Any]:
    """The profile's part of a ``POST /v2.0/ports`` body (merge it into ``{"port": …}``
    beside ``network_id``, ``name`` and ``security_groups``). ``subnets``: the network's,
    needed only when ``profile.ipv6``. Raises :class:`NoIpv6Subnet`."""
    body: dict[str, Any] = {}
    ips = fixed_ips(fixed_ip, profile, subnets)
    if ips is not None:
        body["fixed_ips"] = ips
    pairs = address_pairs(profile, flavour)
    if pairs:
        body["allowed_address_pairs"] = pairs
    return body


def profile_drift(
    port: Mapping[str, Any], profile: NicProfile, flavour: Flavour, subnets: Sequence[Subnet] = ()
) -> Drift:
    """Compare a port as ``GET /v2.0/ports/{id}`` shows it (the inner object) with the
    profile. Tolerant of any shape: a field that cannot be read counts as absent."""
    drifted: list[str] = []
    update: dict[str, Any] = {}
    if port.get("port_security_enabled") is not False:
        _pairs_drift(port, profile, flavour, drifted, update)
    if profile.ipv6:
        _ipv6_drift(port, profile, subnets, drifted, update)
    return Drift(tuple(drifted), {"port": update} if update else {})


def subnets_of(answer: object) -> tuple[Subnet, ...]:
    """The subnets in a ``GET /v2.0/subnets?network_id=…`` answer; unreadable items skipped."""
    items = answer.get("subnets") if isinstance(answer, Mapping) else None
    found = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        ident, version, cidr = item.get("id"), item.get("ip_version"), item.get("cidr")
        if isinstance(ident, str) and version in (4, 6) and isinstance(cidr, str):
            found.append(Subnet(ident.strip(), version, cidr))
    return tuple(found)


# ---------------------------------------------------------------- helpers


def _wanted_pairs(profile: NicProfile, flavour: Flavour) -> tuple[AddressPair, ...]:
    allow_all = () if profile.source_dest_check else ALLOW_ALL[flavour]
    return tuple(AddressPair(ip) for ip in allow_all) + profile.allowed_address_pairs


def _pair_body(pair: AddressPair) -> dict[str, str]:
    body = {"ip_address": pair.ip_address}
    if pair.mac_address is not None:
        body["mac_address"] = pair.mac_address
    return body


def _ipv6_entry(profile: NicProfile, subnets: Sequence[Subnet]) -> dict[str, str]:
    v6 = [s for s in subnets if s.ip_version == 6]
    if profile.ipv6_address is None:
        if not v6:
            raise NoIpv6Subnet("ipv6: true, but the network has no IPv6 subnet")
        return {"subnet_id": v6[0].id}
    address = ipaddress.ip_address(profile.ipv6_address)
    holding = [s for s in v6 if contains(s.cidr, address)]
    if subnets and not holding:
        raise NoIpv6Subnet(f"ipv6_address {address}: no IPv6 subnet of the network holds it")
    return {"ip_address": str(address)}


def _port_pairs(port: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """The port's pairs as ``(canonical ip or cidr, mac)``."""
    items = port.get("allowed_address_pairs")
    pairs = []
    for item in items if isinstance(items, list) else []:
        ip = item.get("ip_address") if isinstance(item, Mapping) else None
        canonical = canonical_network(ip) if isinstance(ip, str) else None
        if canonical is not None:
            pairs.append((canonical, _mac(item.get("mac_address"))))
    return pairs


def _mac(value: object) -> str | None:
    """A MAC as compared: one spelling for the port's own and its pairs' (case, blanks)."""
    return (value.strip().lower() or None) if isinstance(value, str) else None


def _has(have: list[tuple[str, str | None]], pair: AddressPair, own_mac: str | None) -> bool:
    """A pair without a MAC is the port's own MAC (Neutron fills it in); any MAC when the
    port's cannot be read."""
    if pair.mac_address is None and own_mac is None:
        return any(ip == pair.ip_address for ip, _ in have)
    macs = {pair.mac_address} if pair.mac_address is not None else {None, own_mac}
    return any(ip == pair.ip_address and mac in macs for ip, mac in have)


def _pairs_drift(
    port: Mapping[str, Any],
    profile: NicProfile,
    flavour: Flavour,
    drifted: list[str],
    update: dict[str, Any],
) -> None:
    have = _port_pairs(port)
    own_mac = _mac(port.get("mac_address"))
    all_ips = () if profile.source_dest_check else ALLOW_ALL[flavour]
    missing_all = [AddressPair(ip) for ip in all_ips if not _has(have, AddressPair(ip), own_mac)]
    missing = [p for p in profile.allowed_address_pairs if not _has(have, p, own_mac)]
    if missing_all:
        drifted.append("source_dest_check")
    if missing:
        drifted.append("allowed_address_pairs")
    if missing_all or missing:
        kept = [{"ip_address": ip, **({"mac_address": mac} if mac else {})} for ip, mac in have]
        update["allowed_address_pairs"] = kept + [_pair_body(p) for p in missing_all + missing]


def _ipv6_drift(
    port: Mapping[str, Any],
    profile: NicProfile,
    subnets: Sequence[Subnet],
    drifted: list[str],
    update: dict[str, Any],
) -> None:
    entries = port.get("fixed_ips")
    current = [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []
    v6 = [e for e in current if version(e.get("ip_address")) == 6]
    if profile.ipv6_address is not None:
        if any(same_address(e.get("ip_address"), profile.ipv6_address) for e in v6):
            return
        drifted.append("ipv6_address")
    elif v6:
        return
    else:
        drifted.append("ipv6")
    kept = [_fixed_ip_body(e) for e in current if version(e.get("ip_address")) == 4]
    try:
        update["fixed_ips"] = kept + [_ipv6_entry(profile, subnets)]
    except NoIpv6Subnet:
        return  # reported, not correctable here: the caller's subnets said no IPv6


def _fixed_ip_body(entry: Mapping[str, Any]) -> dict[str, str]:
    body = {"ip_address": str(entry.get("ip_address"))}
    if isinstance(entry.get("subnet_id"), str):
        body["subnet_id"] = entry["subnet_id"]
    return body
