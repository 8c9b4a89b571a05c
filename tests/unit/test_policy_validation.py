"""Validation at load: every mistake is reported, naming the file, the rule and the field."""

from __future__ import annotations

from typing import Any

import pytest

from function.config.policy_file import parse_policy
from function.domain.errors import PolicyError
from function.domain.policy import AttachSpec, Condition

NET_A = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
PORT_A = "5e1f2c3d-4b5a-4c6d-8e7f-90a1b2c3d4e5"


def good_rule(**override: Any) -> dict[str, Any]:
    return {"name": "db", "when": {"role": "db"}, "attach": [{"net_id": NET_A}], **override}


def problems_of(document: object) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(document, "p.yaml")
    return info.value.problems


def attach(**entry: Any) -> dict[str, Any]:
    return {"version": 1, "rules": [good_rule(attach=[entry])]}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(["rules"], "p.yaml: the policy must be a mapping", id="not-a-mapping"),
        pytest.param(None, "got nothing", id="none"),
        pytest.param({"rules": [good_rule()]}, "p.yaml: version: missing", id="version-missing"),
        pytest.param({"version": 2, "rules": [good_rule()]}, "unsupported version 2", id="v2"),
        pytest.param(
            {"version": "1", "rules": [good_rule()]},
            "version: must be the number 1, not '1'",
            id="v-str",
        ),
        pytest.param({"version": True, "rules": [good_rule()]}, "not True", id="v-bool"),
        pytest.param({"version": 1}, "p.yaml: rules: missing", id="rules-missing"),
        pytest.param({"version": 1, "rules": {}}, "rules: must be a list", id="rules-mapping"),
        pytest.param({"version": 1, "rules": []}, "rules: empty", id="rules-empty"),
        pytest.param(
            {"version": 1, "rules": [good_rule()], "defaults": {}},
            "p.yaml: defaults: unknown key (allowed: version, rules)",
            id="unknown-top-key",
        ),
        pytest.param({"version": 1, "rules": ["db"]}, "rule #1: a rule must be", id="rule-str"),
        pytest.param(
            {"version": 1, "rules": [good_rule(name=None)]},
            "rule #1: name: must be",
            id="name-none",
        ),
        pytest.param(
            {"version": 1, "rules": [{"when": {}, "attach": [{"net_id": NET_A}]}]},
            "rule #1: name: missing",
            id="name-missing",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(name="  ")]}, "name: must not be empty", id="blank"
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(), good_rule()]},
            "rule 'db' (#2): name: duplicate rule name, also used by rule #1",
            id="duplicate-name",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(match={})]},
            "rule 'db' (#1): match: unknown key (allowed: name, when, unless, attach)",
            id="unknown-rule-key",
        ),
        pytest.param(
            {"version": 1, "rules": [{"name": "db", "attach": [{"net_id": NET_A}]}]},
            "rule 'db' (#1): when: missing (write 'when: {}'",
            id="when-missing",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(when=None)]},
            "rule 'db' (#1): when: must be a mapping",
            id="when-none",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(when=["role=db"])]},
            "when: must be a mapping of tag conditions, got a list",
            id="when-list",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(unless="off")]},
            "unless: must be a mapping",
            id="unless-str",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(when={"tier": 1})]},
            "when.tier: a tag value must be a string, got the number 1: quote it",
            id="condition-number",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(unless={"nic-autoattach": False})]},
            "unless.nic-autoattach: a tag value must be a string, got the boolean false",
            id="condition-bool",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(when={"role": None})]},
            "when.role: a tag value must be a string, got nothing",
            id="condition-none",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(when={"role": []})]},
            "when.role: empty list matches nothing",
            id="condition-empty-list",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(when={"role": ["db", 2]})]},
            "when.role: a tag value must be a string, got the number 2",
            id="condition-list-number",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(when={"role": {"eq": "db"}})]},
            "when.role: a tag value must be a string, got a mapping",
            id="condition-mapping",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(when={1: "db"})]},
            "when.1: a tag key must be a non-empty string",
            id="condition-int-key",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(when={"": "db"})]},
            "a tag key must be a non-empty string",
            id="condition-empty-key",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(attach=None)]},
            "rule 'db' (#1): attach: must be a list",
            id="attach-none",
        ),
        pytest.param(
            {"version": 1, "rules": [{"name": "db", "when": {}}]},
            "rule 'db' (#1): attach: missing",
            id="attach-missing",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(attach=[])]},
            "rule 'db' (#1): attach: empty",
            id="attach-empty",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(attach={"net_id": NET_A})]},
            "attach: must be a list of NICs, got a mapping",
            id="attach-mapping",
        ),
        pytest.param(
            {"version": 1, "rules": [good_rule(attach=[NET_A])]},
            "rule 'db' (#1): attach[0]: must be a mapping",
            id="attach-entry-str",
        ),
        pytest.param(attach(), "attach[0]: needs exactly one of", id="no-target"),
        pytest.param(
            attach(net_id=NET_A, port_id=PORT_A),
            "attach[0]: needs exactly one of net_id, port_id, port_id_from_tag "
            "(got net_id and port_id)",
            id="two-targets",
        ),
        pytest.param(
            attach(port_id=PORT_A, port_id_from_tag="p"),
            "got port_id and port_id_from_tag",
            id="2p",
        ),
        pytest.param(
            attach(net_id="abc"), "rule 'db' (#1): attach[0].net_id: not a UUID: 'abc'", id="net"
        ),
        pytest.param(attach(net_id=NET_A + "0"), "not a UUID", id="net-too-long"),
        pytest.param(attach(net_id="{" + NET_A + "}"), "not a UUID", id="net-braced"),
        pytest.param(attach(net_id=12), "attach[0].net_id: must be a non-empty string", id="n12"),
        pytest.param(attach(port_id="eth1"), "attach[0].port_id: not a UUID: 'eth1'", id="port"),
        pytest.param(attach(port_id_from_tag=""), "port_id_from_tag: must be a non-empty", id="pt"),
        pytest.param(
            attach(net_id=NET_A, fixed_ip="10.0.0.256"),
            "attach[0].fixed_ip: not an IP address: '10.0.0.256'",
            id="bad-ip",
        ),
        pytest.param(
            attach(net_id=NET_A, fixed_ip="10.0.0.0/24"), "not an IP address", id="cidr-not-ip"
        ),
        pytest.param(
            attach(net_id=NET_A, fixed_ip=167772161), "must be a non-empty string", id="int-ip"
        ),
        pytest.param(
            attach(net_id=NET_A, fixed_ip=["10.0.0.5", "10.0.0.6"]),
            "attach[0].fixed_ip: more than one fixed IP",
            id="two-ips",
        ),
        pytest.param(
            attach(net_id=NET_A, fixed_ip=["10.0.0.5"]), "fixed_ip: a list", id="ip-list-of-one"
        ),
        pytest.param(
            attach(net_id=NET_A, fixed_ips=[{"ip_address": "10.0.0.5"}]),
            "attach[0].fixed_ips: unknown key (did you mean fixed_ip? one IP per NIC)",
            id="fixed-ips-key",
        ),
        pytest.param(
            attach(net_id=NET_A, fixed_ip="10.0.0.5", fixed_ip_from_tag="ip"),
            "fixed_ip and fixed_ip_from_tag together",
            id="ip-and-ip-from-tag",
        ),
        pytest.param(
            attach(port_id=PORT_A, fixed_ip="10.0.0.5"),
            "attach[0].fixed_ip: only allowed with net_id, not beside port_id",
            id="fixed-ip-beside-port",
        ),
        pytest.param(
            attach(port_id_from_tag="p", fixed_ip_from_tag="ip"),
            "attach[0].fixed_ip_from_tag: only allowed with net_id, not beside port_id_from_tag",
            id="ip-tag-beside-port-tag",
        ),
        pytest.param(
            attach(net_id=NET_A, subnet_id=NET_A),
            "attach[0].subnet_id: unknown key",
            id="unknown-attach-key",
        ),
        pytest.param(
            {
                "version": 1,
                "rules": [
                    good_rule(
                        attach=[
                            {"net_id": NET_A, "fixed_ip": "10.0.0.5"},
                            {"net_id": NET_A, "fixed_ip": "10.0.0.6"},
                        ]
                    )
                ],
            },
            "rule 'db' (#1): attach: different fixed IPs ['10.0.0.5', '10.0.0.6'] for one network",
            id="one-rule-two-ips-same-net",
        ),
    ],
)
def test_rejected(document: object, expected: str) -> None:
    problems = problems_of(document)
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith("p.yaml: ") for problem in problems)


def test_all_problems_collected() -> None:
    document = {
        "version": 3,
        "extra": 1,
        "rules": [
            good_rule(name="a", when=None),
            good_rule(name="b", attach=[{"net_id": "x"}, {"port_id": "y", "fixed_ip": "z"}]),
            good_rule(name="a"),
        ],
    }
    problems = problems_of(document)
    expected = [
        "extra: unknown key",
        "version 3",
        "rule 'a' (#1): when:",
        "rule 'b' (#2): attach[0].net_id",
        "rule 'b' (#2): attach[1].port_id",
        "rule 'b' (#2): attach[1].fixed_ip: only allowed",
        "rule 'b' (#2): attach[1].fixed_ip: not an IP",
        "rule 'a' (#3): name: duplicate",
    ]
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)
    assert len(problems) == len(expected)


def test_valid_policy_normalizes() -> None:
    policy = parse_policy(
        {
            "version": 1,
            "rules": [
                {
                    "name": " db ",
                    "when": {"role": "db", "env": ["prod", "staging"]},
                    "unless": {"nic-autoattach": "off"},
                    "attach": [
                        {"net_id": f"  {NET_A.upper()} ", "fixed_ip": " 10.0.0.5"},
                        {"port_id_from_tag": "mgmt-port"},
                    ],
                }
            ],
        },
        "p.yaml",
    )
    (rule,) = policy.rules
    assert (policy.source, rule.name, rule.index) == ("p.yaml", "db", 1)
    assert rule.when == (Condition("role", ("db",)), Condition("env", ("prod", "staging")))
    assert rule.unless == (Condition("nic-autoattach", ("off",)),)
    assert rule.attach == (
        AttachSpec(net_id=NET_A, fixed_ip="10.0.0.5"),
        AttachSpec(port_id_from_tag="mgmt-port"),
    )


def test_hyphenless_uuid_is_canonicalized() -> None:
    policy = parse_policy(attach(net_id=NET_A.replace("-", "")))
    assert policy.rules[0].attach[0].net_id == NET_A


def test_policy_error_message_is_one_line() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy({"version": 1, "rules": [good_rule(attach=[]), good_rule(when=None)]})
    assert "\n" not in str(info.value)
    assert str(info.value).count("<policy>: ") == 3
