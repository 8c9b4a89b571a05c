"""The bench's fixtures: the sample project, the policy, the targets, and ``Bench``.

``Bench`` starts the emulator in a process of its own and the function under
``functions-framework``, seeds servers, sends events and measures them (``bench/run.py``
runs the sections, ``bench/report.py`` turns the results into the table).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import queue
import re
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from bench.imports import HTTP_STACK, import_seconds, importtime_by_package
from bench.proc import (
    ROOT,
    FunctionProcess,
    cpu_seconds,
    functiongraph_cold_start,
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


class Bench:
    def __init__(
        self,
        emulator_url: str,
        work: Path,
        emulator_pid: int | None = None,
        backend: str = "nova",
        ownership: str = "auto",
    ) -> None:
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
            "ce-specversion": "1.0",
            "ce-id": f"bench-{self.seq}",
            "ce-source": "/bench",
            "ce-type": "com.example.server.created",
            "Content-Type": "application/json",
        }
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
        process = FunctionProcess(
            self.env, self.work / "function.log", source="bench/noop_function.py", target="noop"
        )
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
        return {
            "total": sum(routes.values()) / n,
            "by_route": {k: v / n for k, v in sorted(routes.items())},
        }

    def cpu_per_event(self, process: FunctionProcess, n: int) -> dict[str, Any]:
        servers = [self.new_server() for _ in range(n)]
        pid = process.worker_pid()
        with requests.Session() as session:
            self.send(session, process.url, self.new_server())  # connection up
            before, started = cpu_seconds(pid), time.perf_counter()
            statuses = [self.send(session, process.url, s) for s in servers]
            wall, cpu = time.perf_counter() - started, cpu_seconds(pid) - before
        assert statuses == [200] * n, Counter(statuses)
        return {
            "cpu_ms_per_event": round(cpu / n * 1000, 2),
            "sequential_ms_per_event": round(wall / n * 1000, 2),
            "events": n,
        }

    def throughput(
        self,
        process: FunctionProcess,
        n: int,
        senders: int,
        latency: float,
        per_event: float,
        profile: str | None = None,
    ) -> dict[str, Any]:
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
            "events_per_s": round(rate, 1),
            "bound_events_per_s": round(bound, 1),
            "throughput_share_of_bound": round(rate / bound, 3),
            "senders": senders,
            "latency_s": latency,
            "latency_profile": profile,
            "events": n,
            "cpu_ms_per_event": round(cpu / n * 1000, 2),
            "function_cpu_busy": round(cpu / wall, 2),
            "senders_cpu_busy": round(own / wall, 2),
            "emulator_cpu_busy": round(emulator_cpu / wall, 2),
        }

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
            rows.append(
                {
                    "function": where,
                    "calls_per_event": round(calls / n, 1),
                    "tottime_ms_per_event": round(tottime / n * 1000, 3),
                    "cumtime_ms_per_event": round(cumtime / n * 1000, 3),
                }
            )
        rows.sort(key=lambda row: -row["tottime_ms_per_event"])
        return rows[:15]
