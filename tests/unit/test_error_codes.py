"""docs/errors.md and the code types agree, both ways.

Every ``ErrorCode`` and ``SkipReason`` member (``function/domain/codes.py``) has a row in
docs/errors.md, and every row names a member (or ``http_<status>``, the one open-ended
code). Codes are types, so a new code is a new member, and this test asks for its row.
``Ignored("...")`` reasons are prose, not codes: the constant start of each must appear
in docs/errors.md's "Ignored events" section (found with ``ast``, never by importing).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from function.compute.huawei_v1.errors import ECS_ERRORS
from function.compute.parsing import TEMPORARY_CODES
from function.config import ConfigError
from function.domain.codes import HTTP_CODE_PATTERN, ErrorCode, SkipReason, http_code

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"
NAMED = {member.value for member in ErrorCode} | {member.value for member in SkipReason}


def doc_section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/errors.md has no '## {title}' section"
    return match.group(1)


def doc_rows() -> dict[str, list[str]]:
    """``{code: [cells]}`` of the table in the "Codes" section (first cell: `code`)."""
    rows: dict[str, list[str]] = {}
    for line in doc_section("Codes").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        found = re.fullmatch(r"`([^`]+)`", cells[0]) if line.startswith("|") else None
        if found:
            assert found.group(1) not in rows, f"two rows for {found.group(1)}"
            rows[found.group(1)] = cells
    return rows


def test_every_member_has_a_row() -> None:
    missing = sorted((NAMED | {HTTP_CODE_PATTERN}) - set(doc_rows()))
    assert not missing, f"add a row to docs/errors.md for each: {missing}"


def test_every_row_is_a_member() -> None:
    extra = sorted(set(doc_rows()) - NAMED - {HTTP_CODE_PATTERN})
    assert not extra, f"docs/errors.md documents codes no enum has: {extra}"


def test_skip_reasons_are_documented_as_skips_and_error_codes_are_not() -> None:
    rows = doc_rows()
    for reason in SkipReason:
        assert rows[reason.value][1] == "skipped", rows[reason.value]
    for code in ErrorCode:
        assert rows[code.value][1] != "skipped", rows[code.value]


def test_the_open_ended_code_has_the_documented_form() -> None:
    assert re.fullmatch(HTTP_CODE_PATTERN.replace("<status>", r"\d+"), http_code(405))


def test_codes_are_their_wire_values() -> None:
    assert ErrorCode.SERVER_BUSY == "server_busy" and str(ErrorCode.SERVER_BUSY) == "server_busy"
    assert f"{SkipReason.SERVER_GONE}" == "server_gone"
    assert ConfigError("x").code == ErrorCode.BAD_CONFIG  # config keeps its own literal


OUTCOMES = {
    # outcome column → (HTTP status, exit code), as function/domain/outcome.py decides
    "failed-retryable": ("503", "75"),
    "failed-permanent": ("422", "1"),
    "skipped": ("200", "0"),
}


def test_rows_agree_with_the_verdict() -> None:
    """The HTTP status and exit code of a row follow from its outcome column."""
    for code, cells in doc_rows().items():
        outcome, http, exit_code = cells[1].strip("`*"), cells[2], cells[3]
        if code == SkipReason.PROJECT_NOT_ALLOWED:
            assert (outcome, http, exit_code) == ("skipped", "403", "0"), cells
        elif outcome in OUTCOMES:
            assert (http, exit_code) == OUTCOMES[outcome], cells
        else:
            assert outcome in ("input", "start-up"), cells


def test_temporary_api_codes_are_documented_as_retryable() -> None:
    rows = doc_rows()
    for code in TEMPORARY_CODES:
        assert rows[code][1] == "failed-retryable", rows[code]
    for code, temporary in ECS_ERRORS.values():
        assert (rows[code][1] == "failed-retryable") is temporary, rows[code]


# ---------------------------------------------------------------- ignored events (prose)


def ignored_reasons() -> Iterator[tuple[str, str]]:
    """``(constant text of an Ignored(...) reason, where)`` over ``function/``; an
    f-string's fields become ``<>``."""
    for path in sorted((ROOT / "function").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            func = getattr(node, "func", None)
            name = getattr(func, "id", None) or getattr(func, "attr", None)
            if isinstance(node, ast.Call) and node.args:
                if name == "Ignored":
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    for text in _texts(node.args[0]):
                        yield text, where


def _texts(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.JoinedStr):
        return {"".join(p.value if isinstance(p, ast.Constant) else "<>" for p in node.values)}
    if isinstance(node, ast.BoolOp | ast.IfExp):
        parts = node.values if isinstance(node, ast.BoolOp) else [node.body, node.orelse]
        return set().union(*(_texts(p) for p in parts))
    return set()


def test_every_ignored_reason_is_documented() -> None:
    section = doc_section("Ignored events")
    reasons = list(ignored_reasons())
    assert len(reasons) >= 5, reasons  # the scan itself works
    for reason, where in reasons:
        words = [w.strip() for w in re.split(r"<[^>]*>", reason) if len(w.strip()) > 3]
        assert words, reason
        for text in words:
            assert text in section, f"{where}: {reason!r} is not in docs/errors.md"
