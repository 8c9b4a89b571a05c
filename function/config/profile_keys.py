"""The NIC profile keys of an ``attach`` entry: validated into a
:class:`~function.domain.profile.NicProfile`, with the loader's one-line messages.

Decisions an operator should know (also in ``docs/policy-reference.md``):

- ``source_dest_check`` and ``ipv6`` take a real boolean (unquoted ``false`` /
  ``true``); ``source_dest_check: true`` is the cloud's default and asks for nothing.
- An address pair is a plain address or a network in CIDR form with no host bits
  (``10.0.0.0/24``, not ``10.0.0.5/24``). ``0.0.0.0``, ``0.0.0.0/0``, ``::/0`` and
  Huawei's ``1.1.1.1/0`` are refused: "allow every source" is ``source_dest_check:
  false``, which picks the right form for each cloud (Huawei's VPC refuses ``0.0.0.0``).
  A pair that overlaps the multicast range (``224.0.0.0/4``, ``ff00::/8``) is refused
  too, as Neutron does (400 ``overlaps with multicast range``).
- At most :data:`MAX_PAIRS` pairs: Neutron's default ``max_allowed_address_pair``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

from function.config.values import got, scalar
from function.domain.policy import Policy, parse_ip
from function.domain.profile import (
    DEFAULT,
    AddressPair,
    NicProfile,
    ProfileSupport,
    PublicIp,
    unique_pairs,
)
from function.domain.text import canonical_uuid

__all__ = ["MAX_PAIRS", "PROFILE_KEYS", "parse_profile", "profile_refusals"]

PROFILE_KEYS = (
    "source_dest_check",
    "ipv6",
    "ipv6_address",
    "ipv6_bandwidth",
    "allowed_address_pairs",
    "public_ip",
)
PUBLIC_IP_KEYS = ("address", "pool_tag")
PAIR_KEYS = ("ip_address", "mac_address")
MAX_PAIRS = 10
_MAC = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")
_ALLOW_ALL = ("0.0.0.0", "0.0.0.0/0", "::/0", "::", "1.1.1.1/0")

Report = Callable[[str], None]


def parse_profile(raw: Mapping[Any, Any], field: str, report: Report) -> NicProfile:
    """The profile an entry asks for (the default if it names no profile key); every
    mistake goes to ``report`` as ``attach[i].key: message``."""
    used = [key for key in PROFILE_KEYS if key in raw]
    if not used:
        return DEFAULT
    if "net_id" not in raw:
        for key in used:
            report(f"{field}.{key}: only allowed with net_id (the port is not the function's)")
    check = _flag(raw, "source_dest_check", field, report, default=True)
    ipv6 = _flag(raw, "ipv6", field, report, default=False)
    address = _ipv6_address(raw, field, report) if "ipv6_address" in raw else None
    bandwidth = _bandwidth(raw, field, report) if "ipv6_bandwidth" in raw else None
    for key in ("ipv6_address", "ipv6_bandwidth"):
        if key in raw and not ipv6:
            report(f"{field}.{key}: needs ipv6: true on the same entry")
    pairs = _pairs(raw.get("allowed_address_pairs", ()), field, report)
    public = (
        _public_ip(raw["public_ip"], f"{field}.public_ip", report) if "public_ip" in raw else None
    )
    return NicProfile(check, ipv6, address, bandwidth, pairs, public)


def profile_refusals(policy: Policy, backend: str, support: ProfileSupport) -> list[str]:
    """One line per rule and profile key that ``backend`` cannot apply (start-up refusal)."""
    return [
        f"{policy.source}: rule {rule.name!r} attach[{index}].{key}: the {backend} backend "
        f"cannot apply {key}{support.reason(key)}"
        for rule in policy.rules
        for index, spec in enumerate(rule.attach)
        for key in support.refuses(spec.profile)
    ]


def _flag(raw: Mapping[Any, Any], key: str, field: str, report: Report, *, default: bool) -> bool:
    if key not in raw:
        return default
    value = scalar(raw[key])
    if type(value) is not bool:
        report(f"{field}.{key}: must be true or false (unquoted), {got(raw[key])}")
        return default
    return value


def _ipv6_address(raw: Mapping[Any, Any], field: str, report: Report) -> str | None:
    value = raw["ipv6_address"]
    parsed = parse_ip(value) if isinstance(value, str) else None
    if parsed is None or ipaddress.ip_address(parsed).version != 6:
        report(f"{field}.ipv6_address: not an IPv6 address, {got(value)}")
        return None
    return parsed


def _bandwidth(raw: Mapping[Any, Any], field: str, report: Report) -> str | None:
    value = raw["ipv6_bandwidth"]
    parsed = canonical_uuid(value) if isinstance(value, str) else None
    if parsed is None:
        report(f"{field}.ipv6_bandwidth: not a bandwidth id (a UUID), {got(value)}")
    return parsed


def _pairs(items: object, field: str, report: Report) -> tuple[AddressPair, ...]:
    label = f"{field}.allowed_address_pairs"
    if items == ():
        return ()
    if not isinstance(items, list) or not items:
        report(f"{label}: must be a non-empty list of addresses or CIDRs, {got(items)}")
        return ()
    if len(items) > MAX_PAIRS:
        report(f"{label}: {len(items)} pairs; at most {MAX_PAIRS} (Neutron's default limit)")
    pairs = [_pair(item, f"{label}[{index}]", report) for index, item in enumerate(items)]
    return unique_pairs(pair for pair in pairs if pair is not None)


def _pair(item: object, label: str, report: Report) -> AddressPair | None:
    mac: str | None = None
    if isinstance(item, Mapping):
        unknown = [str(key) for key in item if key not in PAIR_KEYS]
        if unknown:
            report(f"{label}: unknown key {unknown[0]!r} (allowed: {', '.join(PAIR_KEYS)})")
            return None
        if "mac_address" in item:
            mac = _mac(item["mac_address"], f"{label}.mac_address", report)
            if mac is None:
                return None
        item, label = item.get("ip_address"), f"{label}.ip_address"
    ip = _ip_or_cidr(item, label, report)
    return None if ip is None else AddressPair(ip, mac)


def _ip_or_cidr(value: object, label: str, report: Report) -> str | None:
    if not isinstance(value, str) or not value.strip():
        report(f"{label}: must be an IP address or a CIDR, {got(value)}")
        return None
    text = value.strip()
    if text in _ALLOW_ALL:
        report(f"{label}: {text!r} allows every source: write source_dest_check: false instead")
        return None
    if "/" not in text:
        parsed = parse_ip(text)
        if parsed is None:
            report(f"{label}: not an IP address or a CIDR: {value!r}")
        return _not_multicast(parsed, label, report)
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        report(f"{label}: not a CIDR with its host bits zero (like 10.0.0.0/24): {value!r}")
        return None
    shown = (
        str(network) if network.prefixlen != network.max_prefixlen else str(network.network_address)
    )
    return _not_multicast(shown, label, report)


def _not_multicast(ip: str | None, label: str, report: Report) -> str | None:
    """Neutron refuses a pair that overlaps the multicast range (a source is never one)."""
    if ip is None:
        return None
    network = ipaddress.ip_network(ip, strict=False)
    multicast = ipaddress.ip_network("224.0.0.0/4" if network.version == 4 else "ff00::/8")
    if network.overlaps(multicast):
        report(f"{label}: {ip!r} overlaps the multicast range {multicast} (never a source)")
        return None
    return ip


def _mac(value: object, label: str, report: Report) -> str | None:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _MAC.match(text) or text == "00:00:00:00:00:00":
        report(f"{label}: not a MAC address like fa:16:3e:00:00:01, {got(value)}")
        return None
    return text.replace("-", ":")


def _public_ip(raw: object, label: str, report: Report) -> PublicIp | None:
    if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in PUBLIC_IP_KEYS:
        report(f"{label}: must be {{address: <ip>}} or {{pool_tag: key=value}}, {_show_map(raw)}")
        return None
    key, value = next(iter(raw.items()))
    if key == "address":
        parsed = parse_ip(value) if isinstance(value, str) else None
        if parsed is None or ipaddress.ip_address(parsed).version != 4:
            report(f"{label}.address: not an IPv4 address, {got(value)}")
            return None
        return PublicIp(address=parsed)
    if not isinstance(value, str) or "=" not in value or not value.split("=", 1)[0].strip():
        report(f"{label}.pool_tag: must be key=value (like nicattach-pool=web), {got(value)}")
        return None
    tag_key, tag_value = value.split("=", 1)
    return PublicIp(pool_tag=(tag_key.strip(), tag_value.strip()))


def _show_map(raw: object) -> str:
    if isinstance(raw, Mapping):
        return "got keys " + (", ".join(map(str, raw)) or "none")
    return got(raw)
