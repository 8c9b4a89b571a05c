"""CPU per event, the function against the openstacksdk peer: two measures, side by side.

- **Process time** (``time.process_time`` per event after a warm-up event, in a fresh
  process each): what the CPU really spends, threads and C code included; on a shared
  2-core machine it moves by ±30 % between runs. So the two sides run interleaved,
  ``--cpu-repeats`` times each (alternating which goes first), and the figure is the
  median of each side and the ratio of those medians (every round's ratio is kept too).
- **Instructions** (``valgrind --tool=callgrind``, ``bench/callgrind_event.py``): the
  instructions one event costs each side, deterministic to about ±2 % (thread
  interleaving): what the code does, not what the machine's load makes of it. Native
  code counts alike on both sides; time spent waiting does not count on either.

The function: ``function.main.SERVICE.handle`` with a binary-mode event's headers and body
(parse, plan, the requests, the outcome event, logs at INFO to a pipe). The peer:
openstacksdk 4 (keystoneauth ``Token`` session, ``compute_endpoint_override``) doing
Nova's same work for the same event: ``json.loads`` of it, list the server's interfaces,
attach the NIC, list again. On ``huawei-v1`` the function does the v1 API's work (a NIC
job and its poll, 4 requests) while the peer still does Nova's (3): not the same work.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import scale
from bench.proc import ROOT

RESULTS = ROOT / "bench" / "results"

FUNCTION_RUN = """
import cProfile, io, json, os, pstats, sys, time
from function import main
events = json.load(sys.stdin)
warm = events.pop(0)
main.SERVICE.handle(warm[0], warm[1].encode())
profiler = cProfile.Profile(time.process_time) if sys.argv[1] == "profile" else None
started = time.process_time()
if profiler: profiler.enable()
for headers, body in events:
    reply = main.SERVICE.handle(headers, body.encode())
    assert reply.status == 200, reply.status
if profiler: profiler.disable()
cpu = time.process_time() - started
if profiler:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
    print(out.getvalue(), file=sys.stderr)
print(json.dumps({"cpu_s": cpu, "events": len(events)}))
"""

PEER_RUN = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from keystoneauth1 import session as ks_session, token_endpoint
from openstack import connection
endpoint, token, net = sys.argv[1], sys.argv[2], sys.argv[3]
events = json.load(sys.stdin)
session = ks_session.Session(auth=token_endpoint.Token(endpoint, token))
conn = connection.Connection(session=session, compute_endpoint_override=endpoint)

def handle(body):
    server = json.loads(body)["server_id"]
    have = list(conn.compute.server_interfaces(server))
    if not any(i.net_id == net for i in have):
        conn.compute.create_server_interface(server, net_id=net)
    return list(conn.compute.server_interfaces(server))

handle(events.pop(0)[1])
started = time.process_time()
for _, body in events:
    assert any(i.net_id == net for i in handle(body))
print(json.dumps({"cpu_s": time.process_time() - started, "events": len(events)}))
"""


def function_args() -> list[str]:
    """``python`` arguments of the function's run (process time)."""
    return ["-c", FUNCTION_RUN, "time"]


def peer_args(env: dict[str, str]) -> list[str]:
    """``python`` arguments of the peer's run, aimed at the bench's emulator."""
    endpoint = f"{env['NICATTACH_ECS_ENDPOINT']}/v2.1/{env['NICATTACH_PROJECT_ID']}"
    return ["-c", PEER_RUN, endpoint, env["NICATTACH_TOKEN"], scale.STORAGE_NET]


def cpu_env(bench: Any) -> dict[str, str]:
    env = {**os.environ, **bench.env, "NICATTACH_LOG_LEVEL": "INFO"}
    env.pop("NICATTACH_CONCURRENCY", None)
    return env


def peer_cpu(bench: Any, args: Any, work: Path) -> dict[str, Any]:
    n, repeats = args.cpu_events, max(1, args.cpu_repeats)
    env = cpu_env(bench)
    runs: dict[str, list[float]] = {"function": [], "peer": []}
    sides = {"function": function_args(), "peer": peer_args(env)}
    for round_ in range(repeats):  # interleaved, alternating which side goes first
        order = ("function", "peer") if round_ % 2 == 0 else ("peer", "function")
        for side in order:
            runs[side].append(_cpu_run(bench, n, sides[side], env))
    function, peer = statistics.median(runs["function"]), statistics.median(runs["peer"])
    _profile(bench, n, env)
    out: dict[str, Any] = {
        "events": n,
        "repeats": repeats,
        "backend": bench.env["NICATTACH_BACKEND"],
        "function_cpu_ms_per_event": round(function, 3),
        "peer_cpu_ms_per_event": round(peer, 3),
        "function_cpu_ms_runs": runs["function"],
        "peer_cpu_ms_runs": runs["peer"],
        "share_of_peer": round(function / peer, 3),
        "share_of_peer_by_round": [
            round(f / p, 3) for f, p in zip(runs["function"], runs["peer"], strict=True)
        ],
    }
    if args.callgrind_events > 0 and shutil.which("valgrind"):
        from bench.callgrind_event import per_event

        counts = {
            side: per_event(bench, args.callgrind_events, env, work, argv, side)
            for side, argv in sides.items()
        }
        out["callgrind_events"] = args.callgrind_events
        out["function_instructions_per_event"] = round(counts["function"])
        out["peer_instructions_per_event"] = round(counts["peer"])
        out["instructions_share_of_peer"] = round(counts["function"] / counts["peer"], 3)
    return out


def events(bench: Any, n: int) -> list[tuple[dict[str, str], str]]:
    """A warm-up event and ``n`` more, each naming a fresh server lacking its NIC."""
    made = []
    for _ in range(n + 1):
        headers, body = bench.event(bench.new_server())
        made.append((headers, body.decode()))
    return made


def _cpu_run(bench: Any, n: int, argv: list[str], env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env=env,
        input=json.dumps(events(bench, n)),
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return round(report["cpu_s"] / report["events"] * 1000, 3)


def _profile(bench: Any, n: int, env: dict[str, str]) -> None:
    """The function's run again under cProfile (CPU time): ``results/profile-cpu.txt``."""
    profiled = subprocess.run(
        [sys.executable, "-c", FUNCTION_RUN, "profile"],
        cwd=ROOT,
        env=env,
        check=True,
        input=json.dumps(events(bench, n)),
        capture_output=True,
        text=True,
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = profiled.stderr[profiled.stderr.find("   Ordered by") - 200 :]
    (RESULTS / "profile-cpu.txt").write_text(report)
