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
from emulator.control.admin import apply_seed
from emulator.control.faults import FaultPlan, Faults
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
        "--token", action="append", help=f"accepted X-Auth-Token (repeatable; default "
        f"{DEFAULT_TOKEN!r})",
    )  # fmt: skip
    parser.add_argument("--seed", type=Path, help="JSON seed document to load at start-up")
    parser.add_argument(
        "--nova-errors", action="store_true",
        help="answer 500 computeFault where real Nova does (unknown network, IP outside subnet)",
    )  # fmt: skip
    parser.add_argument(
        "--build-seconds", type=float, default=0.0, help="how long new servers stay BUILD"
    )
    faults = parser.add_argument_group("fault injection (also PATCH /_admin/faults)")
    faults.add_argument("--latency-ms", type=float, default=0.0, help="added to every call")
    faults.add_argument("--error-rate", type=float, default=0.0, help="500/503 before the call")
    faults.add_argument(
        "--ambiguous-rate", type=float, default=0.0,
        help="writes carried out, then answered 500 or the connection dropped",
    )  # fmt: skip
    faults.add_argument("--throttle-rate", type=float, default=0.0, help="429 + Retry-After")
    faults.add_argument("--retry-after-s", type=float, default=0.1)
    faults.add_argument("--drop-rate", type=float, default=0.0, help="connection dropped")
    faults.add_argument("--busy-rate", type=float, default=0.0, help="409 on attach/detach")
    faults.add_argument("--fault-seed", type=int, default=None, help="replayable faults")
    return parser


def _fault_plan(args: argparse.Namespace) -> FaultPlan:
    return FaultPlan(
        latency_ms=args.latency_ms, error_rate=args.error_rate,
        ambiguous_rate=args.ambiguous_rate, throttle_rate=args.throttle_rate,
        retry_after_s=args.retry_after_s, drop_rate=args.drop_rate, busy_rate=args.busy_rate,
        seed=args.fault_seed,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; print the URL as the one line on stdout."""
    args = _parser().parse_args(argv)
    backend = FakeBackend(nova_errors=args.nova_errors, build_seconds=args.build_seconds)
    if args.seed is not None:
        try:
            apply_seed(backend, json.loads(args.seed.read_text()))
        except (OSError, ValueError, FakeApiError) as exc:
            print(f"emulator: cannot load seed {args.seed}: {exc}", file=sys.stderr)
            return 2
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        faults = Faults(_fault_plan(args))
    except ValueError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    tokens = args.token or (DEFAULT_TOKEN,)
    with EmulatorServer(
        args.host, args.port, backend=backend, tokens=tokens, faults=faults
    ) as server:
        print(f"emulator listening on {server.url}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
