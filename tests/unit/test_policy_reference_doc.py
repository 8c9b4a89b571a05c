"""docs/policy-reference.md shows real output: its examples load, its validate and explain
transcripts are what the commands print today."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from function.cli import main
from function.config.policy_file import parse_policy

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "policy-reference.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOC, re.M | re.S)


def test_the_shape_examples_are_valid_policies() -> None:
    yaml_shape, json_shape = blocks("yaml")[0], blocks("json")[0]
    assert parse_policy(yaml.safe_load(yaml_shape)) == parse_policy(json.loads(json_shape))


@pytest.mark.parametrize("index", [0, 1, 2])
def test_the_transcripts_are_current(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], index: int
) -> None:
    monkeypatch.chdir(ROOT)
    transcripts = [b for b in blocks("text") + blocks("console") if b.startswith("$ ")]
    command, *expected = [
        b for b in transcripts if "validate examples" in b or "explain --policy examples" in b
    ][index].splitlines()
    main(command.removeprefix("$ nic-autoattach ").split())
    printed = capsys.readouterr()
    lines = (printed.out + printed.err).splitlines()
    known = [line for line in expected if line != "…"]
    assert [line for line in lines if line in known] == known, lines
