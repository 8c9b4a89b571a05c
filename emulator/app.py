"""The whole emulator as one web application without sockets: every service behind ``handle``.

Like moto's server-mode dispatcher: the control API under ``/_admin``,
version discovery at ``/``, ``/v2.1/`` and ``/v2/``, and the compute calls
under ``/{v2.1|v2}/{project_id}``, with fault injection and the latency
profile around the compute calls, Huawei's native NIC API under
``/v1/{project_id}``, Huawei's EIP API under ``/v1/{project_id}/publicips`` (tags
under ``/v2.0/{project_id}/publicips``), Neutron's port API under ``/v2.0`` (its project
from the token) and Auto Scaling's lifecycle hooks under ``/autoscaling-api/v1/{project_id}``.
Every compute request gets Nova's request-id headers and a line in the
request log (never the token). Unexpected exceptions become a 500 computeFault.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from emulator.autoscaling.models import FakeAutoScaling
from emulator.autoscaling.responses import API_PATH as AS_PATH
from emulator.autoscaling.responses import AutoScalingApp
from emulator.compute.models import FakeBackend
from emulator.compute.responses import API_PATH, ComputeApp, version_discovery
from emulator.control.admin import AdminApp
from emulator.control.faults import Faults
from emulator.control.latency import Latency, call_kind
from emulator.control.ratelimit import RateLimits
from emulator.core.errors import FakeApiError, unexpected_error
from emulator.core.wire import Request, Response, error_response
from emulator.ecs_v1.models import FakeEcsV1
from emulator.ecs_v1.responses import API_PATH as ECS_V1_PATH
from emulator.ecs_v1.responses import EcsV1App
from emulator.eip.models import FakeEips
from emulator.eip.responses import API_PATH as EIP_PATH
from emulator.eip.responses import EipApp
from emulator.network_api.models import FakeNetworkApi
from emulator.network_api.responses import API_PATH as NETWORK_PATH
from emulator.network_api.responses import NetworkApp

LOG = logging.getLogger("emulator")
SERVER_IN_PATH = re.compile(r"^/servers/([^/]+)")
V1_SERVER_IN_PATH = re.compile(r"^/cloudservers/([^/]+)")
#: The request log keeps this much of each body (bodies carry no secrets; headers do).
LOGGED_BODY_BYTES = 4096


class EmulatorApp:
    """Control API, version discovery and compute API behind one ``handle``."""

    def __init__(
        self, backend: FakeBackend, faults: Faults | None = None, latency: Latency | None = None,
        ecs: FakeEcsV1 | None = None, autoscaling: FakeAutoScaling | None = None,
        ratelimit: RateLimits | None = None,
    ) -> None:  # fmt: skip
        self.backend = backend
        self.faults = faults if faults is not None else Faults()
        self.latency = latency if latency is not None else Latency()
        self.ecs = ecs or FakeEcsV1(backend, job_failure=self.faults.job_failure)
        self.autoscaling = autoscaling or FakeAutoScaling(backend)
        self.network = FakeNetworkApi(backend)
        self.eips = FakeEips(backend)
        self.eip_api = EipApp(self.eips)
        self.admin = AdminApp(
            backend, self.faults, self.latency, self.ecs, self.autoscaling, self.network
        )
        self.network_api = NetworkApp(self.network)
        self.compute = ComputeApp(backend)
        self.ecs_v1 = EcsV1App(self.ecs)
        self.as_api = AutoScalingApp(self.autoscaling)
        self.ratelimit = ratelimit if ratelimit is not None else RateLimits()
        self.admin.router.add("/_admin/ratelimit", self.ratelimit.routes())

    def handle(self, request: Request) -> Response:
        if request.path == "/_admin" or request.path.startswith("/_admin/"):
            if request.path.rstrip("/") == "/_admin/reset":
                self.eips.reset()
            return self._safely(lambda: self.admin.handle(request))
        request_id = f"req-{uuid.uuid4()}"
        match = API_PATH.match(request.path)
        eip = EIP_PATH.match(request.path)
        v1 = None if match is not None else ECS_V1_PATH.match(request.path)
        network = None if eip is not None else NETWORK_PATH.match(request.path)
        fault = None
        if match is not None:
            server = SERVER_IN_PATH.match(match.group(3) or "")
            fault = self.ratelimit.check(match.group(2), "compute")  # the gateway: at once
            if fault is None:
                fault = self.faults.before(request, server.group(1) if server else None)
                self.latency.delay("read" if fault else call_kind(request))  # before the change
        elif v1 is not None:
            server = V1_SERVER_IN_PATH.match(v1.group(2))
            fault = self.ratelimit.check(v1.group(1), "ecs")
            if fault is None:
                fault = self.faults.before(request, server.group(1) if server else None)
                self.latency.delay("read")  # a job's own time is job_seconds
        elif network is not None or eip is not None:
            fault = self.faults.before(request, None)
            self.latency.delay("read")
        elif AS_PATH.match(request.path):
            self.latency.delay("read")
        response = fault or self._safely(lambda: self._route(request))
        if (match or v1 or network or eip) is not None and fault is None and response.status < 300:
            response = self.faults.after(request, response)
        response.headers["x-openstack-request-id"] = request_id
        response.headers["x-compute-request-id"] = request_id
        self._record(request, response, request_id)
        return response

    def _route(self, request: Request) -> Response:
        match = API_PATH.match(request.path)
        if match is not None:
            api, project_id, rest = match.group(1), match.group(2), match.group(3) or ""
            return self.compute.handle(request, api, project_id, rest)
        eip = EIP_PATH.match(request.path)
        if eip is not None:
            return self.eip_api.handle(request, eip.group(1), eip.group(2), eip.group(3))
        v1 = ECS_V1_PATH.match(request.path)
        if v1 is not None:
            return self.ecs_v1.handle(request, v1.group(1), v1.group(2))
        network = NETWORK_PATH.match(request.path)
        if network is not None:
            return self.network_api.handle(request, network.group(1) or "/")
        autoscaling = AS_PATH.match(request.path)
        if autoscaling is not None:
            return self.as_api.handle(request, autoscaling.group(1), autoscaling.group(2))
        return version_discovery(request)

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
        self.backend.record_request(
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
