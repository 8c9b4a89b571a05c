"""The test-facing control API under ``/_admin`` (no auth).

Like moto's ``moto_api``: tests, the demo and the benchmarks create networks,
servers and ports, read the whole state and the request log, and reset the
backend between runs. The bodies are read in ``documents.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.autoscaling.models import FakeAutoScaling
from emulator.compute.models import FakeBackend
from emulator.control import documents as docs
from emulator.control import network_admin
from emulator.control.faults import Faults
from emulator.control.latency import Latency, build_profile
from emulator.core.errors import BadRequest
from emulator.core.requestlog import RequestLog
from emulator.core.wire import Request, Response, Router
from emulator.ecs_v1.models import FakeEcsV1
from emulator.identity.tokens import TokenStore
from emulator.network_api.models import FakeNetworkApi

AdminHandler = Callable[[Request, dict[str, str]], Response]


class AdminApp:
    """Routes of the control API; bodies are parsed here, the work is the backend's."""

    def __init__(
        self,
        backend: FakeBackend,
        faults: Faults,
        latency: Latency,
        ecs: FakeEcsV1,
        autoscaling: FakeAutoScaling | None = None,
        network: FakeNetworkApi | None = None,
        *,
        tokens: TokenStore,
        requests: RequestLog,
    ) -> None:
        self.backend = backend
        self.tokens = tokens
        self.request_log = requests
        self.ecs = ecs
        self.network = network or FakeNetworkApi(backend)
        self.autoscaling = autoscaling or FakeAutoScaling(backend)
        self.faults = faults
        self.latency = latency
        self.router: Router[AdminHandler] = Router()
        self.router.add("/_admin/networks", {"POST": self._created(docs.create_network, "network")})
        ports = network_admin.list_ports(self.network)
        self.router.add(
            "/_admin/ports", {"POST": self._created(docs.create_port, "port"), "GET": ports}
        )
        self.router.add("/_admin/servers", {"POST": self._created(docs.create_server, "server")})
        server: dict[str, AdminHandler] = {
            "GET": self.show_server,
            "PATCH": self.update_server,
            "DELETE": network_admin.delete_server(backend),
        }
        self.router.add("/_admin/servers/{server_id}", server)
        self.router.add("/_admin/state", {"GET": self.state})
        self.router.add("/_admin/reset", {"POST": self.reset})
        self.router.add("/_admin/requests", {"GET": self.requests, "DELETE": self.clear_requests})
        self.router.add("/_admin/seed", {"POST": self.seed})
        self.router.add("/_admin/tokens", {"POST": self.add_token})
        self.router.add("/_admin/options", {"GET": self.options, "PATCH": self.set_options})
        self.router.add("/_admin/faults", {"GET": self.fault_plan, "PATCH": self.set_faults})
        profile: dict[str, AdminHandler] = {
            "GET": self.latency_profile,
            "PUT": self.set_latency,
            "PATCH": self.set_latency,
        }
        self.router.add("/_admin/latency", profile)
        self.router.add("/_admin/ecs", {"GET": self.ecs_options, "PATCH": self.set_ecs_options})
        self.router.add("/_admin/clock", {"GET": self.clock, "PATCH": self.advance_clock})
        autoscaling_routes: dict[str, AdminHandler] = {
            "GET": self.autoscaling_state,
            "PATCH": self.set_autoscaling_options,
        }
        self.router.add("/_admin/autoscaling", autoscaling_routes)
        self.router.add("/_admin/autoscaling/groups", {"POST": self.create_scaling_group})
        self.router.add("/_admin/autoscaling/hang", {"POST": self.hang_instance})

    def handle(self, request: Request) -> Response:
        handler, params = self.router.match(request.method, request.path)
        return handler(request, params)

    def _created(
        self, create: Callable[[FakeBackend, object], dict[str, Any]], key: str
    ) -> AdminHandler:
        return lambda request, _: Response(201, {key: create(self.backend, request.json())})

    def show_server(self, _: Request, params: dict[str, str]) -> Response:
        return Response(200, {"server": self.backend.admin_server(params["server_id"]).to_dict()})

    def update_server(self, request: Request, params: dict[str, str]) -> Response:
        doc = docs.Doc(request.json(), "server update", {"status", "tags"})
        tags = doc.texts("tags") if "tags" in doc.doc else None
        server = self.backend.update_server(
            params["server_id"], status=doc.text("status"), tags=tags
        )
        return Response(200, {"server": server.to_dict()})

    def state(self, *_: object) -> Response:
        return Response(200, self.backend.state())

    def reset(self, *_: object) -> Response:
        self.backend.reset()
        self.ecs.reset()
        self.autoscaling.reset()
        self.network.reset()
        self.request_log.clear()
        return Response(200, {"reset": True})

    def requests(self, *_: object) -> Response:
        return Response(200, {"requests": self.request_log.entries()})

    def clear_requests(self, *_: object) -> Response:
        self.request_log.clear()
        return Response(204)

    def seed(self, request: Request, _: dict[str, str]) -> Response:
        return Response(201, docs.apply_seed(self.backend, self.tokens, request.json()))

    def add_token(self, request: Request, _: dict[str, str]) -> Response:
        docs.add_token(self.tokens, request.json())
        return Response(204)

    def options(self, *_: object) -> Response:
        return Response(200, self.backend.options())

    def set_options(self, request: Request, _: dict[str, str]) -> Response:
        return Response(200, docs.set_options(self.backend, request.json()))

    def fault_plan(self, *_: object) -> Response:
        return Response(200, self.faults.plan.as_dict())

    def set_faults(self, request: Request, _: dict[str, str]) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise BadRequest("fault options must be a JSON object")
        try:
            return Response(200, self.faults.configure(body))
        except (TypeError, ValueError) as exc:
            raise BadRequest(str(exc)) from None

    def latency_profile(self, *_: object) -> Response:
        return Response(200, self.latency.profile.as_dict())

    def set_latency(self, request: Request, _: dict[str, str]) -> Response:
        """PUT: a profile from scratch (or a named one); PATCH: changes to the current one."""
        body = request.json()
        if not isinstance(body, dict):
            raise BadRequest("the latency profile must be a JSON object")
        base = self.latency.profile if request.method == "PATCH" else None
        try:
            return Response(200, self.latency.set(build_profile(body, base)))
        except (TypeError, ValueError) as exc:
            raise BadRequest(str(exc)) from None

    def clock(self, *_: object) -> Response:
        return Response(200, docs.clock_view(self.backend.wall_time()))

    def advance_clock(self, request: Request, _: dict[str, str]) -> Response:
        doc = docs.Doc(request.json(), "clock", {"advance_s"})
        seconds = doc.number("advance_s")
        if seconds is None:
            raise BadRequest("clock: advance_s is required.")
        return Response(200, docs.clock_view(self.backend.advance_clock(float(seconds))))

    def ecs_options(self, *_: object) -> Response:
        return Response(200, self.ecs.options())

    def set_ecs_options(self, request: Request, _: dict[str, str]) -> Response:
        return Response(200, docs.set_ecs_options(self.ecs, request.json()))

    def autoscaling_state(self, *_: object) -> Response:
        return Response(200, self.autoscaling.state())

    def set_autoscaling_options(self, request: Request, _: dict[str, str]) -> Response:
        return Response(200, docs.set_autoscaling_options(self.autoscaling, request.json()))

    def create_scaling_group(self, request: Request, _: dict[str, str]) -> Response:
        group = docs.create_scaling_group(self.autoscaling, request.json())
        return Response(201, {"scaling_group": group})

    def hang_instance(self, request: Request, _: dict[str, str]) -> Response:
        record = docs.hang_instance(self.autoscaling, request.json())
        return Response(201, {"instance_hanging_info": record})
