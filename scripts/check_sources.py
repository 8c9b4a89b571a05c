"""Two checks of ``make lint`` that ruff does not make: no new ````, no long module.

- ```` keeps a hand layout that ``ruff format`` would change, most often to
  keep a module short; no file may carry one unless ``scripts/fmt_skip_allowlist.txt``
  lists it (the files that still do, to be cleaned).
- No module in ``function/`` or ``emulator/`` is over 300 lines (as formatted), unless
  ``scripts/size_allowlist.txt`` lists it.

An allowlisted file that no longer needs it is an error too, so the lists only shrink.

    python scripts/check_sources.py      # exit 0, or 1 with one line per problem
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("function", "emulator", "tests", "scripts", "bench")
SIZED = ("function", "emulator")
MAX_LINES = 300
FMT_SKIP = "fmt: " + "skip"  # spelled apart, so this file does not carry one
FMT_ALLOWLIST = ROOT / "scripts" / "fmt_skip_allowlist.txt"
SIZE_ALLOWLIST = ROOT / "scripts" / "size_allowlist.txt"


def read_allowlist(path: Path) -> set[str]:
    """Paths relative to the root, one a line; ``#`` starts a comment."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line}


def python_files(root: Path, folders: Iterable[str]) -> list[str]:
    found = (path for folder in folders for path in sorted((root / folder).rglob("*.py")))
    return [path.relative_to(root).as_posix() for path in found]


def fmt_skip_problems(root: Path, folders: Iterable[str], allowed: set[str]) -> list[str]:
    carrying = {name for name in python_files(root, folders) if FMT_SKIP in _text(root, name)}
    new = [
        f"{name}: '# {FMT_SKIP}' (run ruff format instead)" for name in sorted(carrying - allowed)
    ]
    stale = [
        f"{name}: listed in the fmt-skip allowlist, but carries none: remove it"
        for name in sorted(allowed - carrying)
    ]
    return new + stale


def size_problems(root: Path, folders: Iterable[str], allowed: set[str], limit: int) -> list[str]:
    sizes = {name: _text(root, name).count("\n") for name in python_files(root, folders)}
    long = {name for name, lines in sizes.items() if lines > limit}
    over = [
        f"{name}: {sizes[name]} lines (over {limit}): split it" for name in sorted(long - allowed)
    ]
    stale = [
        f"{name}: listed in the size allowlist, but is {limit} lines or fewer: remove it"
        for name in sorted(allowed - long)
    ]
    return over + stale


def _text(root: Path, name: str) -> str:
    return (root / name).read_text(encoding="utf-8")


def main() -> int:
    problems = fmt_skip_problems(ROOT, SOURCES, read_allowlist(FMT_ALLOWLIST))
    problems += size_problems(ROOT, SIZED, read_allowlist(SIZE_ALLOWLIST), MAX_LINES)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
