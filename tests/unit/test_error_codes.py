"""Every ``error.code`` and ``reason`` the function can emit has a row in docs/errors.md,
and every row names a code the function can emit.

The codes are found by reading ``function/`` with ``ast``, never by importing it, so a
new module is covered the day it lands. An emission site is any of:

- a ``code=``, ``error_code=`` or ``reason=`` keyword argument (``TemporaryError(...,
  code="deadline_exceeded")``, ``ApiPermanentError(..., code=...)``);
- an assignment to ``code``, ``error_code`` or ``reason`` (class attributes like
  ``InputError.code``, locals like ``code = "x" if ... else "y"``);
- the code/reason argument of ``failed(...)`` / ``skipped(...)`` (third positional);
- a ``{"code": ...}`` entry of a dict literal;
- the return values of a ``classify*`` function (an HTTP answer's code);
- a module-level table named ``*_CODES`` / ``*_ERRORS`` (``{"Ecs.0050":
  ("nic_quota_exceeded", False)}``: a value, or a tuple's first item), and the default
  of a ``TABLE.get(key, default)`` on such a table.

Only string literals count; a literal is followed through ``x if c else y``, ``a or b``,
``d.get(k, default)`` and a local dict. An f-string becomes a pattern: ``f"http_{status}"``
is ``http_<status>``. ``Ignored("...")`` reasons are prose, not codes: the constant start
of each must appear in docs/errors.md's "Ignored events" section.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "function"
DOC = ROOT / "docs" / "errors.md"
CODE_NAMES = {"code", "error_code", "reason"}
TABLE_NAME = re.compile(r"(^|_)(CODES|ERRORS)$")
CODE = re.compile(r"^[a-z][a-z0-9_]*(<[a-z_]+>)?$")


# ---------------------------------------------------------------- the source side


def literals(node: ast.AST | None, scope: dict[str, ast.AST]) -> set[str]:
    """The strings ``node`` can evaluate to, as far as literals tell."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.JoinedStr):
        return {"".join(_template(part) for part in node.values)}
    if isinstance(node, ast.IfExp):
        return literals(node.body, scope) | literals(node.orelse, scope)
    if isinstance(node, ast.BoolOp):
        return set().union(*(literals(value, scope) for value in node.values))
    if isinstance(node, ast.Dict):
        return set().union(*(_entry(value, scope) for value in node.values))
    if isinstance(node, ast.Name) and node.id in scope:
        return literals(scope[node.id], {k: v for k, v in scope.items() if k != node.id})
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        receiver = node.func.value
        if node.func.attr == "get" and isinstance(receiver, ast.Name):
            found = literals(receiver, scope) if receiver.id in scope else set()
            default = node.args[1] if len(node.args) > 1 else None
            return found | _entry(default, scope)
    return set()


def _entry(node: ast.AST | None, scope: dict[str, ast.AST]) -> set[str]:
    """A table value: a code, or a ``(code, retryable)`` tuple."""
    if isinstance(node, ast.Tuple) and node.elts:
        return literals(node.elts[0], scope)
    return literals(node, scope)


def _template(part: ast.AST) -> str:
    if isinstance(part, ast.Constant):
        return str(part.value)
    assert isinstance(part, ast.FormattedValue)
    name = ast.unparse(part.value).split(".")[-1].removesuffix("_code")
    return f"<{name}>"


def _local_dicts(function: ast.AST) -> dict[str, ast.AST]:
    return {
        target.id: node.value
        for node in ast.walk(function)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def emitted_in(tree: ast.Module) -> Iterator[tuple[str, int]]:
    tables = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name) and TABLE_NAME.search(target.id)
    }
    for table in tables.values():
        for value in _table_values(table):
            yield from ((code, value.lineno) for code in _entry(value, {}))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    scopes = [(tree, tables)] + [(f, {**tables, **_local_dicts(f)}) for f in functions]
    seen: set[int] = set()
    for owner, scope in reversed(scopes):  # innermost first: each node once, in its scope
        for node in ast.walk(owner):
            if id(node) in seen:
                continue
            seen.add(id(node))
            for code in _emitted_by(node, owner, scope):
                yield code, getattr(node, "lineno", 0)


def _table_values(table: ast.AST) -> list[ast.AST]:
    if isinstance(table, ast.Dict):
        return [v for v in table.values if v is not None]
    if isinstance(table, ast.Call) and table.args:  # frozenset({...})
        table = table.args[0]
    return list(table.elts) if isinstance(table, ast.Set | ast.List | ast.Tuple) else []


def _emitted_by(node: ast.AST, owner: ast.AST, scope: dict[str, ast.AST]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, ast.Call):
        for keyword in node.keywords:
            if keyword.arg in CODE_NAMES:
                found |= literals(keyword.value, scope)
        if _callee(node) in ("failed", "skipped") and len(node.args) > 2:
            found |= literals(node.args[2], scope)
        if _is_table_get(node):
            found |= _entry(node.args[1], scope)
    elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = {t.id if isinstance(t, ast.Name) else getattr(t, "attr", "") for t in targets}
        if names & CODE_NAMES:
            found |= literals(node.value, scope)
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value in CODE_NAMES:
                found |= literals(value, scope)
    elif isinstance(node, ast.Return) and isinstance(owner, ast.FunctionDef):
        if owner.name.startswith("classify") and _returns_directly(owner, node):
            found |= literals(node.value, scope)
    return found


def _is_table_get(call: ast.Call) -> bool:
    """``SOME_ERRORS.get(key, default)``: the default is a code too."""
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "get"
        and isinstance(func.value, ast.Name)
        and bool(TABLE_NAME.search(func.value.id))
        and len(call.args) > 1
    )


def _returns_directly(function: ast.FunctionDef, ret: ast.Return) -> bool:
    """``ret`` belongs to ``function`` itself, not to a function nested in it."""
    nested = [n for n in ast.walk(function) if isinstance(n, ast.FunctionDef) and n is not function]
    return not any(ret in ast.walk(inner) for inner in nested)


def ignored_reasons(tree: ast.Module) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) == "Ignored" and node.args:
            for text in literals(node.args[0], {}):
                yield text, node.lineno


def scan(source: Path = SOURCE) -> tuple[dict[str, str], dict[str, str]]:
    """``{code: where}`` and ``{ignored reason: where}`` over every module under ``source``."""
    codes: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for path in sorted(source.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = str(path.relative_to(ROOT))
        for code, line in emitted_in(tree):
            codes.setdefault(code, f"{where}:{line}")
        for reason, line in ignored_reasons(tree):
            reasons.setdefault(reason, f"{where}:{line}")
    return codes, reasons


# ---------------------------------------------------------------- the documentation side


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


CODES, REASONS = scan()


def test_the_scan_finds_the_known_emission_sites() -> None:
    """Guards the scanner itself: one code per kind of site."""
    for code in (
        "deadline_exceeded",  # code= keyword
        "bad_input",  # class attribute
        "no_project",  # failed(...) positional
        "server_gone",  # skipped(...) positional
        "network_not_found",  # classify() return
        "forbidden",  # classify()'s local table
        "http_<status>",  # classify()'s f-string default
        "conflict",  # *_CODES table
    ):
        assert code in CODES, code
    assert all(CODE.fullmatch(code) for code in CODES), sorted(CODES)


def test_every_code_has_a_row() -> None:
    rows = doc_rows()
    missing = {code: where for code, where in CODES.items() if code not in rows}
    assert not missing, f"add a row to docs/errors.md for each (code: first emitted at): {missing}"


def test_every_row_is_a_code_the_function_can_emit() -> None:
    extra = sorted(set(doc_rows()) - set(CODES))
    assert not extra, f"docs/errors.md documents codes nothing emits: {extra}"


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
        if code == "project_not_allowed":
            assert (outcome, http, exit_code) == ("skipped", "403", "0"), cells
        elif outcome in OUTCOMES:
            assert (http, exit_code) == OUTCOMES[outcome], cells
        else:
            assert outcome in ("input", "start-up"), cells


def test_temporary_api_codes_are_documented_as_retryable() -> None:
    from function.compute.os_interface import TEMPORARY_CODES

    rows = doc_rows()
    for code in TEMPORARY_CODES:
        assert rows[code][1] == "failed-retryable", rows[code]


def test_every_ignored_reason_is_documented() -> None:
    section = doc_section("Ignored events")
    for reason, where in REASONS.items():
        words = [w.strip() for w in re.split(r"<[^>]*>", reason) if len(w.strip()) > 3]
        assert words, reason
        for text in words:
            assert text in section, f"{where}: {reason!r} is not in docs/errors.md"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('raise TemporaryError("x", code="brand_new")', {"brand_new"}),
        ("class E(PermanentError):\n    code = 'brand_new'", {"brand_new"}),
        ('failed(s, p, "brand_new", "m", retryable=True)', {"brand_new"}),
        ('skipped(s, p, "brand_new")', {"brand_new"}),
        ('def classify(s):\n    return "brand_new" if s else f"http_{s}"',
         {"brand_new", "http_<s>"}),
        ('ECS_ERRORS = {"Ecs.1": ("brand_new", False)}', {"brand_new"}),
        ('def f(c):\n    ours, temporary = ECS_ERRORS.get(c, ("brand_new", True))',
         {"brand_new"}),
        ('Outcome(k, s, p, reason="brand_new")', {"brand_new"}),
        ('reply = {"error": {"code": "brand_new"}}', {"brand_new"}),
        ('def f():\n    named = {1: "brand_new"}\n    raise E("m", code=named.get(s, "other"))',
         {"brand_new", "other"}),
        ('if exc.code == "brand_new": pass', set()),
    ],
)  # fmt: skip
def test_a_new_code_would_be_found(source: str, expected: set[str]) -> None:
    """A code added in any of these shapes fails ``test_every_code_has_a_row``."""
    found = {code for code, _ in emitted_in(ast.parse(source))}
    assert found == expected
