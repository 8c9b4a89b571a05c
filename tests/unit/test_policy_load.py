"""Reading policy files: YAML and JSON, the YAML 1.1 traps, syntax errors, the example files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from function.config.policy_file import load_policy
from function.domain.errors import PolicyError
from function.domain.policy import AttachSpec, Policy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NET_A = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"

RULE = f"""
  - name: db
    when:
      role: db
    attach:
      - net_id: {NET_A}
"""


def load_text(tmp_path: Path, text: str, name: str = "policy.yaml") -> Policy:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def problems_of(tmp_path: Path, text: str, name: str = "policy.yaml") -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_text(tmp_path, text, name)
    return info.value.problems


def test_full_example_uses_every_feature() -> None:
    policy = load_policy(EXAMPLES / "policy-full.yaml")
    assert policy.source.endswith("policy-full.yaml")
    conditions = [c for rule in policy.rules for c in rule.when + rule.unless]
    patterns = [p for c in conditions for p in c.patterns]
    specs = [spec for rule in policy.rules for spec in rule.attach]
    assert any(len(c.patterns) > 1 for c in conditions), "any-of"
    assert "*" in patterns and any("*" in p and p != "*" for p in patterns), "wildcards"
    assert any("?" in p for p in patterns), "? wildcard"
    assert any(rule.unless for rule in policy.rules), "unless"
    assert any(not rule.when for rule in policy.rules), "when: {}"
    for field in ("net_id", "port_id", "port_id_from_tag", "fixed_ip", "fixed_ip_from_tag"):
        assert any(getattr(spec, field) for spec in specs), field


def test_invalid_five_reports_all_five_with_rule_and_field() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(EXAMPLES / "policy-invalid-five.yaml")
    problems = info.value.problems
    expected = [
        r"rule 'web' \(#1\): attach\[0\]\.net_id: not a UUID",
        r"rule 'db-storage' \(#2\): attach\[0\]\.fixed_ip: only allowed with net_id",
        r"rule 'backup' \(#3\): unless\.nic-autoattach: .*quote it: \"off\"",
        r"rule 'backup' \(#3\): attach\[0\]\.fixed_ip: not an IP address: '10\.0\.1\.300'",
        r"rule 'ops' \(#4\): attach\[0\]\.fixed_ips: unknown key \(did you mean fixed_ip",
    ]
    assert len(problems) == len(expected), problems
    for pattern in expected:
        assert any(re.search(pattern, p) for p in problems), (pattern, problems)
    assert all(p.startswith(str(EXAMPLES / "policy-invalid-five.yaml") + ": ") for p in problems)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param("nic-autoattach: off", 'unquoted off as a boolean: quote it: "off"', id="off"),
        pytest.param("enabled: yes", 'unquoted yes as a boolean: quote it: "yes"', id="yes"),
        pytest.param("enabled: True", 'unquoted True as a boolean: quote it: "True"', id="true"),
        pytest.param("tier: 1", 'unquoted 1 as a number: quote it: "1"', id="int"),
        pytest.param("rack: 010", 'unquoted 010 as a number: quote it: "010"', id="octal"),
        pytest.param("ver: 1.10", 'unquoted 1.10 as a number: quote it: "1.10"', id="float"),
        pytest.param("t: 12:30", 'unquoted 12:30 as a number: quote it: "12:30"', id="sexagesimal"),
        pytest.param("d: 2024-01-01", "unquoted 2024-01-01 as a date: quote it", id="date"),
        pytest.param("role:", "when.role: a tag value must be a string, got nothing", id="empty"),
        pytest.param(
            "env: [prod, no]", "when.env: a tag value must be a string, YAML reads", id="l"
        ),
        pytest.param("on: x", "when.on: a tag key must be a non-empty string, YAML reads", id="k"),
    ],
)
def test_yaml_scalars_that_are_not_strings(tmp_path: Path, condition: str, expected: str) -> None:
    text = f"version: 1\nrules:\n  - name: r\n    when:\n      {condition}\n    attach:\n"
    text += f"      - net_id: {NET_A}\n"
    problems = problems_of(tmp_path, text)
    assert any("rule 'r' (#1): when." in p and expected in p for p in problems), problems


def test_quoted_yaml_values_are_fine(tmp_path: Path) -> None:
    text = f"""version: 1
rules:
  - name: r
    when: {{tier: "1", rack: '010', d: "2024-01-01"}}
    unless: {{nic-autoattach: "off"}}
    attach: [{{net_id: {NET_A}}}]
"""
    (rule,) = load_text(tmp_path, text).rules
    assert [c.patterns for c in rule.when] == [("1",), ("010",), ("2024-01-01",)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "policy.yaml: the file is empty", id="empty"),
        pytest.param("  \n\n", "policy.yaml: the file is empty", id="blank"),
        pytest.param("# only a comment\n", "policy.yaml: the file has no content", id="comments"),
        pytest.param(
            "version: 1\nrules:\n  - name: [oops\n",
            "policy.yaml: line 4, column 1: YAML syntax error",
            id="syntax",
        ),
        pytest.param(
            "version: 1\nrules:\n\t- name: x\n", "policy.yaml: line 3, column 1: YAML", id="tab"
        ),
        pytest.param("version: 1\n---\nversion: 1\n", "YAML syntax error", id="two-docs"),
        pytest.param(
            "version: 1\nversion: 1\nrules:" + RULE,
            "policy.yaml: line 2: duplicate key 'version'",
            id="duplicate-top",
        ),
        pytest.param(
            "version: 1\nrules:\n  - name: a\n    when: {role: db, role: web}\n"
            f"    attach: [{{net_id: {NET_A}}}]\n",
            "line 4: duplicate key 'role'",
            id="duplicate-condition",
        ),
        pytest.param("version: 1\nrules: hello\n", "rules: must be a list", id="rules-str"),
        pytest.param("- version: 1\n", "the policy must be a mapping", id="top-list"),
        pytest.param("version: 1.0\nrules:" + RULE, "must be the number 1, not 1.0", id="v-float"),
    ],
)
def test_file_problems(tmp_path: Path, text: str, expected: str) -> None:
    problems = problems_of(tmp_path, text)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(str(tmp_path / "policy.yaml") + ": ") for p in problems)


def test_duplicate_keys_reported_with_other_problems(tmp_path: Path) -> None:
    text = "version: 1\nrules:\n  - name: a\n    name: b\n    when: {}\n    attach: []\n"
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2
    assert "line 4: duplicate key 'name'" in problems[0]
    assert "rule 'b' (#1): attach: empty" in problems[1]


def test_json_policy(tmp_path: Path) -> None:
    text = (
        '{\n\t"version": 1,\n\t"rules": [{"name": "db", "when": {"role": "db"},\n'
        f'\t\t"attach": [{{"net_id": "{NET_A}", "fixed_ip": "10.0.0.5"}}]}}]\n}}\n'
    )
    (rule,) = load_text(tmp_path, text, "policy.json").rules
    assert rule.attach == (AttachSpec(net_id=NET_A, fixed_ip="10.0.0.5"),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '{"version": 1, "version": 1, "rules": []}',
            "duplicate key 'version' in one JSON object",
            id="duplicate",
        ),
        pytest.param(
            '{"version": 1, "rules": [{"name": "r", "when": {"off": false},'
            f' "attach": [{{"net_id": "{NET_A}"}}]}}]}}',
            "when.off: a tag value must be a string, got the boolean false: quote it",
            id="bool",
        ),
        pytest.param('{"version": 1, "rules": [}', "line 1, column", id="broken-json"),
    ],
)
def test_json_problems(tmp_path: Path, text: str, expected: str) -> None:
    problems = problems_of(tmp_path, text, "policy.json")
    assert any(expected in p for p in problems), problems


def test_yaml_flow_mapping_falls_back_from_json(tmp_path: Path) -> None:
    text = f"{{version: 1, rules: [{{name: r, when: {{}}, attach: [{{net_id: {NET_A}}}]}}]}}"
    assert [r.name for r in load_text(tmp_path, text).rules] == ["r"]


def test_yaml_anchors_and_merge_keys(tmp_path: Path) -> None:
    text = f"""version: 1
rules:
  - name: a
    when: &prod {{env: prod}}
    attach: &nics
      - net_id: {NET_A}
  - name: b
    when:
      <<: *prod
      role: db
    attach: *nics
"""
    policy = load_text(tmp_path, text)
    assert [len(rule.when) for rule in policy.rules] == [1, 2]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(str(tmp_path / "nope.yaml"))
    assert info.value.problems[0].startswith(str(tmp_path / "nope.yaml") + ": cannot read")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"version: 1\nrules: \xff\xfe\n")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert "cannot read the policy" in info.value.problems[0]
