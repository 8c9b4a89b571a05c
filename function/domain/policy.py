"""The tag policy (version 1): the data model, and which NICs a server's tags ask for.

Pure: no file, no YAML. Reading and validating a policy file is
:mod:`function.config.policy_file` (:func:`~function.config.policy_file.load_policy`,
:func:`~function.config.policy_file.parse_policy`), which builds the objects defined here.

Decisions an operator should know (also in ``docs/policy-reference.md``):

- Merging: NICs with the same key (``("net", id)`` or ``("port", id)``) from
  several rules are one NIC. A net NIC without a fixed IP and one with a
  fixed IP on the same network merge into the one with the fixed IP; two
  different fixed IPs on one network are a :class:`PolicyConflict`. A port
  and a net NIC are never merged (which network a port is on is only known
  to the API). NICs merged into one must ask for the same ``security_groups``
  (as a set; none is a choice too): different ones are a :class:`PolicyConflict`.
  So must they ask for the same NIC profile (:mod:`function.domain.profile`; the
  default profile is a choice too).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from function.domain.errors import PolicyConflict
from function.domain.profile import DEFAULT, NicProfile, describe_profile
from function.domain.tags import Tags
from function.domain.text import canonical_uuid

if TYPE_CHECKING:  # ``explain`` (the CLI's) imports them when it runs
    from function.domain.explain import Explanation, RuleVerdict

__all__ = [
    "AttachSpec",
    "Condition",
    "Desired",
    "NicRequest",
    "Policy",
    "PolicyConflict",
    "Rule",
    "evaluate",
    "explain",
    "first_failure",
]


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class Condition:
    """``key: pattern`` or ``key: [pattern, ...]``; holds if ANY tag value matches ANY pattern.

    A pattern is compared with :func:`fnmatch.fnmatchcase`: without ``*``, ``?``
    or ``[`` that is plain, case-sensitive equality; ``"*"`` alone holds for
    any value of a present tag, the empty value included.
    """

    key: str
    patterns: tuple[str, ...]

    def holds(self, tags: Tags) -> bool:
        return any(fnmatchcase(v, p) for v in tags.get(self.key) for p in self.patterns)

    def show(self) -> str:
        if len(self.patterns) == 1:
            return repr(self.patterns[0])
        return "one of [" + ", ".join(map(repr, self.patterns)) + "]"


@dataclass(frozen=True)
class AttachSpec:
    """One ``attach`` entry as written: exactly one target, at most one IP source."""

    net_id: str | None = None
    port_id: str | None = None
    port_id_from_tag: str | None = None
    fixed_ip: str | None = None
    fixed_ip_from_tag: str | None = None
    security_groups: tuple[str, ...] = ()
    """Security group ids for the new port (honoured by the ``huawei-v1`` backend only)."""
    profile: NicProfile = DEFAULT
    """Port settings for a NIC on ``net_id`` (source/destination check, IPv6, pairs, EIP)."""


@dataclass(frozen=True)
class Rule:
    """One rule of the policy file: conditions on tags, and the NICs to attach."""

    name: str
    index: int  # 1-based position in the file
    when: tuple[Condition, ...]
    unless: tuple[Condition, ...]
    attach: tuple[AttachSpec, ...]


@dataclass(frozen=True)
class Policy:
    """The validated policy file: its rules in file order."""

    source: str  # file name for messages
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class NicRequest:
    """One NIC the policy asks for on one server (resolved: *_from_tag already substituted)."""

    net_id: str | None
    port_id: str | None
    fixed_ip: str | None
    rules: tuple[str, ...]  # names of the rules that asked for it, policy order
    security_groups: tuple[str, ...] = ()
    profile: NicProfile = DEFAULT

    @property
    def key(self) -> tuple[str, str]:
        """Identity used for merging: ``("port", port_id)`` or ``("net", net_id)``."""
        if self.port_id is not None:
            return ("port", self.port_id)
        return ("net", self.net_id or "")


@dataclass(frozen=True)
class Desired:
    """What the policy wants for one server's tags: the matching rules and their NICs."""

    rules: tuple[str, ...]  # matching rule names, policy order
    nics: tuple[NicRequest, ...]  # merged, in first-appearance order


# ---------------------------------------------------------------- evaluation


def evaluate(policy: Policy, tags: Tags) -> Desired:
    """The NICs ``tags`` ask for. Raises ``PolicyConflict`` (naming rules and tag) instead of
    returning a partial answer when the matching rules cannot all be satisfied."""
    matched = [rule for rule in policy.rules if first_failure(rule, tags) is None]
    nics, problems = _merge(matched, tags)
    if problems:
        raise PolicyConflict("policy conflict for this server: " + "; ".join(problems))
    return Desired(tuple(rule.name for rule in matched), nics)


def explain(policy: Policy, tags: Tags) -> Explanation:
    """Per rule: matched or not and the first failed condition; then the NICs or the conflict."""
    from function.domain.explain import Explanation

    verdicts = tuple(_verdict(rule, tags) for rule in policy.rules)
    try:
        nics, conflict = evaluate(policy, tags).nics, None
    except PolicyConflict as exc:
        nics, conflict = (), exc.message
    return Explanation(policy.source, tuple(tags.as_strings()), verdicts, nics, conflict)


def first_failure(rule: Rule, tags: Tags) -> str | None:
    """Why ``rule`` does not match ``tags`` (the first failing condition), or None if it does."""
    for cond in rule.when:
        if cond.key not in tags:
            return f"when {cond.key}: tag missing (wanted {cond.show()})"
        if not cond.holds(tags):
            values = ", ".join(map(repr, sorted(tags.get(cond.key))))
            return f"when {cond.key}: {values} does not match {cond.show()}"
    for cond in rule.unless:
        if cond.holds(tags):
            values = ", ".join(map(repr, sorted(tags.get(cond.key))))
            return f"unless {cond.key}: {values} matches {cond.show()}"
    return None


def _verdict(rule: Rule, tags: Tags) -> RuleVerdict:
    from function.domain.explain import RuleVerdict

    failed = first_failure(rule, tags)
    return RuleVerdict(rule.name, rule.index, failed is None, failed)


def _merge(rules: list[Rule], tags: Tags) -> tuple[tuple[NicRequest, ...], list[str]]:
    problems: list[str] = []
    merged: dict[tuple[str, str], NicRequest] = {}
    asked_ips: dict[tuple[str, str], dict[str, list[str]]] = {}
    for rule in rules:
        for index, spec in enumerate(rule.attach):
            nic = _resolve(spec, rule, index, tags, problems)
            if nic is None:
                continue
            if nic.fixed_ip is not None:
                asked_ips.setdefault(nic.key, {}).setdefault(nic.fixed_ip, []).append(rule.name)
            old = merged.get(nic.key)
            if old is not None and set(old.security_groups) != set(nic.security_groups):
                problems.append(_groups_clash(old, nic))
            if old is not None and old.profile != nic.profile:
                problems.append(_profile_clash(old, nic))
            merged[nic.key] = nic if old is None else _combine(old, nic)
    problems += [_ip_clash(key[1], ips) for key, ips in asked_ips.items() if len(ips) > 1]
    return tuple(merged.values()), problems


def _combine(old: NicRequest, new: NicRequest) -> NicRequest:
    rules = old.rules + tuple(name for name in new.rules if name not in old.rules)
    fixed_ip = old.fixed_ip if old.fixed_ip is not None else new.fixed_ip
    return NicRequest(old.net_id, old.port_id, fixed_ip, rules, old.security_groups, old.profile)


def _groups_clash(old: NicRequest, new: NicRequest) -> str:
    def show(nic: NicRequest) -> str:
        groups = ", ".join(sorted(nic.security_groups)) or "none"
        return f"[{groups}] by rule {', '.join(map(repr, nic.rules))}"

    kind, ident = old.key
    return f"{kind} {ident}: different security groups requested: {show(old)}; {show(new)}"


def _profile_clash(old: NicRequest, new: NicRequest) -> str:
    def show(nic: NicRequest) -> str:
        shown = describe_profile(nic.profile) or "default"
        return f"[{shown}] by rule {', '.join(map(repr, nic.rules))}"

    kind, ident = old.key
    return f"{kind} {ident}: different NIC profiles requested: {show(old)}; {show(new)}"


def _ip_clash(net_id: str, ips: dict[str, list[str]]) -> str:
    asks = ", ".join(
        f"{ip} by rule {', '.join(map(repr, dict.fromkeys(ips[ip])))}" for ip in sorted(ips)
    )
    return f"network {net_id}: different fixed IPs requested: {asks}"


def _resolve(
    spec: AttachSpec, rule: Rule, index: int, tags: Tags, problems: list[str]
) -> NicRequest | None:
    where = f"rule {rule.name!r} attach[{index}]"
    port_id, net_id, fixed_ip = spec.port_id, spec.net_id, spec.fixed_ip
    if spec.port_id_from_tag is not None:
        port_id = _from_tag(spec.port_id_from_tag, "port_id", tags, where, problems)
    if spec.fixed_ip_from_tag is not None:
        fixed_ip = _from_tag(spec.fixed_ip_from_tag, "fixed_ip", tags, where, problems)
        if fixed_ip is None:
            return None
    if port_id is None and net_id is None:
        return None
    return NicRequest(net_id, port_id, fixed_ip, (rule.name,), spec.security_groups, spec.profile)


def _from_tag(tag: str, field: str, tags: Tags, where: str, problems: list[str]) -> str | None:
    values = tags.get(tag)
    check, what = (canonical_uuid, "a UUID") if field == "port_id" else (parse_ip, "an IP address")
    label = f"{where}.{field}_from_tag: tag {tag!r}"
    if not values:
        problems.append(f"{label} is missing on this server")
        return None
    if len(values) > 1:
        problems.append(f"{label} has several values {sorted(values)}; expected one")
        return None
    value = next(iter(values))
    result = check(value)
    if result is None:
        problems.append(f"{label} value {value!r} is not {what}")
    return result


def parse_ip(text: str) -> str | None:
    """A plain IPv4 or IPv6 address; no IPv6 zone (``%eth0``), which no API takes."""
    if "%" in text:
        return None
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None
