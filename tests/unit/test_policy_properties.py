"""Properties of evaluation: deterministic, independent of rule order, never invents a NIC."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from function.config.policy_file import parse_policy
from function.domain.errors import PolicyConflict, PolicyError
from function.domain.policy import Desired, Policy, evaluate
from function.domain.tags import Tags, parse_tags

NETS = ["3cb9bc59-5699-4588-a4b1-b87f96708bc6", "0dc714fa-9022-4a03-bb22-9821a396bb9d"]
PORTS = ["5e1f2c3d-4b5a-4c6d-8e7f-90a1b2c3d4e5", "1b4f0e2a-0000-4000-8000-000000000001"]
IPS = ["10.0.0.1", "10.0.0.2"]
KEYS = ["role", "env", "ip", "port"]
VALUES = ["db", "web", "prod", "", "x", *IPS, *PORTS]
PATTERNS = [*VALUES, "*", "d*", "10.0.0.?", "[dw]*"]

conditions = st.dictionaries(
    st.sampled_from(KEYS),
    st.one_of(
        st.sampled_from(PATTERNS), st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3)
    ),
    max_size=2,
)
entries = st.one_of(
    st.builds(lambda n: {"net_id": n}, st.sampled_from(NETS)),
    st.builds(
        lambda n, ip: {"net_id": n, "fixed_ip": ip}, st.sampled_from(NETS), st.sampled_from(IPS)
    ),
    st.builds(lambda n: {"net_id": n, "fixed_ip_from_tag": "ip"}, st.sampled_from(NETS)),
    st.builds(lambda p: {"port_id": p}, st.sampled_from(PORTS)),
    st.just({"port_id_from_tag": "port"}),
)
rule_bodies = st.fixed_dictionaries(
    {"when": conditions, "attach": st.lists(entries, min_size=1, max_size=3)},
    optional={"unless": conditions},
)
tag_lists = st.lists(
    st.builds("{}={}".format, st.sampled_from(KEYS), st.sampled_from(VALUES)), max_size=6
)


def build(bodies: list[dict[str, Any]], order: list[int]) -> Policy:
    rules = [{"name": f"r{i}", **bodies[i]} for i in order]
    try:
        return parse_policy({"version": 1, "rules": rules}, "prop.yaml")
    except PolicyError:  # e.g. one rule with two literal IPs for one network
        assume(False)
        raise


def outcome(policy: Policy, tags: Tags) -> Desired | str:
    try:
        return evaluate(policy, tags)
    except PolicyConflict:
        return "conflict"


def normalized(result: Desired | str) -> object:
    if isinstance(result, str):
        return result
    nics = frozenset((n.key, n.fixed_ip, frozenset(n.rules)) for n in result.nics)
    return frozenset(result.rules), nics


@settings(max_examples=200, deadline=None)
@given(st.lists(rule_bodies, min_size=1, max_size=5), tag_lists, st.randoms())
def test_deterministic_and_order_independent(
    bodies: list[dict[str, Any]], raw_tags: list[str], rnd: Any
) -> None:
    order = list(range(len(bodies)))
    shuffled = order[:]
    rnd.shuffle(shuffled)
    tags = parse_tags(raw_tags)
    first = outcome(build(bodies, order), tags)
    assert outcome(build(bodies, order), tags) == first
    assert normalized(outcome(build(bodies, shuffled), tags)) == normalized(first)


@settings(max_examples=200, deadline=None)
@given(st.lists(rule_bodies, min_size=1, max_size=5), tag_lists)
def test_never_a_nic_no_matching_rule_names(
    bodies: list[dict[str, Any]], raw_tags: list[str]
) -> None:
    policy = build(bodies, list(range(len(bodies))))
    tags = parse_tags(raw_tags)
    result = outcome(policy, tags)
    assume(isinstance(result, Desired))
    assert isinstance(result, Desired)
    by_name = {rule.name: rule for rule in policy.rules}
    for nic in result.nics:
        assert nic.rules and set(nic.rules) <= set(result.rules)
        named: set[tuple[str, str]] = set()
        for name in nic.rules:
            for spec in by_name[name].attach:
                if spec.net_id:
                    named.add(("net", spec.net_id))
                if spec.port_id:
                    named.add(("port", spec.port_id))
                if spec.port_id_from_tag:
                    named |= {("port", v) for v in tags.get(spec.port_id_from_tag)}
        assert nic.key in named
        if nic.fixed_ip is not None:
            assert nic.fixed_ip in IPS
    keys = [nic.key for nic in result.nics]
    assert len(keys) == len(set(keys)), "merged: one NIC per key"
