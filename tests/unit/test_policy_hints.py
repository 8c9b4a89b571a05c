"""A misspelt key gets a "did you mean" hint at every level of the policy file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from function.config.policy_file import load_policy, parse_policy
from function.domain.errors import PolicyError

NET_A = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"


def rule(**override: Any) -> dict[str, Any]:
    return {"name": "db", "when": {"role": "db"}, "attach": [{"net_id": NET_A}], **override}


def problems_of(document: object) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(document, "p.yaml")
    return info.value.problems


def without(document: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != key}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(
            {"Version": 1, "version": 1, "rules": [rule()]},
            "p.yaml: Version: unknown key (did you mean version?)",
            id="top-case",
        ),
        pytest.param(
            {"version": 1, "rule": [rule()]},
            "p.yaml: rule: unknown key (did you mean rules?)",
            id="top-rule",
        ),
        pytest.param(
            {"version": 1, "rules": [{**without(rule(), "when"), "wehn": {"role": "db"}}]},
            "rule 'db' (#1): wehn: unknown key (did you mean when?)",
            id="rule-wehn",
        ),
        pytest.param(
            {"version": 1, "rules": [rule(unles={"env": "test"})]},
            "rule 'db' (#1): unles: unknown key (did you mean unless?)",
            id="rule-unles",
        ),
        pytest.param(
            {"version": 1, "rules": [{**without(rule(), "attach"), "attachments": []}]},
            "rule 'db' (#1): attachments: unknown key (did you mean attach?)",
            id="rule-attachments",
        ),
        pytest.param(
            {"version": 1, "rules": [{**without(rule(), "name"), "nmae": "db"}]},
            "rule #1: nmae: unknown key (did you mean name?)",
            id="rule-nmae",
        ),
        pytest.param(
            {"version": 1, "rules": [rule(attach=[{"net-id": NET_A}])]},
            "attach[0].net-id: unknown key (did you mean net_id?)",
            id="attach-dash",
        ),
        pytest.param(
            {"version": 1, "rules": [rule(attach=[{"port_id_from_tags": "p"}])]},
            "attach[0].port_id_from_tags: unknown key (did you mean port_id_from_tag?)",
            id="attach-plural",
        ),
        pytest.param(
            {"version": 1, "rules": [rule(attach=[{"net_id": NET_A, "Fixed_IP": "10.0.0.5"}])]},
            "attach[0].Fixed_IP: unknown key (did you mean fixed_ip?)",
            id="attach-case",
        ),
        pytest.param(
            {"version": 1, "rules": [rule(attach=[{"net_id": NET_A, "fixed_ips": ["10.0.0.5"]}])]},
            "attach[0].fixed_ips: unknown key (did you mean fixed_ip? one IP per NIC)",
            id="attach-fixed-ips",
        ),
    ],
)
def test_misspelt_key_gets_a_hint(document: object, expected: str) -> None:
    problems = problems_of(document)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("document", "key"),
    [
        pytest.param({"version": 1, "rules": [rule()], "defaults": {}}, "defaults", id="top"),
        pytest.param({"version": 1, "rules": [rule(match={})]}, "match", id="rule"),
        pytest.param(
            {"version": 1, "rules": [rule(attach=[{"net_id": NET_A, "ip": "x"}])]},
            "ip",
            id="attach",
        ),
        pytest.param({"version": 1, "rules": [rule(**{"7": 1})]}, "7", id="not-a-word"),
    ],
)
def test_unrelated_key_gets_no_guess(document: object, key: str) -> None:
    problems = [p for p in problems_of(document) if f"{key}: unknown key" in p]
    assert problems and all("did you mean" not in p for p in problems), problems


def test_hint_in_a_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"version: 1\nrules:\n  - name: db\n    wehn: {{role: db}}\n"
        f"    attach:\n      - net_id: {NET_A}\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    expected = f"{path}: rule 'db' (#1): wehn: unknown key (did you mean when?)"
    assert any(p.startswith(expected) for p in info.value.problems), info.value.problems
