"""Per-NIC ``security_groups``: parsed and checked at load, merged only when they agree,
honoured by huawei-v1 and refused by the nova backend at start-up (never ignored)."""

from __future__ import annotations

from typing import Any

import pytest

from function.app.wiring import refuse_unsupported
from function.config.policy_file import parse_policy
from function.domain.errors import PolicyConflict, PolicyError
from function.domain.policy import evaluate
from function.domain.tags import parse_tags

NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
PORT = "5e1f2c3d-4b5a-4c6d-8e7f-90a1b2c3d4e5"
SG1 = "a4c3b2d1-0000-4000-8000-000000000001"
SG2 = "a4c3b2d1-0000-4000-8000-000000000002"


def policy(*attaches: dict[str, Any], names: tuple[str, ...] = ("db",)) -> dict[str, Any]:
    rules = [
        {"name": name, "when": {"role": "db"}, "attach": [entry]}
        for name, entry in zip(names, attaches, strict=True)
    ]
    return {"version": 1, "rules": rules}


def problems_of(document: object) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(document, "p.yaml")
    return info.value.problems


def test_groups_reach_the_nic_request_deduplicated() -> None:
    loaded = parse_policy(policy({"net_id": NET, "security_groups": [SG1, SG2, SG1]}), "p.yaml")
    (nic,) = evaluate(loaded, parse_tags(["role=db"])).nics
    assert nic.security_groups == (SG1, SG2)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"net_id": NET, "security_groups": []}, "security_groups: must be a non-empty list"),
        ({"net_id": NET, "security_groups": SG1}, "security_groups: must be a non-empty list"),
        ({"net_id": NET, "security_groups": ["default"]}, "security_groups[0]: not a UUID"),
        ({"net_id": NET, "security_groups": [7]}, "security_groups[0]: not a UUID"),
        ({"port_id": PORT, "security_groups": [SG1]}, "only allowed with net_id"),
    ],
)
def test_bad_groups_are_named_at_load(entry: dict[str, Any], expected: str) -> None:
    found = problems_of(policy(entry))
    assert any("rule 'db'" in p and expected in p for p in found), found


@pytest.mark.parametrize(("first", "second"), [([SG1], [SG2]), ([SG1], None)])
def test_nics_merged_into_one_must_ask_for_the_same_groups(
    first: list[str], second: list[str] | None
) -> None:
    entries = [{"net_id": NET, "security_groups": first}, {"net_id": NET}]
    if second is not None:
        entries[1]["security_groups"] = second
    loaded = parse_policy(policy(*entries, names=("a", "b")), "p.yaml")
    with pytest.raises(PolicyConflict, match="different security groups requested"):
        evaluate(loaded, parse_tags(["role=db"]))


def test_the_same_groups_in_another_order_merge() -> None:
    entries = [
        {"net_id": NET, "security_groups": [SG1, SG2]},
        {"net_id": NET, "security_groups": [SG2, SG1]},
    ]
    loaded = parse_policy(policy(*entries, names=("a", "b")), "p.yaml")
    (nic,) = evaluate(loaded, parse_tags(["role=db"])).nics
    assert nic.rules == ("a", "b")


def test_the_nova_backend_refuses_groups_with_one_line_per_rule_and_field() -> None:
    entries = [
        {"net_id": NET, "security_groups": [SG1]},
        {"net_id": NET},
        {"net_id": NET, "security_groups": [SG2]},
    ]
    loaded = parse_policy(policy(*entries, names=("a", "b", "c")), "p.yaml")
    refuse_unsupported(loaded, "huawei-v1")  # honoured there
    with pytest.raises(PolicyError) as info:
        refuse_unsupported(loaded, "nova")
    assert info.value.problems == [
        f"p.yaml: rule '{name}' attach[0].security_groups: the nova backend cannot set "
        "security groups (use NICATTACH_BACKEND=huawei-v1)"
        for name in ("a", "c")
    ]
