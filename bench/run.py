"""``python -m bench``: run every benchmark against an emulator started here; table + JSON.

The function runs as it does in production, under ``functions-framework`` (gunicorn,
one worker, ``THREADS=16`` so that 16 senders are served at once); the emulator runs
in a process of its own (``python -m emulator``; its ``latency_ms`` fault adds the 20 ms;
a second throughput run uses its ``cloud`` latency profile: reads ~100 ms, attach 1–3 s).
Each event names a fresh ACTIVE server that lacks its policy NIC, so every event does
the full work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import adaptive, scale
from bench.harness import PRIVATE_NET, RESULTS, STORAGE_NET, TOKEN, Bench
from bench.options import parse_args
from bench.proc import (
    ROOT,
    EmulatorProcess,
    FunctionProcess,
    functiongraph_invoke,
    peak_rss_mb,
)
from bench.report import DEFAULT_CONCURRENCY, api_seconds_per_event, check_targets
from bench.table import table


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "backend": args.backend,
        "ownership": args.ownership,
    }
    with tempfile.TemporaryDirectory() as tmp:
        emulator = EmulatorProcess(Path(tmp) / "emulator.log")
        try:
            bench = Bench(
                emulator.url,
                Path(tmp),
                emulator.popen.pid,
                backend=args.backend,
                ownership=args.ownership,
            )
            run_all(args, bench, Path(tmp), results)
        finally:
            emulator.stop()
    results["targets"] = check_targets(results)
    return results


def run_all(args: argparse.Namespace, bench: Bench, tmp: Path, results: dict[str, Any]) -> None:
    sections = set(args.sections.split(","))
    if "base" in sections:
        run_base(args, bench, tmp, results)
    if "round-trips" in sections or "batches" in sections:
        run_scale(args, bench, tmp, results, sections)
    if "fit" in sections:  # before the sweeps: they move the emulator's clock on
        run_fit(args, bench, tmp, results)
    if "sweep" in sections:
        run_sweeps(args, bench, results)
    if sections & adaptive.SECTIONS:
        adaptive.run(args, bench, tmp, results, sections)


def run_fit(args: argparse.Namespace, bench: Bench, tmp: Path, results: dict[str, Any]) -> None:
    """FunctionGraph fit: ``handler(event, context)`` in a fresh process (no HTTP stack,
    ``NICATTACH_AUTH=functiongraph``, the token from the context, serverless.yml's
    concurrency): time and peak RSS of the largest batch and of a TIMER sweep whose window
    holds ``--fit-sweep`` servers that all lack their NIC (the worst case for a window)."""
    concurrency = deployed_concurrency()
    env = {
        **bench.env,
        "NICATTACH_AUTH": "functiongraph",
        "NICATTACH_LOG_LEVEL": "WARNING",
        "NICATTACH_CONCURRENCY": str(concurrency),
    }
    env.pop("NICATTACH_TOKEN", None)
    env.pop("THREADS", None)
    sc = scale.Scale(bench.admin)
    log = tmp / "functiongraph.log"
    out: dict[str, Any] = {"concurrency": concurrency}
    n = max(int(x) for x in args.batch_sizes.split(","))
    for profile in ("flat100", "cloud"):
        step(f"FunctionGraph handler: CTS batch of {n}, latency '{profile}'")
        servers = sc.new_servers(n)
        bench.admin.set_latency(profile, **({"seed": 16} if profile == "cloud" else {}))
        try:
            event = json.loads(scale.cts_batch(servers))
            out[f"batch_{profile}"] = functiongraph_invoke(env, json.dumps(event), TOKEN, log)
        finally:
            bench.admin.set_latency("none")
        out[f"batch_{profile}"]["servers"] = n
    step(f"FunctionGraph handler: TIMER sweep, {args.fit_sweep} servers in the window")
    bench.admin.reset()
    bench.admin.create_network("192.168.0.0/16", id=PRIVATE_NET, name="private")
    bench.admin.create_network("10.20.0.0/16", id=STORAGE_NET, name="storage")
    sc.new_servers(args.fit_sweep)
    timer = {
        "trigger_type": "TIMER",
        "trigger_name": "nic_autoattach_reconcile",
        "user_event": '{"nicattach": "reconcile"}',
    }
    bench.admin.set_latency("flat100")
    try:
        out["timer_sweep_flat100"] = functiongraph_invoke(env, json.dumps(timer), TOKEN, log)
    finally:
        bench.admin.set_latency("none")
    out["timer_sweep_flat100"]["servers"] = args.fit_sweep
    out["timer_sweep_flat100"]["attached"] = sc.attached_count()
    results["fit"] = out


def deployed_concurrency() -> int:
    """``NICATTACH_CONCURRENCY`` as serverless.yml deploys it (else the default)."""
    import yaml

    document = yaml.safe_load((ROOT / "serverless.yml").read_text())
    for function in document["functions"].values():
        value = ((function.get("environment") or {}).get("variables") or {}).get(
            "NICATTACH_CONCURRENCY"
        )
        if value is not None:
            return int(value)
    return DEFAULT_CONCURRENCY


def run_scale(
    args: argparse.Namespace, bench: Bench, tmp: Path, results: dict[str, Any], sections: set[str]
) -> None:
    """Round trips per event and batch times, through the function under functions-framework
    (one process per concurrency: serverless.yml's, and the built-in default)."""
    sizes = [int(n) for n in args.batch_sizes.split(",")]
    settings = [deployed_concurrency()]
    if DEFAULT_CONCURRENCY not in settings:
        settings.append(DEFAULT_CONCURRENCY)
    sc = scale.Scale(bench.admin)
    for concurrency in settings:
        env = {
            **bench.env,
            "NICATTACH_CONCURRENCY": str(concurrency),
            "NICATTACH_LOG_LEVEL": "WARNING",
        }
        process = FunctionProcess(env, tmp / "function.log")
        try:
            process.first_reply(
                {"Content-Type": "application/json"}, scale.cts_batch(sc.new_servers(1))
            )
            if "round-trips" in sections and "round_trips" not in results:
                step("round trips and requests per event (single-server CTS trace)")
                results["round_trips"] = {
                    "tags_in_event": sc.round_trips(process.url, with_tags=True),
                    "tags_read": sc.round_trips(process.url, with_tags=False),
                }
            if "batches" not in sections:
                continue
            runs = results.setdefault("batches", {}).setdefault(str(concurrency), {})
            wanted = sizes if concurrency == settings[0] else [sizes[0], 50, sizes[-1]]
            for profile in ("flat100", "cloud"):
                step(f"batches N={wanted}, concurrency {concurrency}, latency '{profile}'")
                runs[profile] = sc.batches(process.url, profile, sorted(set(wanted)))
        finally:
            process.stop()
    if "batches" in results:
        results["batches_deployed_concurrency"] = settings[0]


def run_sweeps(args: argparse.Namespace, bench: Bench, results: dict[str, Any]) -> None:
    """Window vs full sweeps of seeded fleets, in this process (``Service.reconcile``)."""
    from function import logs
    from function.app.wiring import build_service
    from function.config import Settings

    env = {
        **bench.env,
        "NICATTACH_LOG_LEVEL": "WARNING",
        "NICATTACH_CONCURRENCY": str(deployed_concurrency()),
    }
    env.pop("THREADS", None)
    logs.configure("WARNING")
    service = build_service(Settings.from_env(env))
    sc = scale.Scale(bench.admin)
    out: dict[str, Any] = {
        "budget_s": scale.SWEEP_BUDGET_S,
        "window_s": service.settings.sweep_window_s,
        "concurrency": service.settings.concurrency,
    }
    try:
        for size in (int(n) for n in args.sweep_fleets.split(",")):
            fleet: dict[str, Any] = {}
            for full in (False, True):
                # the window at 100 ms always; a full pass of a large fleet at a lower latency
                large = full and size > args.sweep_flat100_max
                read_ms = args.sweep_large_latency_ms if large else 100.0
                latency = {"read_ms": read_ms, "attach_ms": read_ms, "detach_ms": read_ms}
                kind = "full" if full else "window"
                step(f"sweep of {size} servers, 1 % new, {kind}, {read_ms:g} ms per call")
                new, now = sc.seed_fleet(size)
                fleet["new"] = new
                fleet[kind] = {**sc.sweep(service, full, now, latency), "latency_ms": read_ms}
            out[str(size)] = fleet
    finally:
        service.session.close()
        bench.admin.reset()
        bench.admin.create_network("192.168.0.0/16", id=PRIVATE_NET, name="private")
        bench.admin.create_network("10.20.0.0/16", id=STORAGE_NET, name="storage")
    results["sweeps"] = out


def run_base(args: argparse.Namespace, bench: Bench, tmp: Path, results: dict[str, Any]) -> None:
    step("import times")
    results["imports"] = bench.imports(args.import_runs)
    step("cold start")
    results["cold_start"] = bench.cold_starts(args.cold_runs)
    process = FunctionProcess(bench.env, tmp / "function.log")
    try:
        process.first_reply(*bench.event(bench.new_server()))
        step("requests per event")
        results["requests_per_event"] = {
            "tags_in_event": bench.requests_per_event(process.url, with_tags=True),
            "tags_read": bench.requests_per_event(process.url, with_tags=False),
        }
        step("CPU per event")
        results["cpu"] = bench.cpu_per_event(process, args.cpu_events)
        results["cpu"]["noop_function_cpu_ms_per_request"] = bench.noop_cpu(args.cpu_events)
        step(f"throughput ({args.senders} senders, {args.latency * 1000:.0f} ms per request)")
        per_event = results["requests_per_event"]["tags_in_event"]["total"]
        results["throughput"] = bench.throughput(
            process, args.events, args.senders, args.latency, per_event
        )
        if args.cloud_events:
            step(f"throughput ({args.senders} senders, emulator latency profile 'cloud')")
            seconds = api_seconds_per_event(
                results["requests_per_event"]["tags_in_event"]["by_route"],
                bench.admin.set_latency("cloud"),
            )
            results["cloud_throughput"] = bench.throughput(
                process, args.cloud_events, args.senders, 0.0, seconds, profile="cloud"
            )
        results["rss"] = {
            "peak_rss_mb": round(peak_rss_mb(process.worker_pid()), 1),
            "arbiter_peak_rss_mb": round(peak_rss_mb(process.popen.pid), 1),
        }
    finally:
        process.stop()
    if args.profile:
        step("profile")
        results["profile_top"] = bench.profile(args.cpu_events)


def step(what: str) -> None:
    print(f"bench: {what} …", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, description=__doc__.split("\n")[0])
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = run(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten: {args.output}")
    return 0
