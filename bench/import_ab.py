"""Import cost of two (or more) checkouts, interleaved A/B/A/B in fresh interpreters.

    python -m bench.import_ab ../before . --rounds 21

Each round imports ``function.main`` the FunctionGraph way (``imports.HTTP_STACK``
blocked) once per checkout, timed as ``imports.py`` times it, then once more under
``-X importtime`` (the self time of ``function.*`` and the modules loaded). Interleaving
puts the load of a shared machine on every side alike. Each checkout runs its own
``.venv/bin/python`` from its own directory; the environment is a bench-like one
(``examples/policy.yaml``, an endpoint and a token: nothing is contacted at import).

``--bytecode cached`` (the default; what a deployment runs: functions-framework writes
``__pycache__``, ``make package`` ships ``.pyc`` for the runtime's Python): one untimed
import per checkout first writes the caches. ``--bytecode none``: ``function/``'s caches
are removed and none written, so every import compiles its sources (a package built
for another Python version; or ``PYTHONDONTWRITEBYTECODE=1`` in a fresh checkout).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
from pathlib import Path

from bench.imports import HTTP_STACK, TIMED

ENV = {
    "NICATTACH_POLICY": "examples/policy.yaml",
    "NICATTACH_ECS_ENDPOINT": "http://127.0.0.1:9",
    "NICATTACH_NETWORK_ENDPOINT": "http://127.0.0.1:9",
    "NICATTACH_TOKEN": "bench-token",
    "NICATTACH_PROJECT_ID": "bench-project",
    "NICATTACH_BACKEND": "nova",
}
BLOCK = f"import sys\nfor name in {HTTP_STACK!r}:\n    sys.modules[name] = None\n"


def _run(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    python = str(tree / ".venv" / "bin" / "python")
    env = {**os.environ, **ENV}
    if os.environ.get("BENCH_NO_BYTECODE"):
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run(
        [python, *args], cwd=tree, env=env, capture_output=True, text=True, check=True
    )


def timed_ms(tree: Path) -> float:
    out = _run(tree, "-c", TIMED.format(module="function.main", blocked=HTTP_STACK)).stdout
    return float(out.strip().splitlines()[-1]) * 1000


def own_self_ms(tree: Path) -> tuple[float, int, int]:
    """``-X importtime``: self ms of ``function.*``, its modules, all modules."""
    err = _run(tree, "-X", "importtime", "-c", BLOCK + "import function.main").stderr
    own, modules, total = 0, 0, 0
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
        total += 1
        if name == "function" or name.startswith("function."):
            own, modules = own + int(self_us), modules + 1
    return own / 1000, modules, total


def quartiles(samples: list[float]) -> str:
    q1, median, q3 = statistics.quantiles(samples, n=4)
    return f"{median:.0f} ms ({q1:.0f}–{q3:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--bytecode", choices=("cached", "none"), default="cached")
    args = parser.parse_args()
    if args.bytecode == "none":
        os.environ["BENCH_NO_BYTECODE"] = "1"
        for tree in args.trees:
            for cache in (tree / "function").rglob("__pycache__"):
                shutil.rmtree(cache)
    timed: dict[Path, list[float]] = {tree: [] for tree in args.trees}
    own: dict[Path, list[float]] = {tree: [] for tree in args.trees}
    counts: dict[Path, tuple[int, int]] = {}
    for tree in args.trees:  # untimed: writes the bytecode caches
        timed_ms(tree)
    for _ in range(args.rounds):
        for tree in args.trees:
            timed[tree].append(timed_ms(tree))
        for tree in args.trees:
            ms, modules, total = own_self_ms(tree)
            own[tree].append(ms)
            counts[tree] = (modules, total)
    for tree in args.trees:
        modules, total = counts[tree]
        print(
            f"{tree}: import {quartiles(timed[tree])}; function.* self "
            f"{quartiles(own[tree])}; {modules} function.* modules ({total} all)"
        )


if __name__ == "__main__":
    main()
