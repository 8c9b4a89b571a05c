"""The bench's targets, and its results summed up and checked against them."""

from __future__ import annotations

from typing import Any

from bench import adaptive, scale

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


def api_seconds_per_event(by_route: dict[str, float], profile: dict[str, Any]) -> float:
    """The mean API time one event spends under a latency profile (as the emulator
    answers ``/_admin/latency``): each route's calls per event × that kind's mean delay."""
    means = {
        "read": profile["read_ms"],
        "attach": sum(profile["attach_ms"]) / 2,
        "detach": profile["detach_ms"],
    }
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
