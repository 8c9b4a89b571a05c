"""Import time of the entry module and of functions-framework, each in fresh processes."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence

from bench.proc import ROOT

TIMED = """
import sys, time
for name in {blocked!r}:
    sys.modules[name] = None  # import fails as if not installed
t = time.perf_counter()
import {module}
print(time.perf_counter() - t)
"""
#: What the FunctionGraph package leaves out.
HTTP_STACK = ("functions_framework", "flask")


def import_seconds(
    module: str, env: Mapping[str, str], runs: int, blocked: Sequence[str] = ()
) -> float:
    """Median seconds to import ``module`` in a fresh interpreter (after start-up)."""
    code = TIMED.format(module=module, blocked=tuple(blocked))
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        samples.append(float(out.strip().splitlines()[-1]))
    return statistics.median(samples)


def importtime_by_package(module: str, env: Mapping[str, str], top: int = 8) -> dict[str, float]:
    """``python -X importtime``: self time (ms) summed by top-level package, largest first."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    totals: dict[str, float] = defaultdict(float)
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, self_us, _, name = (part.strip() for part in line.replace(":", "|", 1).split("|"))
        if self_us.isdigit():
            totals[name.split(".")[0]] += int(self_us) / 1000
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:top]
    return {name: round(ms, 1) for name, ms in ranked}
