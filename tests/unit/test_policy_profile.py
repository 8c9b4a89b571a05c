"""NIC profile keys per attach entry: parsed and checked at load (one line naming rule and
field), carried on the NicRequest, merged only when they agree, shown by explain, and
refused by a backend that cannot apply them."""

from __future__ import annotations

from typing import Any

import pytest

from function.config.policy_file import parse_policy
from function.config.profile_keys import profile_refusals
from function.domain.errors import PolicyConflict, PolicyError
from function.domain.policy import evaluate, explain
from function.domain.profile import AddressPair, NicProfile, ProfileSupport, PublicIp
from function.domain.tags import parse_tags

NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
PORT = "5e1f2c3d-4b5a-4c6d-8e7f-90a1b2c3d4e5"
BW = "a4c3b2d1-0000-4000-8000-000000000009"
DB = parse_tags(["role=db"])
MAC = "fa:16:3e:00:00:01"


def policy(*entries: dict[str, Any], names: tuple[str, ...] = ("db",)) -> dict[str, Any]:
    rules = [
        {"name": name, "when": {"role": "db"}, "attach": [entry]}
        for name, entry in zip(names, entries, strict=True)
    ]
    return {"version": 1, "rules": rules}


def nic_of(entry: dict[str, Any]) -> Any:
    (nic,) = evaluate(parse_policy(policy(entry), "p.yaml"), DB).nics
    return nic


def problems_of(document: object) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(document, "p.yaml")
    return info.value.problems


@pytest.mark.parametrize(
    ("keys", "profile"),
    [
        ({}, NicProfile()),
        ({"source_dest_check": False}, NicProfile(source_dest_check=False)),
        ({"source_dest_check": True}, NicProfile()),
        ({"ipv6": True}, NicProfile(ipv6=True)),
        (
            {"ipv6": True, "ipv6_address": "2001:DB8::0005"},
            NicProfile(ipv6=True, ipv6_address="2001:db8::5"),
        ),
        ({"ipv6": True, "ipv6_bandwidth": BW.upper()}, NicProfile(ipv6=True, ipv6_bandwidth=BW)),
        (
            {"allowed_address_pairs": ["10.0.0.9", "10.1.0.0/16", "10.0.0.9", "10.2.0.7/32"]},
            NicProfile(
                allowed_address_pairs=(
                    AddressPair("10.0.0.9"),
                    AddressPair("10.1.0.0/16"),
                    AddressPair("10.2.0.7"),
                )
            ),
        ),
        (
            {
                "allowed_address_pairs": [
                    {"ip_address": "10.0.0.9", "mac_address": "FA-16-3E-00-00-01"}
                ]
            },
            NicProfile(allowed_address_pairs=(AddressPair("10.0.0.9", "fa:16:3e:00:00:01"),)),
        ),
        (
            {"public_ip": {"address": "192.0.2.10"}},
            NicProfile(public_ip=PublicIp(address="192.0.2.10")),
        ),
        (
            {"public_ip": {"pool_tag": "nicattach-pool = web"}},
            NicProfile(public_ip=PublicIp(pool_tag=("nicattach-pool", "web"))),
        ),
    ],
)
def test_profile_keys_reach_the_nic_request(keys: dict[str, Any], profile: NicProfile) -> None:
    nic = nic_of({"net_id": NET, **keys})
    assert nic.profile == profile
    assert hash(nic) == hash(nic_of({"net_id": NET, **keys}))  # frozen and hashable


def test_yaml_booleans_are_taken_and_quoted_ones_refused(tmp_path: Any) -> None:
    from function.config.policy_file import load_policy

    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\nrules:\n- name: fw\n  when: {}\n  attach:\n"
        f"  - net_id: {NET}\n    source_dest_check: false\n    ipv6: true\n"
    )
    (spec,) = load_policy(path).rules[0].attach
    assert spec.profile == NicProfile(source_dest_check=False, ipv6=True)
    path.write_text(path.read_text().replace("ipv6: true", 'ipv6: "yes"'))
    with pytest.raises(PolicyError, match=r"attach\[0\].ipv6: must be true or false"):
        load_policy(path)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"source_dest_check": "false"}, "source_dest_check: must be true or false"),
        ({"source_dest_check": 0}, "source_dest_check: must be true or false"),
        ({"ipv6": True, "ipv6_address": "10.0.0.5"}, "ipv6_address: not an IPv6 address"),
        ({"ipv6": True, "ipv6_address": "fe80::1%eth0"}, "ipv6_address: not an IPv6 address"),
        ({"ipv6_address": "2001:db8::5"}, "ipv6_address: needs ipv6: true"),
        ({"ipv6": False, "ipv6_bandwidth": BW}, "ipv6_bandwidth: needs ipv6: true"),
        ({"ipv6": True, "ipv6_bandwidth": "bw-1"}, "ipv6_bandwidth: not a bandwidth id"),
        ({"allowed_address_pairs": []}, "allowed_address_pairs: must be a non-empty list"),
        ({"allowed_address_pairs": "10.0.0.9"}, "allowed_address_pairs: must be a non-empty list"),
        ({"allowed_address_pairs": ["10.0.0.999"]}, "allowed_address_pairs[0]: not an IP"),
        ({"allowed_address_pairs": ["10.0.0.5/24"]}, "host bits zero"),
        ({"allowed_address_pairs": ["0.0.0.0"]}, "write source_dest_check: false instead"),
        ({"allowed_address_pairs": ["0.0.0.0/0"]}, "write source_dest_check: false instead"),
        ({"allowed_address_pairs": ["::/0"]}, "write source_dest_check: false instead"),
        (
            {"allowed_address_pairs": ["224.0.0.5"]},
            "allowed_address_pairs[0]: '224.0.0.5' overlaps the multicast range 224.0.0.0/4",
        ),
        (
            {"allowed_address_pairs": ["8000::/1"]},
            "allowed_address_pairs[0]: '8000::/1' overlaps the multicast range ff00::/8",
        ),
        ({"allowed_address_pairs": ["1.1.1.1/0"]}, "write source_dest_check: false instead"),
        ({"allowed_address_pairs": [{"ip": "10.0.0.9"}]}, "[0]: unknown key 'ip'"),
        (
            {"allowed_address_pairs": [{"ip_address": "10.0.0.9", "mac_address": "fa:16"}]},
            "[0].mac_address: not a MAC address",
        ),
        ({"allowed_address_pairs": [f"10.0.0.{i}" for i in range(11)]}, "at most 10"),
        ({"public_ip": "192.0.2.10"}, "public_ip: must be {address: <ip>} or {pool_tag"),
        ({"public_ip": {"address": "192.0.2.10", "pool_tag": "a=b"}}, "got keys address, pool_tag"),
        ({"public_ip": {"address": "2001:db8::1"}}, "public_ip.address: not an IPv4 address"),
        ({"public_ip": {"pool_tag": "web"}}, "public_ip.pool_tag: must be key=value"),
        ({"public_ip": {"pool_tag": "=web"}}, "public_ip.pool_tag: must be key=value"),
    ],
)
def test_bad_profile_keys_are_named_at_load(keys: dict[str, Any], expected: str) -> None:
    found = problems_of(policy({"net_id": NET, **keys}))
    assert any("rule 'db' (#1)" in p and "attach[0]." in p and expected in p for p in found), found


@pytest.mark.parametrize("target", [{"port_id": PORT}, {"port_id_from_tag": "mgmt-port"}])
def test_a_port_entry_cannot_carry_a_profile(target: dict[str, Any]) -> None:
    found = problems_of(policy({**target, "source_dest_check": False, "ipv6": True}))
    assert [p.split(": ", 2)[1:] for p in found] == [
        [
            "rule 'db' (#1)",
            "attach[0].source_dest_check: only allowed with net_id "
            "(the port is not the function's)",
        ],
        [
            "rule 'db' (#1)",
            "attach[0].ipv6: only allowed with net_id (the port is not the function's)",
        ],
    ]


def test_a_misspelt_profile_key_gets_a_hint() -> None:
    found = problems_of(policy({"net_id": NET, "source_dest_chek": False}))
    assert any("did you mean source_dest_check?" in p for p in found), found


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"source_dest_check": False}, {}),
        ({"ipv6": True}, {"ipv6": True, "ipv6_address": "2001:db8::5"}),
        ({"public_ip": {"pool_tag": "p=a"}}, {"public_ip": {"pool_tag": "p=b"}}),
        ({"allowed_address_pairs": ["10.0.0.9"]}, {"allowed_address_pairs": ["10.0.0.8"]}),
    ],
)
def test_nics_merged_into_one_must_ask_for_the_same_profile(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    loaded = parse_policy(
        policy({"net_id": NET, **first}, {"net_id": NET, **second}, names=("a", "b")), "p.yaml"
    )
    with pytest.raises(PolicyConflict, match="different NIC profiles requested") as info:
        evaluate(loaded, DB)
    assert "by rule 'a'" in info.value.message and "by rule 'b'" in info.value.message


def test_the_same_pairs_in_another_order_merge() -> None:
    entries = [
        {"net_id": NET, "allowed_address_pairs": ["10.0.0.9", "10.0.0.8"]},
        {"net_id": NET, "allowed_address_pairs": ["10.0.0.8", "10.0.0.9", "10.0.0.8"]},
    ]
    (nic,) = evaluate(parse_policy(policy(*entries, names=("a", "b")), "p.yaml"), DB).nics
    assert nic.rules == ("a", "b")


def test_explain_shows_the_profile() -> None:
    entry = {
        "net_id": NET,
        "source_dest_check": False,
        "ipv6": True,
        "public_ip": {"pool_tag": "nicattach-pool=web"},
    }
    text = explain(parse_policy(policy(entry), "p.yaml"), DB).render()
    assert (
        f"net {NET} [source_dest_check off, ipv6 auto, public_ip pool nicattach-pool=web]" in text
    )


def test_a_backend_refuses_what_it_cannot_apply_one_line_per_rule_and_key() -> None:
    entries = [
        {"net_id": NET, "ipv6": True, "ipv6_bandwidth": BW},
        {"net_id": NET},
        {"net_id": NET, "source_dest_check": False},
    ]
    loaded = parse_policy(policy(*entries, names=("a", "b", "c")), "p.yaml")
    support = ProfileSupport(source_dest_check=True, ipv6=True)
    assert profile_refusals(loaded, "nova", support) == [
        "p.yaml: rule 'a' attach[0].ipv6_bandwidth: the nova backend cannot apply ipv6_bandwidth"
    ]
    everything = ProfileSupport(True, True, True, True, True, True)
    assert profile_refusals(loaded, "huawei-v1", everything) == []
