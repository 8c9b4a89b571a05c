"""Hosting the emulator: ``EmulatorServer``, the one front door for tests and tools.

Like moto's ``ThreadedMotoServer``: start it on port 0 in a test, read ``url``,
stop it at the end. The sockets are ``emulator.core.http``'s, the routes
``emulator.app.EmulatorApp``'s; ``FakeCloudServer`` is the same server with a
``FakeKeystone`` gateway in front (``emulator.gateway``), as a whole cloud behind
one address. The command line (``python -m emulator``, ``nic-autoattach emulator``)
is ``emulator.cli``.
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
from emulator.core.requestlog import RequestLog
from emulator.ecs_v1.models import FakeEcsV1
from emulator.eventgrid.models import FakeEventGrid
from emulator.identity.keystone import FakeKeystone
from emulator.identity.tokens import TokenStore

DEFAULT_TOKEN = "emulator-token"
DEFAULT_PORT = 8774


class EmulatorServer:
    """The emulator on ``host:port`` (0 = any free port), served from a daemon thread.

    ``tokens`` are accepted for every project (``self.tokens`` is the ``TokenStore``);
    ``requests`` is the request log; ``eventgrid`` the events published to it. With a
    ``keystone``, every call passes the cloud's gateway first.
    """

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
        ecs: FakeEcsV1 | None = None,
        autoscaling: FakeAutoScaling | None = None,
        keystone: FakeKeystone | None = None,
    ) -> None:
        self.host = host
        self.ratelimit = ratelimit if ratelimit is not None else RateLimits()
        self.faults = faults if faults is not None else Faults()
        self.latency = latency if latency is not None else Latency()
        self.port = port
        self.backend = backend if backend is not None else FakeBackend(clock=AdjustableClock())
        self.ecs = ecs or FakeEcsV1(self.backend, job_failure=self.faults.job_failure)
        self.autoscaling = autoscaling or FakeAutoScaling(self.backend)
        self.keystone = keystone
        self.tokens = TokenStore()
        for token in tokens:
            self.tokens.add(token)
        self.requests = RequestLog()
        self.eventgrid = FakeEventGrid()
        self.url = ""
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        app = EmulatorApp(
            self.backend,
            self.faults,
            self.latency,
            self.ecs,
            self.autoscaling,
            self.ratelimit,
            tokens=self.tokens,
            requests=self.requests,
            eventgrid=self.eventgrid,
            keystone=self.keystone,
        )
        httpd = HTTPServer((self.host, self.port), app)
        self.port = httpd.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"emulator-{self.port}",
        )
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


class FakeCloudServer(EmulatorServer):
    """A cloud behind one address: ``FakeKeystone`` in front of the services, on a free port.

    Shares ``backend`` (and ``ecs``, ``autoscaling`` when given) with whatever else
    serves it, say an ``EmulatorServer`` a test seeds through its admin API; its fault
    plan, latency and rate limit are its own (none). ``auth_url`` is Keystone's,
    ``compute_url`` Nova's (``/compute``), ``ecs_url`` the root, where Huawei's SDK
    sends every service.
    """

    def __init__(
        self,
        keystone: FakeKeystone,
        backend: FakeBackend,
        *,
        ecs: FakeEcsV1 | None = None,
        autoscaling: FakeAutoScaling | None = None,
    ) -> None:
        super().__init__(
            backend=backend, tokens=(), ecs=ecs, autoscaling=autoscaling, keystone=keystone
        )
        self.keystone: FakeKeystone = keystone

    def start(self) -> FakeCloudServer:
        super().start()
        return self

    def __enter__(self) -> FakeCloudServer:
        return self.start()

    @property
    def auth_url(self) -> str:
        return f"{self.url}/v3"

    @property
    def compute_url(self) -> str:
        return f"{self.url}/compute"

    @property
    def ecs_url(self) -> str:
        """The endpoint for Huawei's SDK (it keeps only the scheme and host of an endpoint)."""
        return self.url


def main(argv: list[str] | None = None) -> int:
    """The command line (``nic-autoattach emulator`` runs ``emulator.server.main``)."""
    from emulator.cli import main as cli_main  # the CLI imports this module

    return cli_main(argv)
