"""The fault suite: at-least-once delivery, racing copies and API faults, with figures.

N servers are created in the emulator (some still BUILD), fault injection is
switched on (errors, throttling, dropped connections, ambiguous writes, busy
409s, failed jobs, 17 MiB answers), and every server's creation event is
delivered 3 times, up to 3 copies at once, to independent function instances
(own HTTP session each, like separate processes); one delivery in ten is
killed right after a random API call. Outcome events go to a hostile sink
(sometimes silent past the deadline, sometimes 503 with a garbage
Retry-After). A retryable (503) outcome or a killed copy is retried like
FunctionGraph's asynchronous invocation does: at most ``max_async_retry_attempts``
times (``serverless.yml``, 3); a delivery that runs out goes to the platform's
failure destination (``dead-lettered``), and the TIMER sweep is the safety net for
its server. Every server with a completed delivery must have its NICs before the
sweep; after the sweep every server must. Where the function makes its NICs from
ports it names first (huawei-v1; nova with ``--ownership port``), exactly one such
port per NIC. Then every server is deleted and a sweep runs: no port the function
made may be left.

    python tests/faults/fault_suite.py --servers 200        (make faults)
    python tests/faults/fault_suite.py --backend huawei-v1  (the ECS native NIC API: jobs)
    python tests/faults/fault_suite.py --ownership port     (nova, ports first)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # support.py

import fault_figures  # noqa: E402
from fault_checks import (  # noqa: E402
    DUAL_NET,
    check,
    function_ports,
    missing,
    ports_first,
)
from fault_figures import DEADLINE_S, Figures  # noqa: E402
from fault_harness import DyingSession, Killed, hostile_sink  # noqa: E402
from support import PROJECT  # noqa: E402

from emulator.client import AdminClient  # noqa: E402
from emulator.control.faults import FaultPlan, Faults  # noqa: E402
from emulator.control.latency import PROFILES, Latency  # noqa: E402
from emulator.server import EmulatorServer  # noqa: E402
from function.app.service import Service  # noqa: E402
from function.app.wiring import build_service  # noqa: E402
from function.config import Settings  # noqa: E402
from function.transport.session import Session  # noqa: E402

POLICY = ROOT / "examples" / "policy.yaml"
ASYNC_RETRIES = int(
    yaml.safe_load((ROOT / "serverless.yml").read_text())["custom"]["asyncInvokeConfig"][
        "max_async_retry_attempts"
    ]
)
"""FunctionGraph's retries of a failed asynchronous invocation, as deployed (0-3)."""
PROFILE_POLICY = ROOT / "tests" / "faults" / "policy-profiles.yaml"
"""Ports first: the storage NIC with ``source_dest_check: false``, an ``ipv6`` NIC on
``DUAL_NET`` (a device-tag attach cannot carry a profile: there, ``POLICY``)."""
BOOT_NET = "5b1f2c3d-0a4e-4f6b-9c8d-7e6f5a4b3c2d"  # every server boots with a NIC here
DEFAULT_FAULTS = FaultPlan(
    latency_ms=2,
    error_rate=0.03,
    ambiguous_rate=0.03,
    throttle_rate=0.03,
    retry_after_s=0.05,
    drop_rate=0.02,
    busy_rate=0.03,
    job_fail_rate=0.03,
    oversize_rate=0.01,
)
KILL_RATE = 0.1
"""Share of deliveries whose copy is killed (SIGKILL) right after a random API call."""
BACKENDS = ("nova", "huawei-v1")


class Suite:
    def __init__(
        self,
        url: str,
        copies: int,
        replays: int,
        rng: random.Random,
        backend: str = "nova",
        sink: str | None = None,
        kill_rate: float = KILL_RATE,
        ownership: str = "auto",
    ) -> None:
        self.url = url
        self.backend = backend
        self.ownership = ownership
        self.sink = sink
        self.kill_rate = kill_rate
        self.replays = replays
        self.rng = rng
        self.policy = PROFILE_POLICY if ports_first(backend, ownership) else POLICY
        self.services = [self._service() for _ in range(copies)]
        self.lock = threading.Lock()
        self.figures = Figures()
        self.outcomes: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.completed: set[str] = set()
        """Servers with at least one completed (not dead-lettered) delivery."""

    def _service(self, session: Session | None = None) -> Service:
        settings = Settings(
            policy_path=str(self.policy),
            ecs_endpoint=self.url,
            network_endpoint=self.url,
            token="emulator-token",
            wait_active_s=3.0,
            deadline_s=DEADLINE_S,
            wait_port_active_s=1.0,
            backend=self.backend,
            sink=self.sink,
            ownership=self.ownership,
        )
        return build_service(settings, session=session or Session())

    def deliver(self, copy: int, body: bytes, server_id: str = "") -> None:
        """One delivery, retried on 503 or a killed copy like FunctionGraph's asynchronous
        invocation (at most ``self.replays`` retries, then dead-lettered)."""
        for attempt in range(self.replays + 1):
            with self.lock:
                kill_after = self.rng.randint(1, 8) if self.rng.random() < self.kill_rate else 0
            service = (
                self._service(DyingSession(kill_after))
                if kill_after
                else self.services[copy % len(self.services)]
            )
            started = time.monotonic()
            try:
                reply = service.handle({"Content-Type": "application/json"}, body)
            except Killed:
                self._count(killed=1, replays=1 if attempt else 0)
                with self.lock:
                    self.reasons["killed"] += 1
                continue  # the invocation died: the platform delivers it again
            except Exception as exc:  # the suite counts what must never happen
                print(f"unhandled: {type(exc).__name__}: {exc}", file=sys.stderr)
                self._count(unhandled=1)
                return
            sink_failed = reply.headers.get("X-Nicattach-Sink") == "failed"
            self._count(deliveries=1, replays=1 if attempt else 0, sink_failures=sink_failed)
            with self.lock:
                self.figures.worst_reply_s = max(
                    self.figures.worst_reply_s, round(time.monotonic() - started, 2)
                )
            if reply.status >= 500 and reply.status != 503:
                self._count(unhandled=1)
                return
            label = reply.outcomes[0].label if reply.outcomes else str(reply.status)
            with self.lock:
                if reply.status != 503:
                    self.outcomes[label] += 1
                    self.completed.add(server_id)
                    return
                self.reasons[label] += 1
            time.sleep(0.05 * (attempt + 1))
        self._count(dead_lettered=1)

    def server(self, server_id: str) -> None:
        """Three deliveries of one event: up to three copies at once, the rest later."""
        body = json.dumps(
            {"server_id": server_id, "project_id": PROJECT, "tags": ["role=db", "env=prod"]}
        ).encode()
        self._count(events_sent=1)
        at_once = self.rng.randint(1, 3)
        threads = [
            threading.Thread(target=self.deliver, args=(i, body, server_id)) for i in range(at_once)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i in range(at_once, 3):
            self.deliver(i, body, server_id)
        with self.lock:
            self.figures.lost_events += server_id not in self.completed

    def _count(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self.figures, name, getattr(self.figures, name) + value)

    def close(self) -> None:
        for s in self.services:
            s.session.close()


def run(
    servers: int = 200,
    workers: int = 12,
    seed: int = 1,
    replays: int = ASYNC_RETRIES,
    plan: FaultPlan = DEFAULT_FAULTS,
    latency: str = "none",
    backend: str = "nova",
    kill_rate: float = KILL_RATE,
    ownership: str = "auto",
) -> Figures:
    """``latency`` names one of the emulator's latency profiles (``cloud``: a real
    cloud's reads ~100 ms and attaches 1-3 s, on top of the faults' ``latency_ms``)."""
    rng = random.Random(seed)
    faults = Faults(FaultPlan(**{**asdict(plan), "seed": seed, "counts": {}}))
    started = time.monotonic()
    with EmulatorServer(faults=faults, latency=Latency(PROFILES[latency])) as emulator:
        admin = AdminClient(emulator.url)
        admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
        admin.create_network("10.40.0.0/24", id=DUAL_NET, name="dual", ipv6_cidr="2001:db8:40::/64")
        ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(servers)]
        for sid in ids:
            building = rng.random() < 0.3
            build = rng.uniform(0.1, 1.0) if building else None
            status = "BUILD" if building else "ACTIVE"
            admin.create_server(
                PROJECT,
                tags=["role=db", "env=prod"],
                id=sid,
                status=status,
                build_seconds=build,
                interfaces=[{"net_id": BOOT_NET}],
            )
        admin.clear_requests()
        with hostile_sink() as sink:
            suite = Suite(
                emulator.url,
                copies=3,
                replays=replays,
                rng=rng,
                backend=backend,
                sink=sink,
                kill_rate=kill_rate,
                ownership=ownership,
            )
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(suite.server, ids))
            suite.close()
        faults.configure(
            {
                "error_rate": 0,
                "ambiguous_rate": 0,
                "throttle_rate": 0,
                "drop_rate": 0,
                "busy_rate": 0,
                "latency_ms": 0,
                "job_fail_rate": 0,
                "oversize_rate": 0,
            }
        )
        figures = suite.figures
        figures.backend, figures.ownership = backend, ownership
        figures.api_requests = len(admin.requests_log())
        figures.servers = servers
        figures.outcomes = dict(suite.outcomes)
        figures.faults_injected = dict(faults.plan.counts)
        figures.retry_reasons = dict(suite.reasons)
        profiles = figures.profiles = suite.policy == PROFILE_POLICY
        sweeper = suite._service()
        marks = sweeper.backend.discover(sweeper.deadline()).marks
        first = ownership == "port" or (ownership == "auto" and not marks)
        check(admin, ids, figures, first, profiles)
        figures.missing_before_sweep = missing(admin, suite.completed, profiles)
        unswept = figures.missing_nics
        summary = sweeper.reconcile(PROJECT, full=True)  # the TIMER sweep: the safety net
        figures.reported_duplicates = len(summary.suspected_duplicates)
        figures.missing_nics = missing(admin, ids, profiles)
        figures.swept_nics = unswept - figures.missing_nics
        for sid in ids:  # the servers go; so must every port the function made
            admin.delete_server(sid)
        figures.ports_collected = sweeper.reconcile(PROJECT, full=True).ports_collected
        figures.ports_left = sum(
            1 for p in function_ports(admin) if any(sid in p["name"] for sid in ids)
        )
        sweeper.session.close()
    figures.wall_s = round(time.monotonic() - started, 2)
    return figures


def report(figures: Figures) -> str:
    return fault_figures.report(figures, ASYNC_RETRIES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-scale", type=float, default=1.0, help="multiply every rate")
    parser.add_argument("--backend", choices=BACKENDS, default="nova")
    parser.add_argument("--ownership", choices=("auto", "device-tag", "port"), default="auto")
    parser.add_argument(
        "--retries",
        type=int,
        default=ASYNC_RETRIES,
        help="the platform's retries per delivery (max_async_retry_attempts)",
    )
    parser.add_argument(
        "--kill-rate",
        type=float,
        default=KILL_RATE,
        help="share of deliveries killed after a random API call",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--latency",
        choices=sorted(PROFILES),
        default="none",
        help="the emulator's latency profile (cloud: attach 1-3 s)",
    )
    args = parser.parse_args(argv)
    rates = (
        "error_rate",
        "ambiguous_rate",
        "throttle_rate",
        "drop_rate",
        "busy_rate",
        "job_fail_rate",
        "oversize_rate",
    )
    plan = asdict(DEFAULT_FAULTS)
    plan.update({name: min(1.0, plan[name] * args.fault_scale) for name in rates})
    figures = run(
        servers=args.servers,
        workers=args.workers,
        seed=args.seed,
        replays=args.retries,
        plan=FaultPlan(**plan),
        latency=args.latency,
        backend=args.backend,
        kill_rate=args.kill_rate,
        ownership=args.ownership,
    )
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(asdict(figures), indent=2))
    print("fault suite:", "PASS" if figures.ok else "FAIL")
    return 0 if figures.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
