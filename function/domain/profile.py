"""A NIC's profile: what the port the function makes for a network request must look like.

Pure values, parsed from an ``attach`` entry by :mod:`function.config.profile_keys` and
carried on :class:`~function.domain.policy.NicRequest`. The wire fields a profile turns
into, per network flavour, and the drift check are :mod:`function.domain.port_profile`.

Decisions an operator should know (also in ``docs/policy-reference.md``):

- The default profile (check on, no IPv6, no pairs, no public IP) is a profile too:
  NICs merged into one must ask for the same profile, as for security groups; a
  difference is a policy conflict naming both rules.
- A profile is only for a NIC the function makes on a network (``net_id``): a
  ``port_id`` entry names a port that is not the function's to reshape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "AddressPair",
    "NicProfile",
    "ProfileSupport",
    "PublicIp",
    "describe_profile",
    "unique_pairs",
]


@dataclass(frozen=True)
class AddressPair:
    """An address (or CIDR) the port may also send from, optionally with its own MAC."""

    ip_address: str
    """Canonical: ``10.0.0.5`` for one address, ``10.0.0.0/24`` for a network."""
    mac_address: str | None = None
    """Lower-case, colon-separated; ``None``: the port's own MAC."""

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.ip_address, self.mac_address or "")

    def show(self) -> str:
        return (
            self.ip_address if self.mac_address is None else f"{self.ip_address}@{self.mac_address}"
        )


@dataclass(frozen=True)
class PublicIp:
    """One of: a given elastic/floating IP, or one taken from the pool its tag names."""

    address: str | None = None
    pool_tag: tuple[str, str] | None = None
    """``("nicattach-pool", "web")`` for ``pool_tag: nicattach-pool=web``."""

    def show(self) -> str:
        if self.pool_tag is not None:
            return f"pool {self.pool_tag[0]}={self.pool_tag[1]}"
        return f"address {self.address}"


@dataclass(frozen=True)
class NicProfile:
    """The port-level settings of one requested NIC; the default asks for nothing."""

    source_dest_check: bool = True
    ipv6: bool = False
    ipv6_address: str | None = None
    """A literal IPv6 address (only with ``ipv6``); ``None``: the cloud picks one."""
    ipv6_bandwidth: str | None = None
    """Huawei: the shared bandwidth id that gives the IPv6 address internet access."""
    allowed_address_pairs: tuple[AddressPair, ...] = ()
    """Sorted and without duplicates, so that equal profiles compare equal."""
    public_ip: PublicIp | None = None

    @property
    def is_default(self) -> bool:
        return self == DEFAULT

    @property
    def keys(self) -> tuple[str, ...]:
        """The policy keys this profile sets, in the reference's order (for messages)."""
        return tuple(key for key, used in self._used() if used)

    def _used(self) -> tuple[tuple[str, bool], ...]:
        return (
            ("source_dest_check", not self.source_dest_check),
            ("ipv6", self.ipv6),
            ("ipv6_address", self.ipv6_address is not None),
            ("ipv6_bandwidth", self.ipv6_bandwidth is not None),
            ("allowed_address_pairs", bool(self.allowed_address_pairs)),
            ("public_ip", self.public_ip is not None),
        )


DEFAULT = NicProfile()


@dataclass(frozen=True)
class ProfileSupport:
    """Which profile keys a backend (with its network API) can apply; the rest are refused
    at start-up, one line per rule and field, never silently left out."""

    source_dest_check: bool = False
    ipv6: bool = False
    ipv6_address: bool = False
    ipv6_bandwidth: bool = False
    allowed_address_pairs: bool = False
    public_ip: bool = False
    why: tuple[tuple[str, str], ...] = ()
    """(key, reason) for a refused key whose reason is worth a line of its own."""

    def refuses(self, profile: NicProfile) -> tuple[str, ...]:
        """The keys ``profile`` sets that this backend cannot apply."""
        return tuple(key for key in profile.keys if not getattr(self, key))

    def reason(self, key: str) -> str:
        """`` (why)`` for a refused ``key``, when the backend says why; else ``""``."""
        return next((f" ({why})" for name, why in self.why if name == key), "")


def unique_pairs(pairs: Iterable[AddressPair]) -> tuple[AddressPair, ...]:
    """Sorted, without duplicates: the form a profile keeps, so equal asks compare equal."""
    return tuple(sorted(set(pairs), key=lambda pair: pair.sort_key))


def describe_profile(profile: NicProfile) -> str:
    """`` source_dest_check off, ipv6 2001:db8::5, pairs [10.0.0.9], public_ip pool k=v``
    (empty for the default profile), for ``explain`` and logs."""
    parts = []
    if not profile.source_dest_check:
        parts.append("source_dest_check off")
    if profile.ipv6:
        parts.append("ipv6 " + (profile.ipv6_address or "auto"))
    if profile.ipv6_bandwidth is not None:
        parts.append(f"ipv6_bandwidth {profile.ipv6_bandwidth}")
    if profile.allowed_address_pairs:
        pairs = ", ".join(pair.show() for pair in profile.allowed_address_pairs)
        parts.append(f"pairs [{pairs}]")
    if profile.public_ip is not None:
        parts.append(f"public_ip {profile.public_ip.show()}")
    return ", ".join(parts)
