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


PEER_PORTS_RUN = (
    PEER_RUN.replace(
        "token_endpoint.Token(endpoint, token))",
        "token_endpoint.Token(endpoint, token),"
        " additional_headers={'X-Project-Id': endpoint.rsplit('/', 1)[1]})",
    )
    .replace(
        "compute_endpoint_override=endpoint)",
        "compute_endpoint_override=endpoint, network_endpoint_override=sys.argv[4])",
    )
    .replace(
        """    if not any(i.net_id == net for i in have):
        conn.compute.create_server_interface(server, net_id=net)
    return list(conn.compute.server_interfaces(server))""",
        """    name = "peer-" + server
    ports = list(conn.network.ports(name=name))
    if not any(i.net_id == net for i in have):
        port = ports[0] if ports else conn.network.create_port(network_id=net, name=name)
        conn.compute.create_server_interface(server, port_id=port.id)
    list(conn.network.ports(name=name))
    return list(conn.compute.server_interfaces(server))""",
    )
)
"""The peer's port-first flow, the same work as the function's with ``NICATTACH_OWNERSHIP=port``
on Nova: list the NICs and the named port, create the port, attach it by id, read both
again (6 requests)."""


def function_args() -> list[str]:
    """``python`` arguments of the function's run (process time)."""
    return ["-c", FUNCTION_RUN, "time"]


def peer_args(env: dict[str, str]) -> list[str]:
    """``python`` arguments of the peer's run, aimed at the bench's emulator."""
    endpoint = f"{env['NICATTACH_ECS_ENDPOINT']}/v2.1/{env['NICATTACH_PROJECT_ID']}"
    return ["-c", PEER_RUN, endpoint, env["NICATTACH_TOKEN"], scale.STORAGE_NET]


def peer_ports_args(env: dict[str, str]) -> list[str]:
    """The port-first peer's arguments: the Nova endpoint, then the network endpoint."""
    argv = peer_args(env)
    argv[1] = PEER_PORTS_RUN
    return [*argv, env["NICATTACH_NETWORK_ENDPOINT"].rstrip("/") + "/v2.0"]


def cpu_env(bench: Any) -> dict[str, str]:
    env = {**os.environ, **bench.env, "NICATTACH_LOG_LEVEL": "INFO"}
    env.pop("NICATTACH_CONCURRENCY", None)
    return env


def peer_cpu(bench: Any, args: Any, work: Path) -> dict[str, Any]:
    """Four sides, interleaved: the function at the backend's defaults and the peer's Nova
    attach by network (the section's figure); the function making its port first
    (``NICATTACH_OWNERSHIP=port``, what huawei-v1 does by default) and the peer doing so."""
    n, repeats = args.cpu_events, max(1, args.cpu_repeats)
    env = cpu_env(bench)
    ports_env = {**env, "NICATTACH_OWNERSHIP": "port"}
    sides: dict[str, tuple[list[str], dict[str, str]]] = {
        "function": (function_args(), env),
        "peer": (peer_args(env), env),
        "peer_ports": (peer_ports_args(env), env),
    }
    if bench.env["NICATTACH_BACKEND"] == "nova":  # on huawei-v1 the defaults make ports
        sides["function_ports"] = (function_args(), ports_env)
    runs: dict[str, list[float]] = {side: [] for side in sides}
    for round_ in range(repeats):  # interleaved, the order reversed every other round
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for side in order:
            runs[side].append(_cpu_run(bench, n, *sides[side]))
    median = {side: statistics.median(values) for side, values in runs.items()}
    _profile(bench, n, env)
    mine = "function_ports" if "function_ports" in sides else "function"
    out: dict[str, Any] = {
        "events": n,
        "repeats": repeats,
        "backend": bench.env["NICATTACH_BACKEND"],
        "function_cpu_ms_per_event": round(median["function"], 3),
        "peer_cpu_ms_per_event": round(median["peer"], 3),
        "share_of_peer": round(median["function"] / median["peer"], 3),
        "share_of_peer_by_round": _ratios(runs["function"], runs["peer"]),
        "ports": {
            "function_cpu_ms_per_event": round(median[mine], 3),
            "peer_cpu_ms_per_event": round(median["peer_ports"], 3),
            "share_of_peer": round(median[mine] / median["peer_ports"], 3),
            "share_of_peer_by_round": _ratios(runs[mine], runs["peer_ports"]),
        },
        "cpu_ms_runs": runs,
    }
    if args.callgrind_events > 0 and shutil.which("valgrind"):
        from bench.callgrind_event import per_event

        k = args.callgrind_events
        counts = {
            side: per_event(bench, k, e, work, argv, side) for side, (argv, e) in sides.items()
        }
        out["callgrind_events"] = k
        out["instructions_per_event"] = {side: round(c) for side, c in counts.items()}
        out["instructions_share_of_peer"] = round(counts["function"] / counts["peer"], 3)
        out["ports"]["instructions_share_of_peer"] = round(counts[mine] / counts["peer_ports"], 3)
    return out


def _ratios(mine: list[float], theirs: list[float]) -> list[float]:
    return [round(m / t, 3) for m, t in zip(mine, theirs, strict=True)]


def events(bench: Any, n: int) -> list[tuple[dict[str, str], str]]:
    """A warm-up event and ``n`` more, each naming a fresh server lacking its NIC."""
    made = []
    for _ in range(n + 1):
        headers, body = bench.event(bench.new_server())
        made.append((headers, body.decode()))
    return made


def _cpu_run(bench: Any, n: int, argv: list[str], env: dict[str, str]) -> float:
    """Process time per event (ms) of one fresh process handling ``n`` events."""
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
