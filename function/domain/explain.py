"""What the policy would do for a set of tags, and why: the data behind ``nic-autoattach explain``.

:func:`function.domain.policy.explain` builds an :class:`Explanation`; this module
only holds it and renders it, so that the policy module stays about the
language itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from function.domain.profile import describe_profile

if TYPE_CHECKING:
    from function.domain.policy import NicRequest

__all__ = ["Explanation", "RuleVerdict", "describe_nic"]


@dataclass(frozen=True)
class RuleVerdict:
    """One rule against one server's tags."""

    name: str
    index: int  # 1-based, as in validation messages
    matched: bool
    failed: str | None = None  # the first condition that failed, when not matched


@dataclass(frozen=True)
class Explanation:
    """Which rules match, which do not and why, and the NICs that would be requested."""

    source: str
    tags: tuple[str, ...]
    verdicts: tuple[RuleVerdict, ...]
    nics: tuple[NicRequest, ...] = ()
    conflict: str | None = None

    @property
    def matched(self) -> tuple[str, ...]:
        """Names of the matching rules, policy order."""
        return tuple(verdict.name for verdict in self.verdicts if verdict.matched)

    def render(self) -> str:
        """Human-readable lines, for a terminal."""
        lines = [f"policy: {self.source}", f"tags: {' '.join(self.tags) or '(none)'}"]
        lines += [_render_verdict(verdict) for verdict in self.verdicts]
        if self.conflict is not None:
            lines.append(f"conflict: {self.conflict}")
            lines.append("nothing would be attached to this server")
        elif self.nics:
            lines.append("would request:")
            lines += [f"  {describe_nic(nic)}" for nic in self.nics]
        else:
            lines.append("would request: nothing (no rule matches)")
        return "\n".join(lines)


def describe_nic(nic: NicRequest) -> str:
    """``net <id> fixed_ip <ip> [ipv6 auto] (rules: a, b)`` or ``port <id> (rules: a)``."""
    if nic.port_id is not None:
        target = f"port {nic.port_id}"
    else:
        target = f"net {nic.net_id}"
    if nic.fixed_ip is not None:
        target += f" fixed_ip {nic.fixed_ip}"
    profile = describe_profile(nic.profile)
    if profile:
        target += f" [{profile}]"
    return f"{target} (rules: {', '.join(nic.rules)})"


def _render_verdict(verdict: RuleVerdict) -> str:
    label = f"{verdict.name!r} (#{verdict.index})"
    if verdict.matched:
        return f"  match     {label}"
    return f"  no match  {label}: {verdict.failed}"
