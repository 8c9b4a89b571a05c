"""The version-1 policy: matching, attach entries, merging and conflicts, as tables."""

from __future__ import annotations

from typing import Any

import pytest

from function.config.policy_file import parse_policy
from function.domain.errors import PermanentError, PolicyConflict
from function.domain.policy import Desired, NicRequest, Policy, evaluate
from function.domain.tags import parse_tags

NET_A = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
NET_B = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
PORT_A = "5e1f2c3d-4b5a-4c6d-8e7f-90a1b2c3d4e5"
PORT_B = "1b4f0e2a-0000-4000-8000-000000000001"


def policy(*rules: dict[str, Any]) -> Policy:
    return parse_policy({"version": 1, "rules": list(rules)}, "test.yaml")


def rule(name: str = "r", when: Any = None, attach: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "when": {} if when is None else when,
        "attach": [{"net_id": NET_A}] if attach is None else attach,
        **extra,
    }


def matches(when: dict[str, Any], tags: object, unless: Any = None) -> bool:
    extra = {} if unless is None else {"unless": unless}
    return bool(evaluate(policy(rule(when=when, **extra)), parse_tags(tags)).rules)


# ---------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("when", "tags", "expected"),
    [
        pytest.param({}, [], True, id="empty-when-matches-all"),
        pytest.param({}, ["x=y"], True, id="empty-when-with-tags"),
        pytest.param({"role": "db"}, ["role=db"], True, id="equal"),
        pytest.param({"role": "db"}, ["role=web"], False, id="not-equal"),
        pytest.param({"role": "db"}, [], False, id="tag-missing"),
        pytest.param({"role": "db"}, ["role=DB"], False, id="value-case-sensitive"),
        pytest.param({"Role": "db"}, ["role=db"], False, id="key-case-sensitive"),
        pytest.param({"role": "db"}, ["role=db-1"], False, id="equality-is-not-prefix"),
        pytest.param({"env": ["prod", "staging"]}, ["env=staging"], True, id="any-of"),
        pytest.param({"env": ["prod", "staging"]}, ["env=dev"], False, id="any-of-miss"),
        pytest.param({"tier": "gold-*"}, ["tier=gold-2"], True, id="wildcard-star"),
        pytest.param({"tier": "gold-*"}, ["tier=silver-2"], False, id="wildcard-miss"),
        pytest.param({"tier": "gold-*"}, ["tier=GOLD-2"], False, id="wildcard-case-sensitive"),
        pytest.param({"tier": "t?"}, ["tier=t1"], True, id="wildcard-question"),
        pytest.param({"tier": "t?"}, ["tier=t12"], False, id="wildcard-question-one-char"),
        pytest.param({"tier": "t[12]"}, ["tier=t2"], True, id="wildcard-class"),
        pytest.param({"tier": "t[12]"}, ["tier=t3"], False, id="wildcard-class-miss"),
        pytest.param({"x": "[[]a]"}, ["x=[a]"], True, id="escaped-bracket-literal"),
        pytest.param({"env": ["prod", "st*"]}, ["env=stage"], True, id="any-of-with-wildcard"),
        pytest.param({"mgmt": "*"}, ["mgmt=anything"], True, id="present-any-value"),
        pytest.param({"mgmt": "*"}, ["mgmt"], True, id="present-empty-value"),
        pytest.param({"mgmt": "*"}, ["other=1"], False, id="present-but-absent"),
        pytest.param({"backup": ""}, ["backup"], True, id="empty-value-equality"),
        pytest.param({"backup": ""}, ["backup=yes"], False, id="empty-value-miss"),
        pytest.param({"env": "prod"}, ["env=dev", "env=prod"], True, id="any-value-of-key"),
        pytest.param({"role": "db", "env": "prod"}, ["role=db", "env=prod"], True, id="all-hold"),
        pytest.param({"role": "db", "env": "prod"}, ["role=db", "env=dev"], False, id="one-fails"),
        pytest.param({"url": "a=b"}, ["url=a=b"], True, id="value-with-equals"),
    ],
)
def test_when(when: dict[str, Any], tags: list[str], expected: bool) -> None:
    assert matches(when, tags) is expected


@pytest.mark.parametrize(
    ("unless", "tags", "expected"),
    [
        pytest.param({}, ["role=db"], True, id="empty-unless"),
        pytest.param({"nic-autoattach": "off"}, ["role=db"], True, id="unless-tag-absent"),
        pytest.param({"nic-autoattach": "off"}, ["nic-autoattach=off"], False, id="unless-holds"),
        pytest.param({"nic-autoattach": "off"}, ["nic-autoattach=on"], True, id="unless-other"),
        pytest.param({"a": "1", "b": "2"}, ["b=2"], False, id="any-unless-blocks"),
        pytest.param({"skip": "*"}, ["skip"], False, id="unless-present"),
        pytest.param({"env": ["dev", "test-*"]}, ["env=test-3"], False, id="unless-any-of"),
    ],
)
def test_unless(unless: dict[str, Any], tags: list[str], expected: bool) -> None:
    assert matches({}, tags, unless=unless) is expected


# ---------------------------------------------------------------- attach and merge


def nic(
    net: str | None = None, port: str | None = None, ip: str | None = None, *rules: str
) -> NicRequest:
    return NicRequest(net, port, ip, rules or ("r",))


@pytest.mark.parametrize(
    ("rules", "tags", "expected"),
    [
        pytest.param([rule("r")], [], [nic(NET_A)], id="net"),
        pytest.param(
            [rule("r", attach=[{"net_id": NET_A, "fixed_ip": "10.0.0.5"}])],
            [],
            [nic(NET_A, None, "10.0.0.5")],
            id="net-fixed-ip",
        ),
        pytest.param(
            [rule("r", attach=[{"net_id": NET_A, "fixed_ip": "2001:DB8::0001"}])],
            [],
            [nic(NET_A, None, "2001:db8::1")],
            id="net-fixed-ipv6-normalized",
        ),
        pytest.param(
            [rule("r", attach=[{"net_id": NET_A, "fixed_ip_from_tag": "ip"}])],
            ["ip= 10.1.2.3 "],
            [nic(NET_A, None, "10.1.2.3")],
            id="fixed-ip-from-tag",
        ),
        pytest.param([rule("r", attach=[{"port_id": PORT_A}])], [], [nic(None, PORT_A)], id="port"),
        pytest.param(
            [rule("r", attach=[{"port_id_from_tag": "p"}])],
            [f"p={PORT_A.upper()}"],
            [nic(None, PORT_A)],
            id="port-from-tag-normalized",
        ),
        pytest.param(
            [rule("a"), rule("b")], [], [nic(NET_A, None, None, "a", "b")], id="same-net-merges"
        ),
        pytest.param(
            [rule("a", attach=[{"net_id": NET_A}, {"net_id": NET_A}])],
            [],
            [nic(NET_A, None, None, "a")],
            id="same-net-twice-in-one-rule",
        ),
        pytest.param(
            [rule("a"), rule("b", attach=[{"net_id": NET_A, "fixed_ip": "10.0.0.5"}])],
            [],
            [nic(NET_A, None, "10.0.0.5", "a", "b")],
            id="no-ip-merges-into-fixed-ip",
        ),
        pytest.param(
            [rule("a", attach=[{"net_id": NET_A, "fixed_ip": "10.0.0.5"}]), rule("b")],
            [],
            [nic(NET_A, None, "10.0.0.5", "a", "b")],
            id="fixed-ip-kept-when-first",
        ),
        pytest.param(
            [
                rule("a", attach=[{"net_id": NET_A, "fixed_ip": "10.0.0.5"}]),
                rule("b", attach=[{"net_id": NET_A, "fixed_ip_from_tag": "ip"}]),
            ],
            ["ip=10.0.0.5"],
            [nic(NET_A, None, "10.0.0.5", "a", "b")],
            id="same-ip-literal-and-tag",
        ),
        pytest.param(
            [
                rule("a", attach=[{"port_id": PORT_A}]),
                rule("b", attach=[{"port_id_from_tag": "p"}]),
            ],
            [f"p={PORT_A}"],
            [nic(None, PORT_A, None, "a", "b")],
            id="same-port-merges",
        ),
        pytest.param(
            [rule("a", attach=[{"port_id": PORT_A}, {"net_id": NET_A}])],
            [],
            [nic(None, PORT_A, None, "a"), nic(NET_A, None, None, "a")],
            id="port-and-net-distinct",
        ),
        pytest.param(
            [
                rule("a", attach=[{"net_id": NET_B}]),
                rule("b", attach=[{"net_id": NET_A}, {"net_id": NET_B}]),
            ],
            [],
            [nic(NET_B, None, None, "a", "b"), nic(NET_A, None, None, "b")],
            id="first-appearance-order",
        ),
        pytest.param(
            [rule("a", when={"role": "db"}), rule("b", when={"role": "web"})],
            ["role=web"],
            [nic(NET_A, None, None, "b")],
            id="only-matching-rules",
        ),
        pytest.param(
            [rule("a", when={"role": "db"}, attach=[{"net_id": NET_A, "fixed_ip_from_tag": "ip"}])],
            ["role=web"],
            [],
            id="from-tag-not-needed-when-rule-does-not-match",
        ),
    ],
)
def test_evaluate(rules: list[dict[str, Any]], tags: list[str], expected: list[NicRequest]) -> None:
    assert evaluate(policy(*rules), parse_tags(tags)).nics == tuple(expected)


def test_desired_lists_matching_rules_in_policy_order() -> None:
    desired = evaluate(
        policy(rule("c"), rule("x", when={"role": "web"}), rule("a")), parse_tags(["role=db"])
    )
    assert desired == Desired(("c", "a"), (nic(NET_A, None, None, "c", "a"),))


def test_no_match_is_empty() -> None:
    assert evaluate(policy(rule(when={"role": "db"})), parse_tags([])) == Desired((), ())


def test_nic_key() -> None:
    assert nic(NET_A).key == ("net", NET_A)
    assert nic(None, PORT_A).key == ("port", PORT_A)


# ---------------------------------------------------------------- per-server conflicts


@pytest.mark.parametrize(
    ("rules", "tags", "fragments"),
    [
        pytest.param(
            [
                rule("a", attach=[{"net_id": NET_A, "fixed_ip": "10.0.0.5"}]),
                rule("b", attach=[{"net_id": NET_A, "fixed_ip": "10.0.0.6"}]),
            ],
            [],
            [f"network {NET_A}", "10.0.0.5 by rule 'a'", "10.0.0.6 by rule 'b'"],
            id="two-fixed-ips-one-network",
        ),
        pytest.param(
            [
                rule("a", attach=[{"net_id": NET_A, "fixed_ip": "10.0.0.5"}]),
                rule("b", attach=[{"net_id": NET_A, "fixed_ip_from_tag": "ip"}]),
            ],
            ["ip=10.0.0.9"],
            ["10.0.0.5 by rule 'a'", "10.0.0.9 by rule 'b'"],
            id="literal-vs-tag-ip",
        ),
        pytest.param(
            [rule("a", attach=[{"net_id": NET_A, "fixed_ip_from_tag": "storage-ip"}])],
            [],
            ["rule 'a'", "fixed_ip_from_tag", "'storage-ip' is missing"],
            id="ip-tag-missing",
        ),
        pytest.param(
            [rule("a", attach=[{"net_id": NET_A, "fixed_ip_from_tag": "ip"}])],
            ["ip=10.0.0.300"],
            ["rule 'a'", "'ip'", "'10.0.0.300' is not an IP address"],
            id="ip-tag-invalid",
        ),
        pytest.param(
            [rule("a", attach=[{"net_id": NET_A, "fixed_ip_from_tag": "ip"}])],
            ["ip"],
            ["'' is not an IP address"],
            id="ip-tag-empty",
        ),
        pytest.param(
            [rule("a", attach=[{"net_id": NET_A, "fixed_ip_from_tag": "ip"}])],
            ["ip=10.0.0.1", "ip=10.0.0.2"],
            ["several values"],
            id="ip-tag-several-values",
        ),
        pytest.param(
            [rule("a", attach=[{"port_id_from_tag": "mgmt-port"}])],
            [],
            ["rule 'a'", "port_id_from_tag", "'mgmt-port' is missing"],
            id="port-tag-missing",
        ),
        pytest.param(
            [rule("a", attach=[{"port_id_from_tag": "mgmt-port"}])],
            ["mgmt-port=eth1"],
            ["'eth1' is not a UUID"],
            id="port-tag-invalid",
        ),
        pytest.param(
            [
                rule("a", attach=[{"net_id": NET_B}, {"port_id_from_tag": "p"}]),
                rule("b", attach=[{"net_id": NET_A, "fixed_ip_from_tag": "ip"}]),
            ],
            [],
            ["'p' is missing", "'ip' is missing"],
            id="all-problems-reported",
        ),
    ],
)
def test_conflicts(rules: list[dict[str, Any]], tags: list[str], fragments: list[str]) -> None:
    with pytest.raises(PolicyConflict) as info:
        evaluate(policy(*rules), parse_tags(tags))
    assert isinstance(info.value, PermanentError)
    assert info.value.code == "policy_conflict"
    for fragment in fragments:
        assert fragment in info.value.message
