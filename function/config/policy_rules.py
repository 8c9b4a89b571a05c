"""The policy document's rules, checked field by field (``policy_file`` reads the file).

Every mistake is collected in ``Problems`` (``file: where: message``), so that a
``PolicyError`` lists them all; ``parse`` returns the ``Policy`` only when there is none.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from function.config.profile_keys import PROFILE_KEYS, parse_profile
from function.config.values import MISSING as _MISSING
from function.config.values import YamlScalar
from function.config.values import got as _got
from function.config.values import show as _show
from function.config.values import show_key as _show_key
from function.domain.errors import PolicyError
from function.domain.policy import AttachSpec, Condition, Policy, Rule, parse_ip
from function.domain.text import canonical_uuid

SUPPORTED_VERSION = 1
TOP_KEYS = ("version", "rules")
RULE_KEYS = ("name", "when", "unless", "attach")
TARGET_KEYS = ("net_id", "port_id", "port_id_from_tag")
IP_KEYS = ("fixed_ip", "fixed_ip_from_tag")
GROUPS_KEY = "security_groups"  # list of security group UUIDs (the huawei-v1 backend only)


# ---------------------------------------------------------------- reading the file


class Problems:
    """Collects every mistake as ``file: where: message``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[str] = []

    def add(self, where: str, message: str) -> None:
        prefix = f"{self.source}: {where}: " if where else f"{self.source}: "
        self.messages.append(prefix + message)

    def extend(self, messages: Iterator[str]) -> None:
        self.messages += [f"{self.source}: {message}" for message in messages]


def parse(document: object, problems: Problems) -> Policy:
    rules = _parse_document(document, problems)
    if problems.messages:
        raise PolicyError(problems.messages)
    return Policy(problems.source, rules)


def _parse_document(document: object, problems: Problems) -> tuple[Rule, ...]:
    if not isinstance(document, Mapping):
        problems.add(
            "", f"the policy must be a mapping with 'version' and 'rules', {_got(document)}"
        )
        return ()
    _unknown_keys(document, TOP_KEYS, "", problems)
    _check_version(document.get("version", _MISSING), problems)
    raw_rules = document.get("rules", _MISSING)
    if raw_rules is _MISSING:
        problems.add("rules", "missing (a list of rules)")
    elif not isinstance(raw_rules, list):
        problems.add("rules", f"must be a list of rules, {_got(raw_rules)}")
    elif not raw_rules:
        problems.add("rules", "empty: a policy without rules would never attach anything")
    else:
        rules = [_parse_rule(raw, index, problems) for index, raw in enumerate(raw_rules, 1)]
        _check_unique_names(raw_rules, problems)
        return tuple(rule for rule in rules if rule is not None)
    return ()


def _check_version(raw: object, problems: Problems) -> None:
    value = raw.value if isinstance(raw, YamlScalar) else raw
    if raw is _MISSING:
        problems.add("version", f"missing: add 'version: {SUPPORTED_VERSION}'")
    elif type(value) is not int:
        shown = raw.text if isinstance(raw, YamlScalar) else repr(raw)
        problems.add("version", f"must be the number {SUPPORTED_VERSION}, not {shown}")
    elif value != SUPPORTED_VERSION:
        problems.add("version", f"unsupported version {value} (supported: {SUPPORTED_VERSION})")


def _check_unique_names(raw_rules: list[Any], problems: Problems) -> None:
    first: dict[str, int] = {}
    for index, raw in enumerate(raw_rules, 1):
        name = raw.get("name") if isinstance(raw, Mapping) else None
        if not isinstance(name, str) or not name.strip():
            continue
        name = name.strip()
        if name in first:
            where = f"rule {name!r} (#{index})"
            problems.add(where, f"name: duplicate rule name, also used by rule #{first[name]}")
        first.setdefault(name, index)


def _parse_rule(raw: object, index: int, problems: Problems) -> Rule | None:
    where = f"rule #{index}"
    if not isinstance(raw, Mapping):
        problems.add(where, f"a rule must be a mapping with name, when and attach, {_got(raw)}")
        return None
    name = _parse_name(raw.get("name", _MISSING), where, problems)
    if name is not None:
        where = f"rule {name!r} (#{index})"
    _unknown_keys(raw, RULE_KEYS, where, problems)
    when = _parse_conditions(raw.get("when", _MISSING), "when", where, problems)
    unless = _parse_conditions(raw.get("unless", {}), "unless", where, problems)
    attach = _parse_attach(raw.get("attach", _MISSING), where, problems)
    if name is None or when is None or unless is None or attach is None:
        return None
    return Rule(name, index, when, unless, attach)


def _parse_name(raw: object, where: str, problems: Problems) -> str | None:
    if raw is _MISSING:
        problems.add(where, "name: missing (every rule needs a unique name)")
    elif not isinstance(raw, str):
        problems.add(where, f"name: must be a string, {_got(raw)}")
    elif not raw.strip():
        problems.add(where, "name: must not be empty")
    else:
        return raw.strip()
    return None


def _parse_conditions(
    raw: object, field: str, where: str, problems: Problems
) -> tuple[Condition, ...] | None:
    if raw is _MISSING:
        problems.add(where, f"{field}: missing (write 'when: {{}}' to match every server)")
        return None
    if not isinstance(raw, Mapping):
        problems.add(where, f"{field}: must be a mapping of tag conditions, {_got(raw)}")
        return None
    conditions = [
        _parse_condition(k, v, f"{field}.{_show_key(k)}", where, problems) for k, v in raw.items()
    ]
    if any(cond is None for cond in conditions):
        return None
    return tuple(cond for cond in conditions if cond is not None)


def _parse_condition(
    key: object, raw: object, field: str, where: str, problems: Problems
) -> Condition | None:
    if not isinstance(key, str) or not key.strip():
        problems.add(where, f"{field}: a tag key must be a non-empty string, {_got(key)}")
        return None
    values = raw if isinstance(raw, list) else [raw]
    if not values:
        problems.add(where, f"{field}: empty list matches nothing; use '*' for 'tag present'")
        return None
    patterns = tuple(value for value in values if isinstance(value, str))
    for value in values:
        if not isinstance(value, str):
            problems.add(where, f"{field}: a tag value must be a string, {_got(value)}")
    return Condition(key.strip(), patterns) if len(patterns) == len(values) else None


def _parse_attach(raw: object, where: str, problems: Problems) -> tuple[AttachSpec, ...] | None:
    if raw is _MISSING:
        problems.add(where, "attach: missing (a list of NICs)")
        return None
    if not isinstance(raw, list):
        problems.add(where, f"attach: must be a list of NICs, {_got(raw)}")
        return None
    if not raw:
        problems.add(where, "attach: empty: a rule must attach at least one NIC")
        return None
    specs = [_parse_entry(item, f"attach[{i}]", where, problems) for i, item in enumerate(raw)]
    if any(spec is None for spec in specs):
        return None
    checked = tuple(spec for spec in specs if spec is not None)
    _check_literal_ips(checked, where, problems)
    return checked


def _parse_entry(raw: object, field: str, where: str, problems: Problems) -> AttachSpec | None:
    if not isinstance(raw, Mapping):
        problems.add(where, f"{field}: must be a mapping like {{net_id: <uuid>}}, {_got(raw)}")
        return None
    before = len(problems.messages)
    allowed = (*TARGET_KEYS, *IP_KEYS, GROUPS_KEY, *PROFILE_KEYS)
    _unknown_keys(raw, allowed, where, problems, prefix=f"{field}.")
    _check_shape(raw, field, where, problems)
    values = {
        key: _parse_entry_value(key, raw[key], f"{field}.{key}", where, problems)
        for key in TARGET_KEYS + IP_KEYS
        if key in raw
    }
    groups = _parse_groups(raw, field, where, problems) if GROUPS_KEY in raw else ()
    profile = parse_profile(raw, field, lambda message: problems.add(where, message))
    if len(problems.messages) > before:
        return None
    return AttachSpec(**values, security_groups=groups, profile=profile)


def _parse_groups(
    raw: Mapping[Any, Any], field: str, where: str, problems: Problems
) -> tuple[str, ...]:
    """A non-empty list of security group UUIDs, for a NIC made on a network."""
    items, label = raw[GROUPS_KEY], f"{field}.{GROUPS_KEY}"
    if not isinstance(items, list) or not items:
        problems.add(where, f"{label}: must be a non-empty list of UUIDs, {_got(items)}")
        return ()
    if "net_id" not in raw:
        problems.add(where, f"{label}: only allowed with net_id (a port brings its own groups)")
    groups = []
    for index, item in enumerate(items):
        parsed = canonical_uuid(item) if isinstance(item, str) else None
        if parsed is None:
            problems.add(where, f"{label}[{index}]: not a UUID, {_got(item)}")
        groups.append(parsed or "")
    return tuple(dict.fromkeys(groups))


def _check_shape(raw: Mapping[Any, Any], field: str, where: str, problems: Problems) -> None:
    targets = [key for key in TARGET_KEYS if key in raw]
    ips = [key for key in IP_KEYS if key in raw]
    if len(targets) != 1:
        found = " and ".join(targets) or "none"
        problems.add(where, f"{field}: needs exactly one of {', '.join(TARGET_KEYS)} (got {found})")
    if len(ips) > 1:
        problems.add(where, f"{field}: fixed_ip and fixed_ip_from_tag together: one IP per NIC")
    if ips and targets and targets[0] != "net_id":
        problems.add(
            where,
            f"{field}.{ips[0]}: only allowed with net_id, not beside {targets[0]}"
            " (a port brings its own IPs)",
        )


def _parse_entry_value(
    key: str, raw: object, field: str, where: str, problems: Problems
) -> str | None:
    if key == "fixed_ip" and isinstance(raw, list):
        many = "more than one fixed IP" if len(raw) > 1 else "a list"
        problems.add(where, f"{field}: {many} ({_show(raw)}); the API takes at most one IP per NIC")
        return None
    if not isinstance(raw, str) or not raw.strip():
        problems.add(where, f"{field}: must be a non-empty string, {_got(raw)}")
        return None
    if key.endswith("_from_tag"):
        return raw.strip()
    parsed, what = (
        (parse_ip(raw), "an IP address") if key == "fixed_ip" else (canonical_uuid(raw), "a UUID")
    )
    if parsed is None:
        problems.add(where, f"{field}: not {what}: {raw!r}")
    return parsed


def _check_literal_ips(specs: tuple[AttachSpec, ...], where: str, problems: Problems) -> None:
    ips: dict[str, set[str]] = {}
    for spec in specs:
        if spec.net_id is not None and spec.fixed_ip is not None:
            ips.setdefault(spec.net_id, set()).add(spec.fixed_ip)
    for net_id, found in ips.items():
        if len(found) > 1:
            problems.add(
                where, f"attach: different fixed IPs {sorted(found)} for one network {net_id}"
            )


def _unknown_keys(
    raw: Mapping[Any, Any],
    allowed: tuple[str, ...],
    where: str,
    problems: Problems,
    prefix: str = "",
) -> None:
    for key in raw:
        if key not in allowed:
            field = prefix + _show_key(key)
            hint = _did_you_mean(key, allowed)
            problems.add(where, f"{field}: unknown key{hint} (allowed: {', '.join(allowed)})")


def _did_you_mean(key: object, allowed: tuple[str, ...]) -> str:
    """`` (did you mean when?)`` for a misspelt key (``wehn``, ``net-id``), or ``""``."""
    if key == "fixed_ips":
        return " (did you mean fixed_ip? one IP per NIC)"
    if not isinstance(key, str):
        return ""
    by_folded = {name.lower(): name for name in allowed}
    folded = key.strip().lower().replace("-", "_")
    close = difflib.get_close_matches(folded, list(by_folded), n=1, cutoff=0.75)
    close = close or sorted((n for n in by_folded if folded.startswith(n)), key=len)[-1:]
    return f" (did you mean {by_folded[close[0]]}?)" if close else ""
