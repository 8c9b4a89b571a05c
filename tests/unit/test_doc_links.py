"""Every relative link in the Markdown files points at a file of the repository, and no
file names a document that does not exist (a design document kept outside the
repository was one)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
DOCS = sorted(
    p
    for p in [
        *ROOT.glob("*.md"),
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("*/README.md"),
        *ROOT.glob("tests/*/README.md"),
        *ROOT.glob("deploy/*.md"),
        *ROOT.glob("deploy/*/README.md"),
    ]
    if ".venv" not in p.parts
)


@pytest.mark.parametrize("doc", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        if not (doc.parent / path).exists():
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)}: {broken}"


def test_no_mention_of_a_missing_design_document() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    this = str(Path(__file__).relative_to(ROOT))
    found = subprocess.run(
        ["git", "grep", "-n", "DESIGN[.]md", "--", ".", f":!{this}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 1 and found.stdout == "", found.stdout
