"""`explain`: which rules match, the first condition that failed, the NICs or the conflict."""

from __future__ import annotations

from pathlib import Path

import pytest

from function.config.policy_file import load_policy
from function.domain.explain import Explanation, RuleVerdict
from function.domain.policy import NicRequest, Policy, explain
from function.domain.tags import parse_tags

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def full() -> Policy:
    return load_policy(EXAMPLES / "policy-full.yaml")


@pytest.mark.parametrize(
    ("tags", "rule", "failed"),
    [
        pytest.param([], "db-storage", "when role: tag missing (wanted 'db')", id="missing"),
        pytest.param(["role=web"], "db-storage", "when role: 'web' does not match 'db'", id="neq"),
        pytest.param(
            ["role=db", "env=dev"],
            "db-storage",
            "when env: 'dev' does not match one of ['prod', 'staging']",
            id="any-of",
        ),
        pytest.param(
            ["role=db", "env=prod", "tier=silver"],
            "db-storage",
            "when tier: 'silver' does not match 'gold-*'",
            id="wildcard",
        ),
        pytest.param(
            ["role=db", "env=prod", "tier=gold-1", "nic-autoattach=off"],
            "db-storage",
            "unless nic-autoattach: 'off' matches 'off'",
            id="unless",
        ),
        pytest.param(
            ["role=test-1"],
            "monitoring",
            "unless role: 'test-1' matches one of ['bastion', 'test-?']",
            id="unless-any-of",
        ),
        pytest.param([], "mgmt-port", "when mgmt-port: tag missing (wanted '*')", id="present"),
    ],
)
def test_first_failed_condition(full: Policy, tags: list[str], rule: str, failed: str) -> None:
    verdicts = {v.name: v for v in explain(full, parse_tags(tags)).verdicts}
    assert verdicts[rule].matched is False
    assert verdicts[rule].failed == failed


def test_explain_match(full: Policy) -> None:
    tags = parse_tags(["role=db", "env=prod", "tier=gold-1", "storage-ip=10.9.0.5"])
    result = explain(full, tags)
    assert result.matched == ("db-storage", "monitoring")
    assert result.verdicts[0] == RuleVerdict("db-storage", 1, True, None)
    assert result.conflict is None
    assert [nic.key[1][:8] for nic in result.nics] == ["3cb9bc59", "0dc714fa", "7a6b5c4d"]
    text = result.render()
    assert "  match     'db-storage' (#1)" in text
    assert "  no match  'bastion' (#4): when role: 'db' does not match 'bastion'" in text
    assert (
        "  net 3cb9bc59-5699-4588-a4b1-b87f96708bc6 fixed_ip 10.9.0.5 (rules: db-storage)" in text
    )
    assert "tags: env=prod role=db storage-ip=10.9.0.5 tier=gold-1" in text


def test_explain_conflict(full: Policy) -> None:
    result = explain(full, parse_tags(["role=db", "env=prod", "tier=gold-1"]))
    assert result.nics == ()
    assert result.conflict is not None and "'storage-ip' is missing" in result.conflict
    assert "nothing would be attached" in result.render()


def test_explain_nothing(full: Policy) -> None:
    text = explain(full, parse_tags(["nic-autoattach=off"])).render()
    assert "tags: nic-autoattach=off" in text
    assert text.endswith("would request: nothing (no rule matches)")


def test_render_port_and_no_tags() -> None:
    port = "5e1f2c3d-4b5a-4c6d-8e7f-90a1b2c3d4e5"
    result = Explanation(
        "p.yaml", (), (RuleVerdict("a", 1, True),), (NicRequest(None, port, None, ("a",)),)
    )
    assert result.render().splitlines() == [
        "policy: p.yaml",
        "tags: (none)",
        "  match     'a' (#1)",
        "would request:",
        f"  port {port} (rules: a)",
    ]
