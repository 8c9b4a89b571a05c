"""Hosting the emulator: ``EmulatorServer``, the stable front door for tests and tools.

Like moto's ``ThreadedMotoServer``: start it on port 0 in a test, read ``url``,
stop it at the end. The sockets are ``emulator.core.http``'s; the command
line (``python -m emulator``, ``nic-autoattach emulator``) is ``emulator.cli``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from types import TracebackType

from emulator.app import EmulatorApp
from emulator.autoscaling.models import FakeAutoScaling
from emulator.compute.models import FakeBackend
from emulator.control.faults import Faults
from emulator.control.latency import Latency
from emulator.control.ratelimit import RateLimits
from emulator.core.clock import AdjustableClock
from emulator.core.http import HTTPServer
from emulator.ecs_v1.models import FakeEcsV1

DEFAULT_TOKEN = "emulator-token"
DEFAULT_PORT = 8774


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
        latency: Latency | None = None,
        ratelimit: RateLimits | None = None,
    ) -> None:
        self.host = host
        self.ratelimit = ratelimit if ratelimit is not None else RateLimits()
        self.faults = faults if faults is not None else Faults()
        self.latency = latency if latency is not None else Latency()
        self.port = port
        self.backend = backend if backend is not None else FakeBackend(clock=AdjustableClock())
        self.ecs = FakeEcsV1(self.backend, job_failure=self.faults.job_failure)
        self.autoscaling = FakeAutoScaling(self.backend)
        for token in tokens:
            self.backend.add_token(token)
        self.url = ""
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        app = EmulatorApp(
            self.backend, self.faults, self.latency, self.ecs, self.autoscaling, self.ratelimit
        )
        httpd = HTTPServer((self.host, self.port), app)
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


def main(argv: list[str] | None = None) -> int:
    """The command line (``nic-autoattach emulator`` runs ``emulator.server.main``)."""
    from emulator.cli import main as cli_main  # the CLI imports this module

    return cli_main(argv)
