"""Issue 23: concurrency that adapts to the API's limits, and CPU per event against a peer.

Sections (``python -m bench --sections adaptive,rate-limit,peer-cpu``):

- ``adaptive``: the function under functions-framework at its defaults (no
  ``NICATTACH_CONCURRENCY``: the built-in ceiling, the gate starting narrower); CTS
  batches of 1 and 50 servers at ``flat100``; the 50-server batch's time ÷ one server's.
- ``rate-limit``: the same process, the emulator's token bucket at ``--rate-limit``
  requests/s (burst: one second's worth) and ``flat100``; a batch of ``--rate-limit-servers``
  servers. Each API has its own bucket (compute or ECS v1, and the network API), so the
  limit's own bound is (the requests the busiest API served) ÷ rate; the figures are the
  wall time ÷ that bound and the share of requests answered 429 (the emulator's log).
  ``NICATTACH_DEADLINE_S`` is raised to 300 s for this run only: the bound of 200
  servers on huawei-v1 (5 limited requests each, 50 s) is at the 50 s deadline, and what is
  measured here is the pace, not the deadline (which ``batches`` covers).
- ``peer-cpu``: CPU per event against the openstacksdk peer, in process time (median of
  interleaved runs) and in instructions (callgrind): ``bench/peer_cpu.py``. The
  function's run is also profiled (``bench/results/profile-cpu.txt``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import requests

from bench import scale
from bench.peer_cpu import peer_cpu
from bench.proc import ROOT, FunctionProcess

SECTIONS = frozenset({"adaptive", "rate-limit", "peer-cpu"})
TARGETS = {
    "batch50_times_single_defaults": ("<=", 3.0),
    "rate_limited_times_bound": ("<=", 1.3),
    "rate_limited_share_429": ("<=", 0.05),
    "cpu_share_of_peer": ("<=", 0.25),
    "instructions_share_of_peer": ("<=", 0.25),
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
        out["cpu"] = peer_cpu(bench, args, tmp)


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
    # each API has its own bucket (compute or ECS v1; the network API, /v2.0, ports first):
    # they pace in parallel, so the bound is the busiest API's served requests ÷ rate
    served_by_api: dict[str, int] = {}
    for entry in log:
        if entry["status"] != 429:
            api = "network" if str(entry.get("path", "")).startswith("/v2.0") else "compute"
            served_by_api[api] = served_by_api.get(api, 0) + 1
    served = max(served_by_api.values(), default=0)
    bound = served / rate
    return {
        "servers": n,
        "rate": rate,
        "status": answer.status_code,
        "seconds": round(wall, 2),
        "requests": len(log),
        "answered_429": throttled,
        "served_by_api": served_by_api,
        "served": served,
        "bound_s": round(bound, 2),
        "times_bound": round(wall / bound, 3),
        "share_429": round(throttled / len(log), 4) if log else 0.0,
        "answered_429_by_second": by_second,
        "attached_in_the_end": sc.attached(servers),
    }


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
        if "instructions_share_of_peer" in out["cpu"]:
            values["instructions_share_of_peer"] = out["cpu"]["instructions_share_of_peer"]
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
                f"CPU per event (process time, median of {cpu.get('repeats', 1)} interleaved "
                f"runs of {cpu['events']} events): function ({cpu['backend']}) / openstacksdk peer",
                f"{cpu['function_cpu_ms_per_event']} / {cpu['peer_cpu_ms_per_event']} ms = "
                f"{cpu['share_of_peer']}× (rounds: {cpu.get('share_of_peer_by_round')})",
                target(results, "cpu_share_of_peer"),
            )
        )
        ports = cpu.get("ports")
        if ports:
            table.append(
                (
                    "… the same work, ports first (function: NICATTACH_OWNERSHIP=port; "
                    "peer: create the port, attach it by id)",
                    f"{ports['function_cpu_ms_per_event']} / {ports['peer_cpu_ms_per_event']} ms"
                    f" = {ports['share_of_peer']}× (rounds: {ports['share_of_peer_by_round']})",
                    "",
                )
            )
        counts = cpu.get("instructions_per_event")
        if counts:
            mine = counts.get("function_ports", counts["function"])
            table.append(
                (
                    f"instructions per event (callgrind, {cpu['callgrind_events']} events): "
                    "function / peer; ports first",
                    f"{counts['function'] / 1e6:.2f} M / {counts['peer'] / 1e6:.2f} M = "
                    f"{cpu['instructions_share_of_peer']}×; {mine / 1e6:.2f} M / "
                    f"{counts['peer_ports'] / 1e6:.2f} M = "
                    f"{cpu['ports']['instructions_share_of_peer']}×",
                    target(results, "instructions_share_of_peer"),
                )
            )
    return table


def _step(what: str) -> None:
    print(f"bench: {what} …", file=sys.stderr, flush=True)
