"""``scripts/check_sources.py`` (``make lint``): no new fmt-skip comment, no module over 300 lines.

Each check is run on a small tree made here (so it is seen to fail), then on the repository.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import check_sources  # noqa: E402

SKIP = "# fmt: " + "skip"  # spelled apart: this file must not carry one itself


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_a_fmt_skip_outside_the_allowlist_fails(tmp_path: Path) -> None:
    root = tree(tmp_path, {"pkg/a.py": f"x = [1,2]  {SKIP}\n", "pkg/b.py": "y = 1\n"})
    [problem] = check_sources.fmt_skip_problems(root, ["pkg"], set())
    assert problem.startswith("pkg/a.py: ")
    assert check_sources.fmt_skip_problems(root, ["pkg"], {"pkg/a.py"}) == []


def test_an_allowlisted_file_without_fmt_skip_must_leave_the_list(tmp_path: Path) -> None:
    root = tree(tmp_path, {"pkg/a.py": "x = [1, 2]\n"})
    [problem] = check_sources.fmt_skip_problems(
        root,
        ["pkg"],
        {
            "pkg/a.py",
        },
    )
    assert "remove it" in problem
    [gone] = check_sources.fmt_skip_problems(root, ["pkg"], {"pkg/gone.py"})
    assert gone.startswith("pkg/gone.py: ")


def test_a_module_over_the_limit_fails_unless_listed(tmp_path: Path) -> None:
    root = tree(tmp_path, {"pkg/long.py": "x = 1\n" * 301, "pkg/ok.py": "x = 1\n" * 300})
    [problem] = check_sources.size_problems(root, ["pkg"], set(), 300)
    assert problem == "pkg/long.py: 301 lines (over 300): split it"
    assert check_sources.size_problems(root, ["pkg"], {"pkg/long.py"}, 300) == []
    [stale] = check_sources.size_problems(root, ["pkg"], {"pkg/long.py", "pkg/ok.py"}, 300)
    assert stale.startswith("pkg/ok.py: ")


def test_the_allowlist_reads_paths_and_skips_comments(tmp_path: Path) -> None:
    listed = tree(tmp_path, {"list.txt": "# why\n\na/b.py  # still long\nc.py\n"}) / "list.txt"
    assert check_sources.read_allowlist(listed) == {"a/b.py", "c.py"}


def test_the_repository_passes_both_checks() -> None:
    assert check_sources.main() == 0


def test_the_cleaned_folders_carry_no_fmt_skip_and_no_long_module() -> None:
    """emulator/, bench/ and function/config/ were cleaned (issue 19): they stay clean."""
    allowed = check_sources.read_allowlist(check_sources.FMT_ALLOWLIST)
    allowed |= check_sources.read_allowlist(check_sources.SIZE_ALLOWLIST)
    assert not {n for n in allowed if n.startswith(("emulator/", "bench/", "function/config/"))}
