"""Instructions per event under callgrind: a CPU measure that load on the machine does not move.

``python -m bench.callgrind_event [--events 10] [--backend nova]`` starts the emulator
(no latency), then runs the ``peer-cpu`` section's function script (``bench/adaptive.py``
``FUNCTION_RUN``: ``function.main.SERVICE.handle`` with a binary-mode event, logs at INFO
to a pipe) under ``valgrind --tool=callgrind`` twice, once with the warm-up event only and
once with ``--events`` more; the difference of the two instruction counts divided by
``--events`` is the instructions of one event (imports and the warm-up cancel out).
Process time under load moves by ±30 %; this count moves by well under 1 %.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.adaptive import FUNCTION_RUN
from bench.harness import Bench
from bench.proc import ROOT, EmulatorProcess

COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def instructions(bench: Bench, events: int, env: dict[str, str], work: Path) -> int:
    """Instructions of the function's process: a warm-up event, then ``events`` events."""
    batch = []
    for _ in range(events + 1):
        headers, body = bench.event(bench.new_server())
        batch.append((headers, body.decode()))
    log = work / f"callgrind-{events}.log"
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [f"--log-file={log}", sys.executable, "-c", FUNCTION_RUN, "time"]
    stdin = json.dumps(batch)
    subprocess.run(
        command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=True
    )
    found = COLLECTED.search(log.read_text())
    if found is None:
        raise RuntimeError(f"no instruction count in {log}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--backend", default="nova", choices=["nova", "huawei-v1"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        emulator = EmulatorProcess(work / "emulator.log")
        try:
            bench = Bench(emulator.url, work, emulator.popen.pid, backend=args.backend)
            env = {**os.environ, **bench.env, "NICATTACH_LOG_LEVEL": "INFO"}
            env.pop("NICATTACH_CONCURRENCY", None)
            base = instructions(bench, 0, env, work)
            more = instructions(bench, args.events, env, work)
        finally:
            emulator.stop()
    per_event = (more - base) / args.events
    print(
        json.dumps(
            {
                "backend": args.backend,
                "events": args.events,
                "instructions_per_event": round(per_event),
                "millions_per_event": round(per_event / 1e6, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
