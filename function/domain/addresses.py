"""IP addresses as the APIs write them and as the policy means them (pure).

An API may spell an address or a network differently from the policy (upper-case
IPv6, a host route as ``/32``, host bits in a CIDR): these compare and print them in
one canonical form.
"""

from __future__ import annotations

import ipaddress


def contains(cidr: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return address in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def canonical_network(text: str) -> str | None:
    text = text.strip()
    if text == "1.1.1.1/0":
        return text  # Huawei's marker keeps its host bits
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def version(text: object) -> int | None:
    try:
        return ipaddress.ip_address(text.strip()).version if isinstance(text, str) else None
    except ValueError:
        return None


def same_address(text: object, address: str) -> bool:
    if not isinstance(text, str) or version(text) is None:
        return False
    return ipaddress.ip_address(text.strip()) == ipaddress.ip_address(address)
