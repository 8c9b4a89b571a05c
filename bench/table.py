"""The bench's results as a table: one row per figure, with its target met or missed."""

from __future__ import annotations

from typing import Any

from bench import adaptive, scale
from bench.report import DEFAULT_CONCURRENCY, batch_finished


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
        rows.append(
            (
                f"one event, {what}: round trips (critical path) / requests",
                f"{entry['round_trips']:g} (measured {entry['round_trips_measured']:g}) / "
                f"{entry['requests']:g} ({parts}); "
                f"{entry['seconds_at_flat100']} s at 100 ms",
                _target(results, f"round_trips_{key}"),
            )
        )
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
                rows.append(
                    (
                        f"batch N={n}, '{profile}', concurrency {concurrency} ({label})",
                        _batch_value(run),
                        target,
                    )
                )
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
    kinds = (
        ("batch_flat100", "CTS batch, 'flat100'"),
        ("batch_cloud", "CTS batch, 'cloud'"),
        ("timer_sweep_flat100", "TIMER sweep, 'flat100'"),
    )
    for key, what in kinds:
        run = fit[key]
        extra = f", {run['attached']} attached" if "attached" in run else ""
        raised = f", raised {run['raised']}" if run["raised"] else ""
        met = run["seconds"] < scale.SWEEP_BUDGET_S and not run["raised"]
        rows.append(
            (
                f"FunctionGraph handler (fresh process, concurrency {fit['concurrency']}): "
                f"{what}, {run['servers']} servers",
                f"{run['seconds']:.2f} s, CPU {run['cpu_s']:.2f} s, peak RSS "
                f"{run['maxrss_mb']:.0f} MB{extra}{raised}",
                f"< {scale.SWEEP_BUDGET_S:g} s {'met' if met else 'MISSED'}",
            )
        )
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
            value = (
                f"{run['seconds']} s ({run['passes']} pass{'es' if run['passes'] > 1 else ''}"
                f"{': ' + seconds if run['passes'] > 1 else ''}), {run['checked']} checked, "
                f"{run['requests']} requests ({run['list_requests']} list pages)"
                f"{'' if run['complete'] else ', INCOMPLETE'}"
            )
            target = ""
            if kind == "window":
                one = run["passes"] == 1 and run["complete"]
                only_new = run["checked"] == fleet["new"]
                target = (
                    f"one invocation {'met' if one else 'MISSED'}; checks only the "
                    f"{fleet['new']} new {'met' if only_new else 'MISSED'}"
                )
            rows.append(
                (
                    f"sweep {int(size):,} servers ({fleet['new']} new), {kind}, "
                    f"{run['latency_ms']:g} ms/call, concurrency {sweeps['concurrency']}",
                    value,
                    target,
                )
            )
    return rows


def base_rows(results: dict[str, Any]) -> list[Row]:
    imports, tp = results["imports"], results["throughput"]
    rpe = results["requests_per_event"]
    rows = [
        ("import functions_framework (median)", f"{imports['functions_framework_ms']} ms", ""),
        ("import function.main (median)", f"{imports['function_main_ms']} ms", ""),
        (
            "  of which over functions_framework",
            f"{imports['import_over_functions_framework_ms']} ms",
            _target(results, "import_over_functions_framework_ms"),
        ),
        (
            "import function.main without flask (FunctionGraph)",
            f"{imports['function_main_without_http_stack_ms']} ms",
            "",
        ),
        (
            "cold start: process start → first reply (median)",
            f"{results['cold_start']['cold_start_s']} s",
            _target(results, "cold_start_s"),
        ),
        (
            "  no-op function, same framework (floor)",
            f"{results['cold_start']['noop_function_cold_start_s']} s",
            "",
        ),
        (
            "  FunctionGraph handler: start → handler returns",
            f"{results['cold_start']['functiongraph_handler_cold_start_s']} s",
            "",
        ),
        (
            "requests/event, tags in event",
            _routes(rpe["tags_in_event"]),
            _target(results, "requests_per_event_tags_in_event"),
        ),
        (
            "requests/event, tags read from the API",
            _routes(rpe["tags_read"]),
            _target(results, "requests_per_event_tags_read"),
        ),
        (
            "CPU per event (sequential)",
            f"{results['cpu']['cpu_ms_per_event']} ms",
            _target(results, "cpu_ms_per_event"),
        ),
        (
            "  no-op function, same framework (floor)",
            f"{results['cpu']['noop_function_cpu_ms_per_request']} ms",
            "",
        ),
        (
            f"throughput, {tp['senders']} senders, {tp['latency_s'] * 1000:.0f} ms/request",
            f"{tp['events_per_s']} ev/s of {tp['bound_events_per_s']} bound "
            f"({tp['throughput_share_of_bound']:.0%})",
            _target(results, "throughput_share_of_bound"),
        ),
        ("CPU per event under load", f"{tp['cpu_ms_per_event']} ms", ""),
        (
            "  CPU busy: function / senders / emulator (cores)",
            f"{tp['function_cpu_busy']} / {tp['senders_cpu_busy']} / {tp['emulator_cpu_busy']}",
            "",
        ),
        *_cloud_rows(results),
        (
            "peak RSS, worker process",
            f"{results['rss']['peak_rss_mb']} MB",
            _target(results, "peak_rss_mb"),
        ),
    ]
    return rows


def _cloud_rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    cloud = results.get("cloud_throughput")
    if not cloud:
        return []
    return [
        (
            f"throughput, {cloud['senders']} senders, emulator 'cloud' latency",
            f"{cloud['events_per_s']} ev/s of {cloud['bound_events_per_s']} bound "
            f"({cloud['throughput_share_of_bound']:.0%})",
            "",
        )
    ]


def _routes(entry: dict[str, Any]) -> str:
    parts = [
        f"{count:g} {route.split(' ', 1)[0]} {route.split('/')[-1]}"
        for route, count in entry["by_route"].items()
    ]
    return f"{entry['total']:g} ({', '.join(parts)})"


def _target(results: dict[str, Any], name: str) -> str:
    check = results["targets"][name]
    return f"{check['target']} {'met' if check['met'] else 'MISSED'}"
