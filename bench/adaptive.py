"""Issue 23: concurrency that adapts to the API's limits, and CPU per event against a peer.

Sections (``python -m bench --sections adaptive,rate-limit,peer-cpu``):

- ``adaptive``: the function under functions-framework at its defaults (no
  ``NICATTACH_CONCURRENCY``: the built-in ceiling, the gate starting narrower); CTS
  batches of 1 and 50 servers at ``flat100``; the 50-server batch's time ÷ one server's.
- ``rate-limit``: the same process, the emulator's token bucket at ``--rate-limit``
  requests/s (burst: one second's worth) and ``flat100``; a batch of ``--rate-limit-servers``
  servers. The limit's own bound is (requests the API served) ÷ rate; the figures are the
  wall time ÷ that bound and the share of requests answered 429 (the emulator's log).
  ``NICATTACH_DEADLINE_S`` is raised to 300 s for this run only: the bound of 200
  servers on huawei-v1 (4 requests each, 40 s) is near the 50 s deadline, and what is
  measured here is the pace, not the deadline (which ``batches`` covers).
- ``peer-cpu``: CPU per event in a fresh process each, the emulator without latency,
  events one after the other: the function (``Service.handle``: parse, plan, the requests,
  the outcome event) and the peer, openstacksdk doing the same three requests for the same
  event (list the server's interfaces, attach the NIC, list again) after ``json.loads`` of
  it. The function's run is also profiled (``bench/results/profile-cpu.txt``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from bench import scale
from bench.proc import ROOT, FunctionProcess

SECTIONS = frozenset({"adaptive", "rate-limit", "peer-cpu"})
TARGETS = {
    "batch50_times_single_defaults": ("<=", 3.0),
    "rate_limited_times_bound": ("<=", 1.3),
    "rate_limited_share_429": ("<=", 0.05),
    "cpu_share_of_peer": ("<=", 0.25),
}
RESULTS = ROOT / "bench" / "results"


def run(args: Any, bench: Any, tmp: Path, results: dict[str, Any], sections: set[str]) -> None:
    out = results.setdefault("adaptive", {})
    if sections & {"adaptive", "rate-limit"}:
        env = {**bench.env, "NICATTACH_LOG_LEVEL": "WARNING", "NICATTACH_DEADLINE_S": "300"}
        env.pop("NICATTACH_CONCURRENCY", None)
        sc = scale.Scale(bench.admin)
        process = FunctionProcess(env, tmp / "function-adaptive.log")
        try:
            process.first_reply(
                {"Content-Type": "application/json"}, scale.cts_batch(sc.new_servers(1))
            )
            if "adaptive" in sections:
                _step("adaptive: batches of 1 and 50 at 'flat100', the defaults")
                out["batches"] = sc.batches(process.url, "flat100", [1, 50])
            if "rate-limit" in sections:
                n, rate = args.rate_limit_servers, args.rate_limit
                _step(f"adaptive: a batch of {n} against {rate:g} requests/s, 'flat100'")
                out["rate_limited"] = rate_limited(bench.admin, sc, process.url, n, rate)
        finally:
            process.stop()
    if "peer-cpu" in sections:
        _step(f"CPU per event: the function and the openstacksdk peer, {args.cpu_events} each")
        out["cpu"] = peer_cpu(bench, args.cpu_events)


def rate_limited(admin: Any, sc: scale.Scale, url: str, n: int, rate: float) -> dict[str, Any]:
    servers = sc.new_servers(n)
    body = scale.cts_batch(servers)
    admin.set_latency("flat100")
    admin.clear_requests()
    admin.set_rate_limit(rate)
    try:
        started = time.perf_counter()
        answer = requests.post(
            url, data=body, timeout=600, headers={"Content-Type": "application/json"}
        )
        wall = time.perf_counter() - started
    finally:
        admin.set_rate_limit(0)
        admin.set_latency("none")
    log = admin.requests_log()
    throttled = sum(1 for entry in log if entry["status"] == 429)
    start = min((entry["time"] for entry in log), default=0.0)
    by_second = [0] * (int(wall) + 2)
    for entry in log:
        if entry["status"] == 429:
            by_second[min(len(by_second) - 1, int(entry["time"] - start))] += 1
    served = len(log) - throttled
    bound = served / rate
    return {
        "servers": n,
        "rate": rate,
        "status": answer.status_code,
        "seconds": round(wall, 2),
        "requests": len(log),
        "answered_429": throttled,
        "served": served,
        "bound_s": round(bound, 2),
        "times_bound": round(wall / bound, 3),
        "share_429": round(throttled / len(log), 4) if log else 0.0,
        "answered_429_by_second": by_second,
        "attached_in_the_end": sc.attached(servers),
    }


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


def peer_cpu(bench: Any, n: int) -> dict[str, Any]:
    env = {**os.environ, **bench.env, "NICATTACH_LOG_LEVEL": "INFO"}
    env.pop("NICATTACH_CONCURRENCY", None)
    function = _cpu_run(bench, n, [sys.executable, "-c", FUNCTION_RUN, "time"], env)
    endpoint = f"{bench.env['NICATTACH_ECS_ENDPOINT']}/v2.1/{bench.env['NICATTACH_PROJECT_ID']}"
    command = [
        sys.executable,
        "-c",
        PEER_RUN,
        endpoint,
        bench.env["NICATTACH_TOKEN"],
        scale.STORAGE_NET,
    ]
    peer = _cpu_run(bench, n, command, env)
    profiled = subprocess.run(
        [sys.executable, "-c", FUNCTION_RUN, "profile"],
        cwd=ROOT,
        env=env,
        check=True,
        input=json.dumps(_events(bench, n)),
        capture_output=True,
        text=True,
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = profiled.stderr[profiled.stderr.find("   Ordered by") - 200 :]
    (RESULTS / "profile-cpu.txt").write_text(report)
    return {
        "events": n,
        "backend": bench.env["NICATTACH_BACKEND"],
        "function_cpu_ms_per_event": function,
        "peer_cpu_ms_per_event": peer,
        "share_of_peer": round(function / peer, 3),
    }


def _events(bench: Any, n: int) -> list[tuple[dict[str, str], str]]:
    events = []
    for _ in range(n + 1):
        headers, body = bench.event(bench.new_server())
        events.append((headers, body.decode()))
    return events


def _cpu_run(bench: Any, n: int, command: list[str], env: dict[str, str]) -> float:
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        input=json.dumps(_events(bench, n)),
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return round(report["cpu_s"] / report["events"] * 1000, 3)


def summary(results: dict[str, Any]) -> dict[str, float]:
    out = results.get("adaptive") or {}
    values: dict[str, float] = {}
    fifty = (out.get("batches") or {}).get("50")
    if fifty:
        values["batch50_times_single_defaults"] = fifty["times_single"]
    limited = out.get("rate_limited")
    if limited:
        values["rate_limited_times_bound"] = limited["times_bound"]
        values["rate_limited_share_429"] = limited["share_429"]
    if out.get("cpu"):
        values["cpu_share_of_peer"] = out["cpu"]["share_of_peer"]
    return values


def rows(results: dict[str, Any], target: Any) -> list[tuple[str, str, str]]:
    out = results.get("adaptive") or {}
    table: list[tuple[str, str, str]] = []
    batches = out.get("batches")
    if batches:
        one, fifty = batches["1"], batches["50"]
        table.append(
            (
                "batch N=1 / 50, 'flat100', the defaults (adaptive, ceiling 32)",
                f"{one['seconds']} / {fifty['seconds']} s = {fifty['times_single']}× N=1; "
                f"HTTP {fifty['status']}, {fifty['attached_in_the_end']}/50 attached",
                target(results, "batch50_times_single_defaults"),
            )
        )
    limited = out.get("rate_limited")
    if limited:
        what = f"batch N={limited['servers']}, 'flat100', limit {limited['rate']:g} req/s"
        table.append(
            (
                f"{what}: time ÷ bound",
                f"{limited['seconds']} s ÷ {limited['bound_s']} s ({limited['served']} served ÷ "
                f"{limited['rate']:g}/s) = {limited['times_bound']}; HTTP {limited['status']}, "
                f"{limited['attached_in_the_end']}/{limited['servers']} attached",
                target(results, "rate_limited_times_bound"),
            )
        )
        table.append(
            (
                f"{what}: answered 429",
                f"{limited['answered_429']} of {limited['requests']} = {limited['share_429']:.1%}",
                target(results, "rate_limited_share_429"),
            )
        )
    cpu = out.get("cpu")
    if cpu:
        table.append(
            (
                f"CPU per event, in-process, {cpu['events']} events: function ({cpu['backend']}) "
                "/ openstacksdk peer",
                f"{cpu['function_cpu_ms_per_event']} / {cpu['peer_cpu_ms_per_event']} ms = "
                f"{cpu['share_of_peer']}×",
                target(results, "cpu_share_of_peer"),
            )
        )
    return table


def _step(what: str) -> None:
    print(f"bench: {what} …", file=sys.stderr, flush=True)
