"""Instructions per event under callgrind: a CPU measure that load on the machine does not move.

``python -m bench.callgrind_event [--events 10] [--backend nova] [--side function|peer|both]``
starts the emulator (no latency), then runs the ``peer-cpu`` section's scripts
(``bench/peer_cpu.py``: the function, ``function.main.SERVICE.handle`` with a binary-mode
event, logs at INFO to a pipe; the peer, openstacksdk doing Nova's same three requests)
under ``valgrind --tool=callgrind`` twice each, once with the warm-up event only and once
with ``--events`` more; the difference of the two instruction counts divided by
``--events`` is the instructions of one event (imports and the warm-up cancel out).
Process time under load moves by ±30 %; this count moves by about ±2 % (the threads'
interleaving).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import Bench
from bench.peer_cpu import cpu_env, events, function_args, peer_args
from bench.proc import ROOT, EmulatorProcess

COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def instructions(
    bench: Any, n: int, env: dict[str, str], work: Path, argv: list[str], name: str
) -> int:
    """Instructions of one process running ``python argv``: a warm-up event, then ``n``."""
    log = work / f"callgrind-{name}-{n}.log"
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [f"--log-file={log}", sys.executable, *argv]
    stdin = json.dumps(events(bench, n))
    subprocess.run(
        command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=True
    )
    found = COLLECTED.search(log.read_text())
    if found is None:
        raise RuntimeError(f"no instruction count in {log}")
    return int(found.group(1))


def per_event(
    bench: Any, n: int, env: dict[str, str], work: Path, argv: list[str], name: str
) -> float:
    """(instructions with ``n`` events − with none) ÷ ``n``."""
    base = instructions(bench, 0, env, work, argv, name)
    return (instructions(bench, n, env, work, argv, name) - base) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--backend", default="nova", choices=["nova", "huawei-v1"])
    parser.add_argument("--side", default="function", choices=["function", "peer", "both"])
    parser.add_argument("--ownership", default="auto", choices=["auto", "port", "device-tag"])
    args = parser.parse_args()
    report: dict[str, Any] = {"backend": args.backend, "events": args.events}
    report["ownership"] = args.ownership
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        emulator = EmulatorProcess(work / "emulator.log")
        try:
            bench = Bench(
                emulator.url,
                work,
                emulator.popen.pid,
                backend=args.backend,
                ownership=args.ownership,
            )
            env = cpu_env(bench)
            sides = {"function": function_args(), "peer": peer_args(env)}
            for side, argv in sides.items():
                if args.side in (side, "both"):
                    count = per_event(bench, args.events, env, work, argv, side)
                    report[f"{side}_instructions_per_event"] = round(count)
                    report[f"{side}_millions_per_event"] = round(count / 1e6, 3)
        finally:
            emulator.stop()
    if args.side == "both":
        share = report["function_instructions_per_event"] / report["peer_instructions_per_event"]
        report["share_of_peer"] = round(share, 3)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
