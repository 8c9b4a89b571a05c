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
import cProfile
import io
import json
import os
import platform
import pstats
import queue
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from bench import adaptive, scale
from bench.imports import HTTP_STACK, import_seconds, importtime_by_package
from bench.proc import (
    ROOT,
    EmulatorProcess,
    FunctionProcess,
    cpu_seconds,
    functiongraph_cold_start,
    functiongraph_invoke,
    peak_rss_mb,
)
from emulator.client import AdminClient

PROJECT = "0605767a5a80d5762fe6c0125d3c5b0e"
TOKEN = "emulator-token"
PRIVATE_NET = "5b1f2c3d-0a4e-4f6b-9c8d-7e6f5a4b3c2d"
STORAGE_NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
TAGS = ["role=db", "env=prod"]
POLICY = f"""version: 1
rules:
  - name: db-storage
    when: {{role: db}}
    attach:
      - net_id: {STORAGE_NET}
"""
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}")
"""Server and port ids; ECS v1 job ids (32 hex digits)."""
RESULTS = ROOT / "bench" / "results"
TARGETS = {
    "import_over_functions_framework_ms": ("<=", 60.0),
    "cold_start_s": ("<=", 0.30),
    "requests_per_event_tags_in_event": ("<=", 3.0),
    "requests_per_event_tags_read": ("<=", 4.0),
    "cpu_ms_per_event": ("<=", 2.0),
    "throughput_share_of_bound": (">=", 0.85),
    "peak_rss_mb": ("<=", 60.0),
    # issue 16
    "round_trips_tags_in_event": ("<=", 3.0),
    "round_trips_tags_read": ("<=", 3.0),
    "batch50_times_single_flat100": ("<=", 3.0),
    "batch200_finished_flat100": (">=", 1.0),
    "batch200_finished_cloud": (">=", 1.0),
    "sweep_window_within_one_invocation": (">=", 1.0),
    "sweep_window_checks_only_new": (">=", 1.0),
}
#: The built-in NICATTACH_CONCURRENCY (the adaptive gate's ceiling).
DEFAULT_CONCURRENCY = 32


#: huawei-v1 pays one job poll per attach, and reads tags with a call of their own.
BACKEND_TARGETS = {
    # ports first (the default there): list ∥ ports, port, NIC job, its poll, the
    # delete_on_termination mark ∥ the re-read: one round trip more than the bare job path
    "huawei-v1": {
        "round_trips_tags_in_event": ("<=", 5.0),
        "round_trips_tags_read": ("<=", 6.0),
        "requests_per_event_tags_in_event": ("<=", 8.0),
        "requests_per_event_tags_read": ("<=", 10.0),
    },
}


class Bench:
    def __init__(
        self, emulator_url: str, work: Path, emulator_pid: int | None = None,
        backend: str = "nova", ownership: str = "auto",
    ) -> None:  # fmt: skip
        self.admin = AdminClient(emulator_url)
        self.emulator_pid = emulator_pid
        self.work = work
        (work / "policy.yaml").write_text(POLICY)
        self.admin.create_network("192.168.0.0/16", id=PRIVATE_NET, name="private")
        self.admin.create_network("10.20.0.0/16", id=STORAGE_NET, name="storage")
        self.env = {
            "NICATTACH_POLICY": str(work / "policy.yaml"),
            "NICATTACH_ECS_ENDPOINT": emulator_url,
            "NICATTACH_NETWORK_ENDPOINT": emulator_url,
            "NICATTACH_TOKEN": TOKEN,
            "NICATTACH_PROJECT_ID": PROJECT,
            "NICATTACH_LOG_LEVEL": "INFO",
            "NICATTACH_BACKEND": backend,
            "NICATTACH_OWNERSHIP": ownership,
            "THREADS": "16",
        }
        self.seq = 0

    # -- events --------------------------------------------------------------

    def new_server(self) -> str:
        server = self.admin.create_server(PROJECT, tags=TAGS, interfaces=[{"net_id": PRIVATE_NET}])
        return str(server["id"])

    def event(self, server_id: str, with_tags: bool = True) -> tuple[dict[str, str], bytes]:
        """A binary-mode CloudEvent, as a Knative broker delivers it."""
        self.seq += 1
        data: dict[str, Any] = {"server_id": server_id, "project_id": PROJECT}
        if with_tags:
            data["tags"] = TAGS
        headers = {
            "ce-specversion": "1.0", "ce-id": f"bench-{self.seq}", "ce-source": "/bench",
            "ce-type": "com.example.server.created", "Content-Type": "application/json",
        }  # fmt: skip
        return headers, json.dumps(data).encode()

    def send(self, session: requests.Session, url: str, server_id: str, tags: bool = True) -> int:
        headers, body = self.event(server_id, tags)
        return session.post(url, data=body, headers=headers, timeout=60).status_code

    # -- measurements ----------------------------------------------------------

    def imports(self, runs: int) -> dict[str, Any]:
        ff = import_seconds("functions_framework", self.env, runs)
        main = import_seconds("function.main", self.env, runs)
        fg = import_seconds("function.main", self.env, runs, blocked=HTTP_STACK)
        return {
            "functions_framework_ms": round(ff * 1000, 1),
            "function_main_ms": round(main * 1000, 1),
            "function_main_without_http_stack_ms": round(fg * 1000, 1),
            "import_over_functions_framework_ms": round((main - ff) * 1000, 1),
            "importtime_self_ms_by_package": importtime_by_package("function.main", self.env),
            "runs": runs,
        }

    def cold_starts(self, runs: int) -> dict[str, Any]:
        """functions-framework serving our function, serving a no-op (the floor), and the
        FunctionGraph entry (import + one ``handler`` call, no HTTP stack)."""
        ours, floor, fg = [], [], []
        log = self.work / "function.log"
        noop = {"source": "bench/noop_function.py", "target": "noop"}
        for _ in range(runs):
            for samples, kwargs in ((ours, {}), (floor, noop)):
                process = FunctionProcess(self.env, log, **kwargs)
                try:
                    samples.append(process.first_reply(*self.event(self.new_server())))
                finally:
                    process.stop()
            event = {"server_id": self.new_server(), "project_id": PROJECT, "tags": TAGS}
            fg.append(functiongraph_cold_start(self.env, json.dumps(event), log))
        return {
            "cold_start_s": round(statistics.median(ours), 3),
            "noop_function_cold_start_s": round(statistics.median(floor), 3),
            "functiongraph_handler_cold_start_s": round(statistics.median(fg), 3),
            "samples_s": [round(s, 3) for s in ours],
        }

    def noop_cpu(self, n: int) -> float:
        """CPU ms per request of functions-framework serving a no-op: the framework's share."""
        process = FunctionProcess(self.env, self.work / "function.log",
                                  source="bench/noop_function.py", target="noop")  # fmt: skip
        try:
            headers, body = self.event(self.new_server())
            process.first_reply(headers, body)
            pid = process.worker_pid()
            with requests.Session() as session:
                before = cpu_seconds(pid)
                for _ in range(n):
                    session.post(process.url, data=body, headers=headers, timeout=10)
                return round((cpu_seconds(pid) - before) / n * 1000, 2)
        finally:
            process.stop()

    def requests_per_event(self, url: str, with_tags: bool, n: int = 5) -> dict[str, Any]:
        servers = [self.new_server() for _ in range(n)]
        self.admin.clear_requests()
        with requests.Session() as session:
            statuses = [self.send(session, url, s, with_tags) for s in servers]
        assert statuses == [200] * n, statuses
        routes = Counter(
            f"{r['method']} {UUID.sub('{id}', r['path'].replace(PROJECT, '{project}'))}"
            for r in self.admin.requests_log()
        )
        return {"total": sum(routes.values()) / n,
                "by_route": {k: v / n for k, v in sorted(routes.items())}}  # fmt: skip

    def cpu_per_event(self, process: FunctionProcess, n: int) -> dict[str, Any]:
        servers = [self.new_server() for _ in range(n)]
        pid = process.worker_pid()
        with requests.Session() as session:
            self.send(session, process.url, self.new_server())  # connection up
            before, started = cpu_seconds(pid), time.perf_counter()
            statuses = [self.send(session, process.url, s) for s in servers]
            wall, cpu = time.perf_counter() - started, cpu_seconds(pid) - before
        assert statuses == [200] * n, Counter(statuses)
        return {"cpu_ms_per_event": round(cpu / n * 1000, 2),
                "sequential_ms_per_event": round(wall / n * 1000, 2), "events": n}  # fmt: skip

    def throughput(
        self, process: FunctionProcess, n: int, senders: int, latency: float, per_event: float,
        profile: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Events per second with ``senders`` at once; each request takes ``latency`` s, or
        (with ``profile``) what the emulator's latency profile of that name says, and then
        ``per_event`` is the seconds of API time one event needs."""
        work: queue.SimpleQueue[str] = queue.SimpleQueue()
        for _ in range(n):
            work.put(self.new_server())
        statuses: list[int] = []
        start = threading.Barrier(senders + 1)

        def sender() -> None:
            with requests.Session() as session:
                self.send(session, process.url, self.new_server())  # connection up, warm
                start.wait()
                while True:
                    try:
                        server_id = work.get_nowait()
                    except queue.Empty:
                        return
                    statuses.append(self.send(session, process.url, server_id))

        threads = [threading.Thread(target=sender) for _ in range(senders)]
        for thread in threads:
            thread.start()
        pid = process.worker_pid()
        if profile:
            self.admin.set_latency(profile)
        else:
            self.admin.set_faults(latency_ms=latency * 1000)
        try:
            start.wait()
            before, started, own = cpu_seconds(pid), time.perf_counter(), time.process_time()
            emulator_before = cpu_seconds(self.emulator_pid) if self.emulator_pid else 0.0
            for thread in threads:
                thread.join()
            wall, cpu = time.perf_counter() - started, cpu_seconds(pid) - before
            own = time.process_time() - own
            emulator_cpu = (
                cpu_seconds(self.emulator_pid) - emulator_before if self.emulator_pid else 0.0
            )
        finally:
            self.admin.set_faults(latency_ms=0)
            self.admin.set_latency("none")
        assert statuses == [200] * n, Counter(statuses)
        bound = senders / (per_event if profile else per_event * latency)
        rate = n / wall
        return {
            "events_per_s": round(rate, 1), "bound_events_per_s": round(bound, 1),
            "throughput_share_of_bound": round(rate / bound, 3), "senders": senders,
            "latency_s": latency, "latency_profile": profile, "events": n,
            "cpu_ms_per_event": round(cpu / n * 1000, 2),
            "function_cpu_busy": round(cpu / wall, 2),
            "senders_cpu_busy": round(own / wall, 2),
            "emulator_cpu_busy": round(emulator_cpu / wall, 2),
        }  # fmt: skip

    def profile(self, n: int) -> list[dict[str, Any]]:
        """cProfile of ``Service.handle`` in this process: where the function's CPU goes."""
        os.environ.update(self.env)
        from function import main  # noqa: PLC0415 - needs the environment above

        events = [self.event(self.new_server()) for _ in range(n)]
        profiler = cProfile.Profile()
        with open(os.devnull, "w") as devnull:
            stderr, sys.stderr = sys.stderr, devnull  # the function logs to the current stderr
            try:
                main.SERVICE.handle(*self.event(self.new_server()))  # connection up
                profiler.enable()
                for headers, body in events:
                    main.SERVICE.handle(headers, body)
                profiler.disable()
            finally:
                sys.stderr = stderr
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        (RESULTS / "profile.txt").write_text(out.getvalue())
        rows = []
        for (file, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
            where = f"{Path(file).name}:{line}({name})"
            rows.append({"function": where, "calls_per_event": round(calls / n, 1),
                         "tottime_ms_per_event": round(tottime / n * 1000, 3),
                         "cumtime_ms_per_event": round(cumtime / n * 1000, 3)})  # fmt: skip
        rows.sort(key=lambda row: -row["tottime_ms_per_event"])
        return rows[:15]


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "backend": args.backend,
        "ownership": args.ownership,
    }  # fmt: skip
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
    env = {**bench.env, "NICATTACH_AUTH": "functiongraph", "NICATTACH_LOG_LEVEL": "WARNING",
           "NICATTACH_CONCURRENCY": str(concurrency)}  # fmt: skip
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
    timer = {"trigger_type": "TIMER", "trigger_name": "nic_autoattach_reconcile",
             "user_event": '{"nicattach": "reconcile"}'}  # fmt: skip
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
        env = {**bench.env, "NICATTACH_CONCURRENCY": str(concurrency),
               "NICATTACH_LOG_LEVEL": "WARNING"}  # fmt: skip
        process = FunctionProcess(env, tmp / "function.log")
        try:
            process.first_reply({"Content-Type": "application/json"},
                                scale.cts_batch(sc.new_servers(1)))  # fmt: skip
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

    env = {**bench.env, "NICATTACH_LOG_LEVEL": "WARNING",
           "NICATTACH_CONCURRENCY": str(deployed_concurrency())}  # fmt: skip
    env.pop("THREADS", None)
    logs.configure("WARNING")
    service = build_service(Settings.from_env(env))
    sc = scale.Scale(bench.admin)
    out: dict[str, Any] = {"budget_s": scale.SWEEP_BUDGET_S,
                           "window_s": service.settings.sweep_window_s,
                           "concurrency": service.settings.concurrency}  # fmt: skip
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


def api_seconds_per_event(by_route: dict[str, float], profile: dict[str, Any]) -> float:
    """The mean API time one event spends under a latency profile (as the emulator
    answers ``/_admin/latency``): each route's calls per event × that kind's mean delay."""
    means = {"read": profile["read_ms"], "attach": sum(profile["attach_ms"]) / 2,
             "detach": profile["detach_ms"]}  # fmt: skip
    total_ms = 0.0
    for route, count in by_route.items():
        method, path = route.split(" ", 1)
        kind = "read"
        if method == "POST" and path.endswith(("/os-interface", "/nics")):
            kind = "attach"
        elif (method == "DELETE" and "/os-interface/" in path) or path.endswith("/nics/delete"):
            kind = "detach"
        total_ms += count * means[kind]
    return total_ms / 1000


def summary(results: dict[str, Any]) -> dict[str, float]:
    values: dict[str, float] = {}
    if "imports" in results:
        values.update(base_summary(results))
    if "round_trips" in results:
        rt = results["round_trips"]
        values["round_trips_tags_in_event"] = rt["tags_in_event"]["round_trips"]
        values["round_trips_tags_read"] = rt["tags_read"]["round_trips"]
    if "batches" in results:
        deployed = results["batches"][str(results["batches_deployed_concurrency"])]
        fifty = deployed["flat100"].get("50")
        if fifty:
            values["batch50_times_single_flat100"] = fifty["times_single"]
        for profile in ("flat100", "cloud"):
            runs = deployed[profile]
            if "200" in runs:
                values[f"batch200_finished_{profile}"] = float(batch_finished(runs["200"]))
    if "sweeps" in results:
        fleets = [v for k, v in results["sweeps"].items() if k.isdigit()]
        values["sweep_window_within_one_invocation"] = float(
            all(f["window"]["passes"] == 1 and f["window"]["complete"] for f in fleets)
        )
        values["sweep_window_checks_only_new"] = float(
            all(f["window"]["checked"] == f["new"] for f in fleets)
        )
    return {**values, **adaptive.summary(results)}


def batch_finished(run: dict[str, Any]) -> bool:
    """Every server attached: within the deadline, or after one redelivery of a 503."""
    if run["attached_in_the_end"] != run["servers"]:
        return False
    if run["status"] == 200:
        return run["seconds"] <= scale.DEADLINE_S + 5  # the reply leaves after the deadline
    return run["status"] == 503 and run.get("redelivery", {}).get("status") == 200


def base_summary(results: dict[str, Any]) -> dict[str, float]:
    rpe = results["requests_per_event"]
    return {
        "import_over_functions_framework_ms": results["imports"][
            "import_over_functions_framework_ms"
        ],
        "cold_start_s": results["cold_start"]["cold_start_s"],
        "requests_per_event_tags_in_event": rpe["tags_in_event"]["total"],
        "requests_per_event_tags_read": rpe["tags_read"]["total"],
        "cpu_ms_per_event": results["cpu"]["cpu_ms_per_event"],
        "throughput_share_of_bound": results["throughput"]["throughput_share_of_bound"],
        "peak_rss_mb": results["rss"]["peak_rss_mb"],
    }


def check_targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    checked = {}
    targets = {**TARGETS, **adaptive.TARGETS}
    targets.update(BACKEND_TARGETS.get(results.get("backend", "nova"), {}))
    for name, value in summary(results).items():
        op, limit = targets[name]
        met = value <= limit if op == "<=" else value >= limit
        checked[name] = {"value": value, "target": f"{op} {limit:g}", "met": met}
    return checked


def table(results: dict[str, Any]) -> str:
    rows = base_rows(results) if "imports" in results else []
    rows += round_trip_rows(results) + batch_rows(results) + fit_rows(results)
    rows += sweep_rows(results) + adaptive.rows(results, _target)
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    head = ("measure", "value", "target")
    lines = [" | ".join(h.ljust(w) for h, w in zip(head, width, strict=True))]
    lines.append("-|-".join("-" * w for w in width))
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, width, strict=True)) for row in rows]
    return "\n".join(lines)


Row = tuple[str, str, str]


def round_trip_rows(results: dict[str, Any]) -> list[Row]:
    rt = results.get("round_trips")
    if not rt:
        return []
    rows = []
    for key, what in (("tags_in_event", "tags in the event"), ("tags_read", "tags from the API")):
        entry = rt[key]
        parts = ", ".join(f"{n:g} {route}" for route, n in entry["by_route"].items())
        rows.append((f"one event, {what}: round trips (critical path) / requests",
                     f"{entry['round_trips']:g} (measured {entry['round_trips_measured']:g}) / "
                     f"{entry['requests']:g} ({parts}); "
                     f"{entry['seconds_at_flat100']} s at 100 ms",
                     _target(results, f"round_trips_{key}")))  # fmt: skip
    return rows


def batch_rows(results: dict[str, Any]) -> list[Row]:
    batches = results.get("batches")
    if not batches:
        return []
    deployed = str(results["batches_deployed_concurrency"])
    rows: list[Row] = []
    for concurrency, profiles in sorted(batches.items(), key=lambda kv: kv[0] != deployed):
        label = "as deployed" if concurrency == deployed else "built-in default"
        if concurrency == deployed and deployed == str(DEFAULT_CONCURRENCY):
            label = "as deployed: the default"
        for profile, runs in profiles.items():
            for n, run in sorted(runs.items(), key=lambda kv: int(kv[0])):
                target = ""
                if n == "50" and profile == "flat100":
                    met = run["times_single"] <= 3.0
                    target = (
                        _target(results, "batch50_times_single_flat100")
                        if (concurrency == deployed)
                        else f"<= 3 {'met' if met else 'MISSED'}"
                    )
                if n == "200":
                    done = batch_finished(run)
                    target = (
                        _target(results, f"batch200_finished_{profile}")
                        if concurrency == deployed
                        else f"finished {'met' if done else 'MISSED'}"
                    )
                rows.append((f"batch N={n}, '{profile}', concurrency {concurrency} ({label})",
                             _batch_value(run), target))  # fmt: skip
    return rows


def _batch_value(run: dict[str, Any]) -> str:
    said = ", ".join(f"{v} {k}" for k, v in sorted(run["outcomes"].items()))
    text = f"{run['seconds']} s = {run['times_single']}× N=1; HTTP {run['status']} ({said})"
    again = run.get("redelivery")
    if again:
        said = ", ".join(f"{v} {k}" for k, v in sorted(again["outcomes"].items()))
        text += f"; redelivery {again['seconds']} s, HTTP {again['status']} ({said})"
    return text + f"; {run['attached_in_the_end']}/{run['servers']} attached in the end"


def fit_rows(results: dict[str, Any]) -> list[Row]:
    fit = results.get("fit")
    if not fit:
        return []
    rows: list[Row] = []
    kinds = (("batch_flat100", "CTS batch, 'flat100'"), ("batch_cloud", "CTS batch, 'cloud'"),
             ("timer_sweep_flat100", "TIMER sweep, 'flat100'"))  # fmt: skip
    for key, what in kinds:
        run = fit[key]
        extra = f", {run['attached']} attached" if "attached" in run else ""
        raised = f", raised {run['raised']}" if run["raised"] else ""
        met = run["seconds"] < scale.SWEEP_BUDGET_S and not run["raised"]
        rows.append((f"FunctionGraph handler (fresh process, concurrency {fit['concurrency']}): "
                     f"{what}, {run['servers']} servers",
                     f"{run['seconds']:.2f} s, CPU {run['cpu_s']:.2f} s, peak RSS "
                     f"{run['maxrss_mb']:.0f} MB{extra}{raised}",
                     f"< {scale.SWEEP_BUDGET_S:g} s {'met' if met else 'MISSED'}"))  # fmt: skip
    return rows


def sweep_rows(results: dict[str, Any]) -> list[Row]:
    sweeps = results.get("sweeps")
    if not sweeps:
        return []
    rows: list[Row] = []
    for size, fleet in ((k, v) for k, v in sweeps.items() if k.isdigit()):
        for kind in ("window", "full"):
            run = fleet[kind]
            seconds = " + ".join(f"{s:g}" for s in run["pass_seconds"])
            value = (f"{run['seconds']} s ({run['passes']} pass{'es' if run['passes'] > 1 else ''}"
                     f"{': ' + seconds if run['passes'] > 1 else ''}), {run['checked']} checked, "
                     f"{run['requests']} requests ({run['list_requests']} list pages)"
                     f"{'' if run['complete'] else ', INCOMPLETE'}")  # fmt: skip
            target = ""
            if kind == "window":
                one = run["passes"] == 1 and run["complete"]
                only_new = run["checked"] == fleet["new"]
                target = (
                    f"one invocation {'met' if one else 'MISSED'}; checks only the "
                    f"{fleet['new']} new {'met' if only_new else 'MISSED'}"
                )
            rows.append((f"sweep {int(size):,} servers ({fleet['new']} new), {kind}, "
                         f"{run['latency_ms']:g} ms/call, concurrency {sweeps['concurrency']}",
                         value, target))  # fmt: skip
    return rows


def base_rows(results: dict[str, Any]) -> list[Row]:
    imports, tp = results["imports"], results["throughput"]
    rpe = results["requests_per_event"]
    rows = [
        ("import functions_framework (median)", f"{imports['functions_framework_ms']} ms", ""),
        ("import function.main (median)", f"{imports['function_main_ms']} ms", ""),
        ("  of which over functions_framework",
         f"{imports['import_over_functions_framework_ms']} ms",
         _target(results, "import_over_functions_framework_ms")),
        ("import function.main without flask (FunctionGraph)",
         f"{imports['function_main_without_http_stack_ms']} ms", ""),
        ("cold start: process start → first reply (median)",
         f"{results['cold_start']['cold_start_s']} s", _target(results, "cold_start_s")),
        ("  no-op function, same framework (floor)",
         f"{results['cold_start']['noop_function_cold_start_s']} s", ""),
        ("  FunctionGraph handler: start → handler returns",
         f"{results['cold_start']['functiongraph_handler_cold_start_s']} s", ""),
        ("requests/event, tags in event", _routes(rpe["tags_in_event"]),
         _target(results, "requests_per_event_tags_in_event")),
        ("requests/event, tags read from the API", _routes(rpe["tags_read"]),
         _target(results, "requests_per_event_tags_read")),
        ("CPU per event (sequential)", f"{results['cpu']['cpu_ms_per_event']} ms",
         _target(results, "cpu_ms_per_event")),
        ("  no-op function, same framework (floor)",
         f"{results['cpu']['noop_function_cpu_ms_per_request']} ms", ""),
        (f"throughput, {tp['senders']} senders, {tp['latency_s'] * 1000:.0f} ms/request",
         f"{tp['events_per_s']} ev/s of {tp['bound_events_per_s']} bound "
         f"({tp['throughput_share_of_bound']:.0%})", _target(results, "throughput_share_of_bound")),
        ("CPU per event under load", f"{tp['cpu_ms_per_event']} ms", ""),
        ("  CPU busy: function / senders / emulator (cores)",
         f"{tp['function_cpu_busy']} / {tp['senders_cpu_busy']} / {tp['emulator_cpu_busy']}", ""),
        *_cloud_rows(results),
        ("peak RSS, worker process", f"{results['rss']['peak_rss_mb']} MB",
         _target(results, "peak_rss_mb")),
    ]  # fmt: skip
    return rows


def _cloud_rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    cloud = results.get("cloud_throughput")
    if not cloud:
        return []
    return [(f"throughput, {cloud['senders']} senders, emulator 'cloud' latency",
             f"{cloud['events_per_s']} ev/s of {cloud['bound_events_per_s']} bound "
             f"({cloud['throughput_share_of_bound']:.0%})", "")]  # fmt: skip


def _routes(entry: dict[str, Any]) -> str:
    parts = [f"{count:g} {route.split(' ', 1)[0]} {route.split('/')[-1]}"
             for route, count in entry["by_route"].items()]  # fmt: skip
    return f"{entry['total']:g} ({', '.join(parts)})"


def _target(results: dict[str, Any], name: str) -> str:
    check = results["targets"][name]
    return f"{check['target']} {'met' if check['met'] else 'MISSED'}"


def step(what: str) -> None:
    print(f"bench: {what} …", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--import-runs", type=int, default=9)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--cpu-events", type=int, default=300)
    parser.add_argument("--events", type=int, default=640, help="events in the throughput run")
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.020)
    parser.add_argument(
        "--cloud-events", type=int, default=64,
        help="events in the run under the emulator's 'cloud' latency profile (0 = skip)",
    )  # fmt: skip
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument(
        "--sections", default="base,round-trips,batches,fit,sweep,adaptive,rate-limit,peer-cpu",
        help="which parts to run, comma-separated (default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--batch-sizes",
        default="1,10,50,200",
        help="servers per CTS batch (the first is the single-event baseline)",
    )
    parser.add_argument("--sweep-fleets", default="1000,10000", help="fleet sizes to sweep")
    parser.add_argument(
        "--fit-sweep",
        type=int,
        default=1000,
        help="servers in the TIMER window for the FunctionGraph fit",
    )
    parser.add_argument(
        "--sweep-flat100-max",
        type=int,
        default=10000,
        help="fleets up to this size are swept at 100 ms per call",
    )
    parser.add_argument(
        "--sweep-large-latency-ms",
        type=float,
        default=10.0,
        help="ms per call for the full pass of fleets above --sweep-flat100-max",
    )
    parser.add_argument("--rate-limit", type=float, default=20.0, help="requests/s (rate-limit)")
    parser.add_argument("--rate-limit-servers", type=int, default=200)
    parser.add_argument("--backend", choices=("nova", "huawei-v1"), default="nova",
                        help="NICATTACH_BACKEND of the function under test")  # fmt: skip
    parser.add_argument(
        "--ownership",
        choices=("auto", "device-tag", "port"),
        default="auto",
        help="NICATTACH_OWNERSHIP of the function under test",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = run(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten: {args.output}")
    return 0
