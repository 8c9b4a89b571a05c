"""Batches, round trips and sweeps at a cloud's latency (issue 16).

- ``batches``: a CTS batch-create trace naming N fresh servers, POSTed to the function
  (functions-framework, as in production; ``NICATTACH_DEADLINE_S`` 50 s) under a latency
  profile; when the reply is 503 (the remainder came back retryable at the deadline),
  the same trace again, as the platform's redelivery would.
- ``round_trips``: one event's requests (the emulator's log) and its critical path in
  round trips: (time at 100 ms per call - time at 0 ms) / 100 ms, median of a few.
- ``sweep``: a fleet seeded in one request, 1 % of it new (made after the emulator's clock
  moved an hour on), swept in this process by ``Service.reconcile`` (the TIMER path:
  ``full=False``, ``now`` = the emulator's clock; ``--all``: ``full=True``), resumed from
  its marker until complete, as a TIMER would on its next runs.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from typing import Any

import requests

from emulator.client import AdminClient

PROJECT = "0605767a5a80d5762fe6c0125d3c5b0e"
SWEEP_PROJECT = PROJECT  # the configured project (NICATTACH_PROJECT_ID)
PRIVATE_NET = "5b1f2c3d-0a4e-4f6b-9c8d-7e6f5a4b3c2d"
STORAGE_NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
TAGS = ["role=db", "env=prod"]
DEADLINE_S = 50.0
#: A FunctionGraph invocation's budget: handler() keeps 10 %, at most 3 s, back (reserves.PLATFORM).
SWEEP_BUDGET_S = 60.0 - 3.0


def cts_batch(server_ids: list[str], with_tags: bool = True) -> bytes:
    """A CTS ``createServer`` trace naming ``server_ids`` (tags in its request, or not)."""
    server: dict[str, Any] = {"name": "db", "count": len(server_ids)}
    if with_tags:
        server["server_tags"] = [
            dict(zip(("key", "value"), t.split("="), strict=True)) for t in TAGS
        ]
    trace = {
        "trace_id": f"bench-{time.time_ns()}",
        "trace_name": "createServer",
        "trace_rating": "normal",
        "trace_type": "ApiCall",
        "service_type": "ECS",
        "resource_type": "ecs",
        "project_id": PROJECT,
        "code": 200,
        "request": {"server": server},
        "response": {"job_id": "ff8080829361a5c2019371b5f0e17b22", "serverIds": server_ids},
    }
    return json.dumps({"cts": trace}).encode()


class Scale:
    def __init__(self, admin: AdminClient) -> None:
        self.admin = admin

    def new_servers(self, n: int) -> list[str]:
        one = {"project_id": PROJECT, "tags": TAGS, "interfaces": [{"net_id": PRIVATE_NET}]}
        doc = {"servers": [one] * n}
        return [s["id"] for s in self.admin.seed(doc)["servers"]]

    def attached(self, server_ids: list[str]) -> int:
        return sum(
            any(i["net_id"] == STORAGE_NET for i in self.admin.interfaces(s)) for s in server_ids
        )

    def attached_count(self) -> int:
        """Servers (all projects) with a NIC on the storage network."""
        servers = self.admin.state()["servers"]
        return sum(any(i["net_id"] == STORAGE_NET for i in s["interfaces"]) for s in servers)

    def _post(self, url: str, body: bytes) -> tuple[int, float, dict[str, int]]:
        started = time.perf_counter()
        answer = requests.post(
            url, data=body, timeout=120, headers={"Content-Type": "application/json"}
        )
        wall = time.perf_counter() - started
        return answer.status_code, wall, _outcomes(answer)

    # -- batches ------------------------------------------------------------------------

    def batch(self, url: str, n: int, profile: str) -> dict[str, Any]:
        servers = self.new_servers(n)
        body = cts_batch(servers)
        self.admin.set_latency(profile, **({"seed": 16} if profile == "cloud" else {}))
        try:
            status, wall, outcomes = self._post(url, body)
            result: dict[str, Any] = {
                "servers": n,
                "status": status,
                "seconds": round(wall, 2),
                "outcomes": outcomes,
            }
            if status == 503:  # the remainder is retryable: deliver again, as the platform does
                status2, wall2, outcomes2 = self._post(url, body)
                result["redelivery"] = {
                    "status": status2,
                    "seconds": round(wall2, 2),
                    "outcomes": outcomes2,
                }
        finally:
            self.admin.set_latency("none")
        result["attached_in_the_end"] = self.attached(servers)
        return result

    def batches(self, url: str, profile: str, sizes: list[int]) -> dict[str, Any]:
        runs = {str(n): self.batch(url, n, profile) for n in sizes}
        single = runs[str(min(sizes))]["seconds"]
        for run in runs.values():
            run["times_single"] = round(run["seconds"] / single, 2) if single else None
        return runs

    # -- requests and round trips per event -------------------------------------------------

    def round_trips(self, url: str, with_tags: bool, n: int = 5) -> dict[str, Any]:
        """Requests (total, from the log) and round trips on the critical path of one
        single-server event, tags in the event or read from the API."""
        timings: dict[str, list[float]] = {"none": [], "flat100": []}
        routes: Counter[str] = Counter()
        for profile in ("none", "flat100"):
            self.admin.set_latency(profile)
            try:
                for server in self.new_servers(n):
                    self.admin.clear_requests()
                    status, wall, _ = self._post(url, cts_batch([server], with_tags))
                    assert status == 200, status
                    timings[profile].append(wall)
                    if profile == "flat100":
                        routes.update(_route(r) for r in self.admin.requests_log())
            finally:
                self.admin.set_latency("none")
        extra = statistics.median(timings["flat100"]) - statistics.median(timings["none"])
        return {
            "requests": sum(routes.values()) / n,
            # sequential 100 ms waits: a whole number; the rest is the function's own time
            "round_trips": round(extra / 0.100),
            "round_trips_measured": round(extra / 0.100, 2),
            "by_route": {k: v / n for k, v in sorted(routes.items())},
            "seconds_at_flat100": round(statistics.median(timings["flat100"]), 3),
        }

    # -- sweeps ---------------------------------------------------------------------------------

    def seed_fleet(self, size: int, new_share: float = 0.01) -> tuple[int, str]:
        """``size`` servers in SWEEP_PROJECT: the old ones already have their storage NIC
        and are an hour old; ``new_share`` of them are new and lack it. Returns (new, now)."""
        self.admin.reset()
        self.admin.create_network("192.168.0.0/16", id=PRIVATE_NET, name="private")
        self.admin.create_network("10.20.0.0/16", id=STORAGE_NET, name="storage")
        new = max(1, round(size * new_share))
        old = size - new
        chunk = 2000
        for first in range(0, old, chunk):
            servers = []
            for i in range(first, min(old, first + chunk)):
                third, fourth = 128 + i // 250, 2 + i % 250  # high addresses: fast first-free
                servers.append(
                    {
                        "project_id": SWEEP_PROJECT,
                        "tags": TAGS,
                        "interfaces": [
                            {"net_id": PRIVATE_NET, "fixed_ip": f"192.168.{third}.{fourth}"},
                            {"net_id": STORAGE_NET, "fixed_ip": f"10.20.{third}.{fourth}"},
                        ],
                    }
                )
            self.admin.seed({"servers": servers})
        self.admin.advance_clock(3600.0)  # the old ones are now an hour old
        self.admin.seed(
            {
                "servers": [
                    {
                        "project_id": SWEEP_PROJECT,
                        "tags": TAGS,
                        "interfaces": [{"net_id": PRIVATE_NET}],
                    }
                    for _ in range(new)
                ]
            }
        )
        return new, str(self.admin.clock()["now"])

    def sweep(self, service: Any, full: bool, now: str, latency: dict[str, Any]) -> dict[str, Any]:
        """Passes of ``reconcile`` (each with a FunctionGraph invocation's budget), resumed
        from the marker until complete: what successive TIMER runs would do."""
        self.admin.clear_requests()
        self.admin.set_latency(**latency)
        passes: list[dict[str, Any]] = []
        marker = None
        try:
            while True:
                started = time.perf_counter()
                summary = service.reconcile(
                    SWEEP_PROJECT, full=full, marker=marker, budget_s=SWEEP_BUDGET_S, now=now
                )
                seconds = round(time.perf_counter() - started, 2)
                passes.append(
                    {
                        "seconds": seconds,
                        "checked": summary.checked,
                        "incomplete": summary.incomplete,
                    }
                )
                if not summary.incomplete or len(passes) >= 20:
                    break
                marker = summary.marker
        finally:
            self.admin.set_latency("none")
        log = self.admin.requests_log()
        return {
            "full": full,
            "passes": len(passes),
            "pass_seconds": [p["seconds"] for p in passes],
            "seconds": round(sum(p["seconds"] for p in passes), 2),
            "checked": sum(p["checked"] for p in passes),
            "complete": not passes[-1]["incomplete"],
            "requests": len(log),
            "list_requests": sum(1 for r in log if r["path"].endswith("servers/detail")),
        }


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}")


def _route(entry: dict[str, Any]) -> str:
    """``METHOD parent/last`` with server, port and ECS job ids as ``{id}``."""
    parts = [_ID.sub("{id}", p) for p in entry["path"].split("/")]
    return f"{entry['method']} {'/'.join(parts[-2:])}"


def _outcomes(answer: requests.Response) -> dict[str, int]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    events = body if isinstance(body, list) else [body]
    kinds: Counter[str] = Counter()
    for event in events:
        data = event.get("data", event) if isinstance(event, dict) else None  # binary: data
        if isinstance(data, dict):
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            label = data.get("status") or data.get("reason")
            if error:
                label = f"{error.get('code')}{' (retryable)' if error.get('retryable') else ''}"
            kinds[str(label or event.get("type"))] += 1
    return dict(kinds)
