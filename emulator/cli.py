"""``python -m emulator`` / ``nic-autoattach emulator``: run the emulator until SIGINT/SIGTERM.

Prints one line on stdout, ``emulator listening on <url>``, and nothing else;
exits 0 when stopped, 2 when an option or the seed document is invalid.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from emulator.compute.models import FakeBackend
from emulator.control.documents import apply_seed
from emulator.control.faults import FaultPlan, Faults
from emulator.control.latency import PROFILES, Latency, LatencyProfile, build_profile
from emulator.control.ratelimit import RateLimits
from emulator.core.clock import AdjustableClock
from emulator.core.errors import FakeApiError
from emulator.server import DEFAULT_PORT, DEFAULT_TOKEN, EmulatorServer

#: The name in ``--help``: how users start it (``python -m emulator`` runs the same).
PROG = "nic-autoattach emulator"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Local Huawei ECS / OpenStack Nova emulator (emulator/README.md)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 = any free port")
    parser.add_argument(
        "--token",
        action="append",
        help=f"accepted X-Auth-Token (repeatable; default {DEFAULT_TOKEN!r})",
    )
    parser.add_argument("--seed", type=Path, help="JSON seed document to load at start-up")
    parser.add_argument(
        "--nova-errors",
        action="store_true",
        help="answer 500 computeFault where real Nova does (unknown network, IP outside subnet)",
    )
    parser.add_argument(
        "--build-seconds", type=float, default=0.0, help="how long new servers stay BUILD"
    )
    faults = parser.add_argument_group("fault injection (also PATCH /_admin/faults)")
    faults.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="a flat delay added to every call (per call kind: --latency below)",
    )
    faults.add_argument("--error-rate", type=float, default=0.0, help="500/503 before the call")
    faults.add_argument(
        "--ambiguous-rate",
        type=float,
        default=0.0,
        help="writes carried out, then answered 500 or the connection dropped",
    )
    faults.add_argument("--throttle-rate", type=float, default=0.0, help="429 + Retry-After")
    faults.add_argument("--retry-after-s", type=float, default=0.1)
    faults.add_argument("--drop-rate", type=float, default=0.0, help="connection dropped")
    faults.add_argument("--busy-rate", type=float, default=0.0, help="409 on attach/detach")
    faults.add_argument("--fault-seed", type=int, default=None, help="replayable faults")
    _latency_options(parser)
    limits = parser.add_argument_group(
        "rate limit: a token bucket per project and API, 429 + Retry-After past it "
        "(also PATCH /_admin/ratelimit)"
    )
    limits.add_argument(
        "--rate-limit", type=float, default=0.0, metavar="PER_S", help="requests/s (0 = none)"
    )
    limits.add_argument(
        "--rate-burst", type=float, metavar="N", help="tokens a bucket holds (default: PER_S)"
    )
    return parser


def _latency_options(parser: argparse.ArgumentParser) -> None:
    latency = parser.add_argument_group(
        "latency profile per call kind (also PUT/PATCH /_admin/latency); the options "
        "below change the named profile"
    )
    latency.add_argument(
        "--latency",
        choices=sorted(PROFILES),
        default="none",
        help="none: instant; flat100: every call 100 ms; cloud: reads ~100 ms, attach 1-3 s, "
        "detach ~1 s, jitter 20%%",
    )
    latency.add_argument("--latency-read-ms", type=float, metavar="MS")
    latency.add_argument(
        "--latency-attach-ms",
        type=_attach_ms,
        metavar="MS|LOW-HIGH",
        help="a fixed time or a range each attach draws from",
    )
    latency.add_argument("--latency-detach-ms", type=float, metavar="MS")
    latency.add_argument("--latency-jitter", type=float, metavar="FRACTION", help="0-1")
    latency.add_argument("--latency-seed", type=int, help="replayable delays")


def _attach_ms(text: str) -> list[float]:
    low, _, high = text.partition("-")
    try:
        return [float(low), float(high or low)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not MS or LOW-HIGH: {text!r}") from None


def _latency_profile(args: argparse.Namespace) -> LatencyProfile:
    given = {
        "read_ms": args.latency_read_ms,
        "attach_ms": args.latency_attach_ms,
        "detach_ms": args.latency_detach_ms,
        "jitter": args.latency_jitter,
        "seed": args.latency_seed,
    }
    fields = {name: value for name, value in given.items() if value is not None}
    return build_profile({"profile": args.latency, **fields})


def _fault_plan(args: argparse.Namespace) -> FaultPlan:
    return FaultPlan(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        ambiguous_rate=args.ambiguous_rate,
        throttle_rate=args.throttle_rate,
        retry_after_s=args.retry_after_s,
        drop_rate=args.drop_rate,
        busy_rate=args.busy_rate,
        seed=args.fault_seed,
    )


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; print the URL as the one line on stdout."""
    args = _parser().parse_args(argv)
    backend = FakeBackend(
        clock=AdjustableClock(), nova_errors=args.nova_errors, build_seconds=args.build_seconds
    )
    try:
        faults, latency = Faults(_fault_plan(args)), Latency(_latency_profile(args))
        ratelimit = RateLimits(args.rate_limit, args.rate_burst)
    except (ValueError, FakeApiError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    tokens = args.token or (DEFAULT_TOKEN,)
    server = EmulatorServer(
        args.host,
        args.port,
        backend=backend,
        tokens=tokens,
        faults=faults,
        latency=latency,
        ratelimit=ratelimit,
    )
    if args.seed is not None:
        try:
            apply_seed(server.backend, server.tokens, json.loads(args.seed.read_text()))
        except (OSError, ValueError, FakeApiError) as exc:
            print(f"emulator: cannot load seed {args.seed}: {exc}", file=sys.stderr)
            return 2
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        server.start()
    except OSError as exc:  # the port is taken, the address is not ours, ...: one line
        print(
            f"emulator: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr
        )
        return 2
    try:
        print(f"emulator listening on {server.url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
