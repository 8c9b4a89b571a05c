"""Hosting the emulator: a threaded HTTP/1.1 server, ``EmulatorServer`` and the CLI.

Like moto's ``ThreadedMotoServer``: start it on port 0 in a test, read ``url``,
stop it at the end. Connections are kept alive and served on daemon threads,
so a client that never hangs up cannot keep the process from exiting.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulator.admin import apply_seed
from emulator.app import EmulatorApp
from emulator.errors import FakeApiError
from emulator.faults import FaultPlan, Faults
from emulator.models import FakeBackend
from emulator.wire import Request, Response

DEFAULT_TOKEN = "emulator-token"
DEFAULT_PORT = 8774
#: Idle keep-alive connections are closed after this many seconds.
IDLE_TIMEOUT = 60.0


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: EmulatorApp) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.connections = 0

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hang up; anything else still goes to stderr."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1  # only the serving thread accepts, so no lock is needed
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nic-autoattach-emulator"
    timeout = IDLE_TIMEOUT
    #: Headers and body go out in two writes; without this, Nagle adds 40 ms a call.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log (``GET /_admin/requests``) is the record."""

    def _read_body(self) -> bytes:
        text = self.headers.get("Content-Length") or "0"
        if not text.isdigit():
            self.close_connection = True  # the body's end is unknown: drop the connection
            return b""
        return self.rfile.read(int(text))

    def _request(self) -> Request:
        parts = urlsplit(self.path)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self._read_body(),
            base_url=f"http://{host}",
        )

    def _serve(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            response = Response(411, {"badRequest": {"code": 411, "message": "Length Required"}})
        else:
            response = self.server.app.handle(self._request())
        if response.status == 0:  # an injected dropped connection: hang up without a word
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        payload = response.payload()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class EmulatorServer:
    """The emulator on ``host:port`` (0 = any free port), served from a daemon thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        backend: FakeBackend | None = None,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        faults: Faults | None = None,
    ) -> None:
        self.host = host
        self.faults = faults if faults is not None else Faults()
        self.port = port
        self.backend = backend if backend is not None else FakeBackend()
        for token in tokens:
            self.backend.add_token(token)
        self.url = ""
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        httpd = _HTTPServer((self.host, self.port), EmulatorApp(self.backend, self.faults))
        self.port = httpd.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"emulator-{self.port}",
        )  # fmt: skip
        self._thread.start()
        return self

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted so far (keep-alive makes this much lower than calls)."""
        return self._httpd.connections if self._httpd is not None else 0

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description="Local Huawei ECS / OpenStack Nova emulator."
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
