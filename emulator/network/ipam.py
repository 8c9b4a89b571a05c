"""Address management for the fake networks: CIDRs, fixed IPs and MAC addresses.

Mirrors what Neutron does for a Nova attach: the first host address is the
gateway, new ports get the lowest free address above it, MACs use OpenStack's
``fa:16:3e`` prefix.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator

from emulator.core.errors import BadRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAC_PREFIX = "fa:16:3e"


def parse_cidr(cidr: object) -> IPNetwork:
    """The network of ``cidr`` ("10.20.0.0/24"); BadRequest when it is not one."""
    if not isinstance(cidr, str):
        raise BadRequest(f"Invalid CIDR {cidr!r}: a string like '10.20.0.0/24' is required.")
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError as exc:
        raise BadRequest(f"Invalid CIDR {cidr!r}: {exc}") from exc
    if network.num_addresses < 4:
        raise BadRequest(f"Invalid CIDR {cidr!r}: the network is too small.")
    return network


def parse_ip(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def gateway_ip(network: IPNetwork) -> str:
    """Neutron's default gateway: the first host address (IPv4); IPv6, the subnet-router
    anycast address (the network's own, ``2001:db8::``)."""
    if network.version == 6:
        return str(network.network_address)
    return str(network.network_address + 1)


def allocation_pool(network: IPNetwork) -> dict[str, str]:
    """Neutron's default pool: after the gateway up to the broadcast address (IPv4); IPv6,
    which has no broadcast, from ``::1`` to the last address."""
    if network.version == 6:
        return {"start": str(network.network_address + 1), "end": str(network.broadcast_address)}
    return {"start": str(network.network_address + 2), "end": str(network.broadcast_address - 1)}


def is_host_address(network: IPNetwork, ip: str) -> bool:
    """True when ``ip`` can be a port's address on ``network``."""
    address = parse_ip(ip)
    if address is None or address.version != network.version or address not in network:
        return False
    if network.version == 6:  # no broadcast address; the network's own is the gateway's
        return address != network.network_address
    return address not in (network.network_address, network.broadcast_address)


def _hosts(network: IPNetwork) -> Iterator[IPAddress]:
    base = network.network_address
    for offset in range(1, network.num_addresses - 1):
        yield base + offset


def first_free_ip(network: IPNetwork, used: set[str]) -> str | None:
    """The lowest host address after the gateway that is not in ``used``."""
    gateway = gateway_ip(network)
    for address in _hosts(network):
        text = str(address)
        if text != gateway and text not in used:
            return text
    return None


def random_mac(rng: random.Random, used: set[str]) -> str:
    """A MAC address with the OpenStack prefix that is not in ``used``."""
    while True:
        suffix = ":".join(f"{rng.randrange(256):02x}" for _ in range(3))
        mac = f"{MAC_PREFIX}:{suffix}"
        if mac not in used:
            return mac
