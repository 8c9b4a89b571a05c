"""``python -m bench``'s options: how many runs and events, which sections, which backend."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.harness import RESULTS


def parse_args(argv: list[str] | None, description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=description)
    parser.add_argument("--import-runs", type=int, default=9)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--cpu-events", type=int, default=300)
    parser.add_argument(
        "--cpu-repeats",
        type=int,
        default=5,
        help="peer-cpu: interleaved process-time runs per side (the figure is their median)",
    )
    parser.add_argument(
        "--callgrind-events",
        type=int,
        default=10,
        help="peer-cpu: events per side counted under callgrind (0 = skip)",
    )
    parser.add_argument("--events", type=int, default=640, help="events in the throughput run")
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.020)
    parser.add_argument(
        "--cloud-events",
        type=int,
        default=64,
        help="events in the run under the emulator's 'cloud' latency profile (0 = skip)",
    )
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument(
        "--sections",
        default="base,round-trips,batches,fit,sweep,adaptive,rate-limit,peer-cpu",
        help="which parts to run, comma-separated (default: all)",
    )
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
    parser.add_argument(
        "--backend",
        choices=("nova", "huawei-v1"),
        default="nova",
        help="NICATTACH_BACKEND of the function under test",
    )
    parser.add_argument(
        "--ownership",
        choices=("auto", "device-tag", "port"),
        default="auto",
        help="NICATTACH_OWNERSHIP of the function under test",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    return parser.parse_args(argv)
