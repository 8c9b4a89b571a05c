"""The whole emulator as one web application without sockets: every service behind ``handle``.

Like moto's server-mode dispatcher: the control API under ``/_admin``, then one route
table, matched once per request, whose entry says how the call is treated:

| route | service | rate limit | faults | latency |
|---|---|---|---|---|
| ``/{v2.1,v2}/{project_id}/...`` | Nova's compute API | ``compute`` | yes | by call kind |
| ``/{v1,v2.0}/{project_id}/publicips`` | Huawei's EIP API | – | yes | read |
| ``/v1/{project_id}/cloudservers,jobs`` | Huawei's native NIC API | ``ecs`` | yes | read |
| ``/v1/{project_id}/channels/{id}/events`` | EventGrid's publish call | – | – | – |
| ``/v2.0/...`` | Neutron's port API (the token's project) | – | yes | read |
| ``/autoscaling-api/v1/{project_id}`` | Auto Scaling's lifecycle hooks | – | – | read |
| anything else | version discovery (``/``, ``/v2.1/``, ``/v2/``) | – | – | – |

Every answer but the admin API's gets Nova's request-id headers and a line in the
request log (never the token). Unexpected exceptions become a 500 computeFault.
With a ``KeystoneGateway`` (``emulator.gateway``) a request passes the cloud's
gateway first: Keystone's tokens, AK/SK signatures and the project check.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from emulator.autoscaling.models import FakeAutoScaling
from emulator.autoscaling.responses import API_PATH as AS_PATH
from emulator.autoscaling.responses import AutoScalingApp
from emulator.compute.models import FakeBackend
from emulator.compute.responses import API_PATH as COMPUTE_PATH
from emulator.compute.responses import ComputeApp, version_discovery
from emulator.control.admin import AdminApp
from emulator.control.faults import Faults
from emulator.control.latency import Latency, call_kind
from emulator.control.ratelimit import RateLimits
from emulator.core.errors import FakeApiError, unexpected_error
from emulator.core.requestlog import RequestLog
from emulator.core.wire import Request, Response, error_response
from emulator.ecs_v1.models import FakeEcsV1
from emulator.ecs_v1.responses import API_PATH as ECS_V1_PATH
from emulator.ecs_v1.responses import EcsV1App
from emulator.eip.bandwidths import FakeBandwidths
from emulator.eip.models import FakeEips
from emulator.eip.responses import API_PATH as EIP_PATH
from emulator.eip.responses import EipApp
from emulator.eventgrid.models import FakeEventGrid
from emulator.eventgrid.responses import API_PATH as EVENTS_PATH
from emulator.eventgrid.responses import EventGridApp
from emulator.gateway import KeystoneGateway
from emulator.identity.keystone import FakeKeystone
from emulator.identity.tokens import TokenStore
from emulator.network_api.models import FakeNetworkApi
from emulator.network_api.responses import API_PATH as NETWORK_PATH
from emulator.network_api.responses import NetworkApp

LOG = logging.getLogger("emulator")
SERVER_IN_PATH = re.compile(r"^/servers/([^/]+)")
V1_SERVER_IN_PATH = re.compile(r"^/cloudservers/([^/]+)")
#: The request log keeps this much of each body (bodies carry no secrets; headers do).
LOGGED_BODY_BYTES = 4096


@dataclass(frozen=True)
class Route:
    """One API: where it lives, who serves it, and what the gateway does before."""

    pattern: re.Pattern[str]
    serve: Callable[[Request, re.Match[str]], Response]
    #: The rate limit's API name, and where the request names its project.
    limit: tuple[str, Callable[[Request, re.Match[str]], str]] | None = None
    #: Whether the fault plan applies; then the server a fault may name, if any.
    faults: bool = False
    server: Callable[[re.Match[str]], str | None] = lambda _: None
    #: The latency profile's call kind (None: no delay).
    latency: Callable[[Request, bool], str] | None = None


def _read(_: Request, __: bool) -> str:
    return "read"


def _project_header(request: Request, _: re.Match[str]) -> str:
    """The network API names no project in its paths: the caller's ``X-Project-Id``."""
    return request.headers.get("x-project-id") or "-"


def _compute_kind(request: Request, faulted: bool) -> str:
    return "read" if faulted else call_kind(request)


def _server(pattern: re.Pattern[str], group: int) -> Callable[[re.Match[str]], str | None]:
    def server(match: re.Match[str]) -> str | None:
        found = pattern.match(match.group(group) or "")
        return found.group(1) if found else None

    return server


class EmulatorApp:
    """Control API, version discovery and every service behind one ``handle``."""

    def __init__(
        self,
        backend: FakeBackend,
        faults: Faults | None = None,
        latency: Latency | None = None,
        ecs: FakeEcsV1 | None = None,
        autoscaling: FakeAutoScaling | None = None,
        ratelimit: RateLimits | None = None,
        *,
        tokens: TokenStore | None = None,
        requests: RequestLog | None = None,
        eventgrid: FakeEventGrid | None = None,
        keystone: FakeKeystone | None = None,
    ) -> None:
        self.backend = backend
        self.tokens = tokens if tokens is not None else TokenStore()
        self.requests = requests if requests is not None else RequestLog()
        self.faults = faults if faults is not None else Faults()
        self.latency = latency if latency is not None else Latency()
        self.ratelimit = ratelimit if ratelimit is not None else RateLimits()
        self.ecs = ecs or FakeEcsV1(backend, job_failure=self.faults.job_failure)
        self.autoscaling = autoscaling or FakeAutoScaling(backend)
        self.network = FakeNetworkApi(backend)
        self.eips = FakeEips(backend)
        self.bandwidths = FakeBandwidths(backend, self.eips)
        self.eventgrid = eventgrid if eventgrid is not None else FakeEventGrid()
        self.gateway = KeystoneGateway(keystone, self.tokens) if keystone is not None else None
        self.admin = AdminApp(
            backend,
            self.faults,
            self.latency,
            self.ecs,
            self.autoscaling,
            self.network,
            tokens=self.tokens,
            requests=self.requests,
        )
        self.admin.router.add("/_admin/ratelimit", self.ratelimit.routes())
        self.routes = self._routes()

    def _routes(self) -> list[Route]:
        tokens = self.tokens
        compute, eip = ComputeApp(self.backend, tokens), EipApp(self.eips, tokens, self.bandwidths)
        ecs_v1, events = EcsV1App(self.ecs, tokens), EventGridApp(self.eventgrid, tokens)
        network, hooks = NetworkApp(self.network, tokens), AutoScalingApp(self.autoscaling, tokens)
        return [
            Route(
                COMPUTE_PATH,
                lambda r, m: compute.handle(r, m.group(1), m.group(2), m.group(3) or ""),
                limit=("compute", lambda _, m: m.group(2)),
                faults=True,
                server=_server(SERVER_IN_PATH, 3),
                latency=_compute_kind,
            ),
            Route(
                EIP_PATH,
                lambda r, m: eip.handle(r, m.group(1), m.group(2), m.group(3)),
                faults=True,
                latency=_read,
            ),
            Route(
                ECS_V1_PATH,
                lambda r, m: ecs_v1.handle(r, m.group(1), m.group(2)),
                limit=("ecs", lambda _, m: m.group(1)),
                faults=True,
                server=_server(V1_SERVER_IN_PATH, 2),
                latency=_read,  # a job's own time is job_seconds
            ),
            Route(EVENTS_PATH, lambda r, m: events.handle(r, m.group(1), m.group(2))),
            Route(
                NETWORK_PATH,
                lambda r, m: network.handle(r, m.group(1) or "/"),
                limit=("network", _project_header),
                faults=True,
                latency=_read,
            ),
            Route(AS_PATH, lambda r, m: hooks.handle(r, m.group(1), m.group(2)), latency=_read),
        ]

    def handle(self, request: Request) -> Response:
        if self.gateway is not None:
            admitted = self.gateway.admit(request)
            if isinstance(admitted, Response):
                return admitted
            request = admitted
        if request.path == "/_admin" or request.path.startswith("/_admin/"):
            if request.path.rstrip("/") == "/_admin/reset":
                self.eips.reset()
                self.bandwidths.reset()
                self.eventgrid.reset()
            return self._safely(lambda: self.admin.handle(request))
        request_id = f"req-{uuid.uuid4()}"
        response = self._serve(request)
        response.headers["x-openstack-request-id"] = request_id
        response.headers["x-compute-request-id"] = request_id
        self._record(request, response, request_id)
        return response

    def _serve(self, request: Request) -> Response:
        """The one route that matches, with its rate limit, faults and latency around it."""
        for route in self.routes:
            match = route.pattern.match(request.path)
            if match is not None:
                break
        else:
            return self._safely(lambda: version_discovery(request))
        if route.limit is not None:  # the gateway's rate limit: at once
            throttled = self.ratelimit.check(route.limit[1](request, match), route.limit[0])
            if throttled is not None:
                return throttled
        fault = self.faults.before(request, route.server(match)) if route.faults else None
        if route.latency is not None:
            self.latency.delay(route.latency(request, fault is not None))  # before the change
        if fault is not None:
            return fault
        response = self._safely(lambda: route.serve(request, match))
        if route.faults and response.status < 300:
            response = self.faults.after(request, response)
        return response

    def _safely(self, serve: Callable[[], Response]) -> Response:
        try:
            return serve()
        except FakeApiError as error:
            return error_response(error)
        except Exception as exc:  # a bug in the emulator must still answer like Nova
            LOG.exception("emulator handler failed")
            return error_response(unexpected_error(f"{type(exc).__module__}.{type(exc).__name__}"))

    def _record(self, request: Request, response: Response, request_id: str) -> None:
        version = response.headers.get("X-OpenStack-Nova-API-Version")
        self.requests.record(
            {
                "time": time.time(),
                "method": request.method,
                "path": request.path,
                "query": {name: list(values) for name, values in request.query.items()},
                "status": response.status,
                "microversion": version,
                "has_body": bool(request.body),
                "body": request.body[:LOGGED_BODY_BYTES].decode("utf-8", "replace") or None,
                "x_request_id": request.headers.get("x-request-id"),
                "traceparent": request.headers.get("traceparent"),
                "request_id": request_id,
            }
        )
