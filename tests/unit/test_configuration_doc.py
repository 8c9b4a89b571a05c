"""docs/configuration.md's table is what scripts/configuration_doc.py makes from the settings'
own definitions (function/config): a variable added, renamed or given another default or
docstring there without regenerating the page fails here."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import configuration_doc  # noqa: E402

from function import config  # noqa: E402


def test_the_page_matches_the_settings() -> None:
    current = configuration_doc.DOC.read_text(encoding="utf-8")
    assert configuration_doc.render(current) == current, (
        "docs/configuration.md is out of date: run .venv/bin/python scripts/configuration_doc.py"
    )


def test_every_variable_has_a_row_with_a_meaning() -> None:
    rows = dict(
        re.findall(
            r"^\| `([A-Z_0-9]+)` \| [^|]+ \| ([^|]*) \|$", configuration_doc.table(), re.MULTILINE
        )
    )
    assert set(rows) == set(config.ENV_VARS)
    assert all(meaning.strip() for meaning in rows.values()), rows


def test_defaults_come_from_the_dataclass() -> None:
    table = configuration_doc.table()
    assert "| `NICATTACH_DEADLINE_S` | `50` |" in table
    assert "| `NICATTACH_POLICY` | (required) |" in table
    assert "| `NICATTACH_LOG_LEVEL` | `INFO` |" in table
