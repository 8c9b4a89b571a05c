"""The test-facing control API under ``/_admin`` (no auth), and the seed document.

Like moto's ``moto_api``: tests, the demo and the benchmarks create networks,
servers and ports, read the whole state and the request log, and reset the
backend between runs. The seed document (``--seed FILE``, ``POST /_admin/seed``)
holds lists of the same bodies the create routes take.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.autoscaling.errors import AsError
from emulator.autoscaling.models import FakeAutoScaling
from emulator.compute.models import FakeBackend, iso_time
from emulator.compute.records import AttachRequest
from emulator.control import network_admin
from emulator.control.faults import Faults
from emulator.control.latency import Latency, build_profile
from emulator.core.errors import BadRequest
from emulator.core.wire import Request, Response, Router
from emulator.ecs_v1.models import FakeEcsV1
from emulator.network_api.models import FakeNetworkApi

AdminHandler = Callable[[Request, dict[str, str]], Response]
OPTIONS = {"nova_errors": bool, "build_seconds": float, "port_down_seconds": float,
           "detach_delay_seconds": float, "max_limit": int}  # fmt: skip


class _Doc:
    """A JSON object from an admin body, read field by field with clear 400s."""

    def __init__(self, doc: object, what: str, allowed: set[str]) -> None:
        if not isinstance(doc, dict):
            raise BadRequest(f"{what} must be a JSON object, not {type(doc).__name__}.")
        unknown = sorted(set(doc) - allowed)
        if unknown:
            raise BadRequest(f"{what}: unknown field(s) {unknown}; allowed: {sorted(allowed)}.")
        self.doc: dict[str, Any] = doc
        self.what = what

    def get(self, key: str, kind: type | tuple[type, ...], required: bool) -> Any:
        value = self.doc.get(key)
        if value is None:
            if required:
                raise BadRequest(f"{self.what}: {key} is required.")
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise BadRequest(f"{self.what}: {key} has the wrong type ({value!r}).")
        return value

    def text(self, key: str, *, required: bool = False) -> str | None:
        value: str | None = self.get(key, str, required)
        return value

    def number(self, key: str) -> float | None:
        value: float | None = self.get(key, (int, float), False)
        return value

    def items(self, key: str) -> list[Any]:
        value: list[Any] | None = self.get(key, list, False)
        return value or []

    def texts(self, key: str) -> list[str]:
        values = self.items(key)
        if not all(isinstance(value, str) for value in values):
            raise BadRequest(f"{self.what}: {key} must be a list of strings.")
        return values


def create_network(backend: FakeBackend, body: object) -> dict[str, Any]:
    doc = _Doc(body, "network", {"id", "name", "cidr", "subnet_id", "project_id", "shared"})
    network = backend.create_network(
        doc.text("cidr", required=True) or "",
        id=doc.text("id"),
        name=doc.text("name"),
        subnet_id=doc.text("subnet_id"),
        project_id=doc.text("project_id"),
        shared=bool(doc.get("shared", bool, False)),
    )
    return network.to_dict()


def create_port(backend: FakeBackend, body: object) -> dict[str, Any]:
    doc = _Doc(body, "port", {"id", "net_id", "fixed_ip", "project_id", "name"})
    net_id = doc.text("net_id", required=True) or ""
    port = backend.create_port(
        net_id,
        id=doc.text("id"),
        fixed_ip=doc.text("fixed_ip"),
        project_id=doc.text("project_id"),
        name=doc.text("name") or "",
    )
    return port.to_dict()


def _interface(body: object) -> AttachRequest:
    doc = _Doc(body, "interface", {"net_id", "port_id", "fixed_ip", "tag"})
    return AttachRequest(doc.text("net_id"), doc.text("port_id"), doc.text("fixed_ip"),
                         doc.text("tag"))  # fmt: skip


def create_server(backend: FakeBackend, body: object) -> dict[str, Any]:
    allowed = {"id", "project_id", "name", "tags", "status", "build_seconds", "interfaces"}
    doc = _Doc(body, "server", allowed)
    server = backend.create_server(
        doc.text("project_id", required=True) or "",
        id=doc.text("id"),
        name=doc.text("name"),
        tags=doc.texts("tags"),
        status=doc.text("status") or "ACTIVE",
        build_seconds=doc.number("build_seconds"),
        interfaces=[_interface(item) for item in doc.items("interfaces")],
    )
    return server.to_dict()


def add_token(backend: FakeBackend, body: object) -> None:
    """A token: a string (any project), or ``{"token": ..., "projects": [...]}``."""
    if isinstance(body, str):
        backend.add_token(body)
        return
    doc = _Doc(body, "token", {"token", "projects"})
    projects = doc.texts("projects") if "projects" in doc.doc else None
    backend.add_token(doc.text("token", required=True) or "", projects)


def apply_seed(backend: FakeBackend, body: object) -> dict[str, Any]:
    """Create what a seed document lists: networks, then ports, servers and tokens."""
    doc = _Doc(body, "seed", {"networks", "servers", "ports", "tokens"})
    created = {
        "networks": [create_network(backend, item) for item in doc.items("networks")],
        "ports": [create_port(backend, item) for item in doc.items("ports")],
        "servers": [create_server(backend, item) for item in doc.items("servers")],
    }
    for token in doc.items("tokens"):
        add_token(backend, token)
    return created


def set_ecs_options(ecs: FakeEcsV1, body: object) -> dict[str, Any]:
    """Check every field, then apply them all."""
    doc = _Doc(body, "ECS v1 options", set(ecs.options()))
    changes: dict[str, Any] = {}
    for name in ("job_seconds", "job_init_seconds", "job_ttl_seconds", "max_nics"):
        value = doc.number(name)
        if value is not None and (value < 0 or (name == "max_nics" and value != int(value))):
            raise BadRequest(f"ECS v1 options: {name} out of range ({value!r}).")
        if value is not None:
            changes[name] = int(value) if name == "max_nics" else float(value)
    limits = doc.get("server_max_nics", dict, False) or {}
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in limits.values()):
        raise BadRequest("ECS v1 options: server_max_nics maps server ids to NIC counts.")
    for name, value in changes.items():
        setattr(ecs, name, value)
    ecs.server_max_nics.update(limits)
    return ecs.options()


def set_options(backend: FakeBackend, body: object) -> dict[str, Any]:
    doc = _Doc(body, "options", set(OPTIONS))
    for name, kind in OPTIONS.items():
        value = doc.get(name, kind if kind is bool else (int, float), False)
        if name == "max_limit" and value is not None and (int(value) != value or value < 1):
            raise BadRequest("options: max_limit must be a whole number of at least 1.")
        if value is not None:
            setattr(backend, name, int(value) if name == "max_limit" else value)
    return backend.options()


def clock_view(wall_time: float) -> dict[str, Any]:
    return {"now": iso_time(wall_time), "epoch_s": round(wall_time, 3)}


def create_scaling_group(autoscaling: FakeAutoScaling, body: object) -> dict[str, Any]:
    """A scaling group and its hooks (each a create-hook body of the AS API)."""
    doc = _Doc(body, "scaling group", {"id", "project_id", "name", "hooks"})
    project = doc.text("project_id", required=True) or ""
    hooks = doc.items("hooks")
    if not all(isinstance(hook, dict) for hook in hooks):
        raise BadRequest("scaling group: hooks must be a list of objects.")
    group = autoscaling.create_group(project, id=doc.text("id"), name=doc.text("name"))
    try:
        created = [autoscaling.create_hook(project, group.id, hook).to_dict() for hook in hooks]
    except AsError as error:
        raise BadRequest(f"scaling group: hook: {error.code}: {error.message}") from None
    return {"id": group.id, "project_id": project, "name": group.name, "hooks": created}


def hang_instance(autoscaling: FakeAutoScaling, body: object) -> dict[str, Any]:
    allowed = {"scaling_group_id", "instance_id", "lifecycle_hook_name", "lifecycle_action_key"}
    doc = _Doc(body, "hanging instance", allowed)
    try:
        record = autoscaling.hang(
            doc.text("scaling_group_id", required=True) or "",
            doc.text("instance_id", required=True) or "",
            hook_name=doc.text("lifecycle_hook_name"),
            action_key=doc.text("lifecycle_action_key"),
        )
    except AsError as error:
        raise BadRequest(f"hanging instance: {error.message}") from None
    return record.to_dict(autoscaling.backend.clock())


def set_autoscaling_options(autoscaling: FakeAutoScaling, body: object) -> dict[str, Any]:
    doc = _Doc(body, "autoscaling options", {"keep_released_seconds"})
    keep = doc.number("keep_released_seconds")
    if keep is not None and keep < 0:
        raise BadRequest(f"autoscaling options: keep_released_seconds out of range ({keep!r}).")
    if keep is not None:
        autoscaling.keep_released_seconds = float(keep)
    return autoscaling.state()


class AdminApp:
    """Routes of the control API; bodies are parsed here, the work is the backend's."""

    def __init__(
        self, backend: FakeBackend, faults: Faults, latency: Latency, ecs: FakeEcsV1,
        autoscaling: FakeAutoScaling | None = None, network: FakeNetworkApi | None = None,
    ) -> None:  # fmt: skip
        self.backend = backend
        self.ecs = ecs
        self.network = network or FakeNetworkApi(backend)
        self.autoscaling = autoscaling or FakeAutoScaling(backend)
        self.faults = faults
        self.latency = latency
        self.router: Router[AdminHandler] = Router()
        self.router.add("/_admin/networks", {"POST": self._created(create_network, "network")})
        ports = network_admin.list_ports(self.network)
        self.router.add("/_admin/ports", {"POST": self._created(create_port, "port"), "GET": ports})
        self.router.add("/_admin/servers", {"POST": self._created(create_server, "server")})
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
        self.router.add("/_admin/autoscaling", {"GET": self.autoscaling_state,
                                                "PATCH": self.set_autoscaling_options})  # fmt: skip
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
        doc = _Doc(request.json(), "server update", {"status", "tags"})
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
        return Response(200, {"reset": True})

    def requests(self, *_: object) -> Response:
        return Response(200, {"requests": self.backend.requests_log()})

    def clear_requests(self, *_: object) -> Response:
        self.backend.clear_requests()
        return Response(204)

    def seed(self, request: Request, _: dict[str, str]) -> Response:
        return Response(201, apply_seed(self.backend, request.json()))

    def add_token(self, request: Request, _: dict[str, str]) -> Response:
        add_token(self.backend, request.json())
        return Response(204)

    def options(self, *_: object) -> Response:
        return Response(200, self.backend.options())

    def set_options(self, request: Request, _: dict[str, str]) -> Response:
        return Response(200, set_options(self.backend, request.json()))

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
        return Response(200, clock_view(self.backend.wall_time()))

    def advance_clock(self, request: Request, _: dict[str, str]) -> Response:
        doc = _Doc(request.json(), "clock", {"advance_s"})
        seconds = doc.number("advance_s")
        if seconds is None:
            raise BadRequest("clock: advance_s is required.")
        return Response(200, clock_view(self.backend.advance_clock(float(seconds))))

    def ecs_options(self, *_: object) -> Response:
        return Response(200, self.ecs.options())

    def set_ecs_options(self, request: Request, _: dict[str, str]) -> Response:
        return Response(200, set_ecs_options(self.ecs, request.json()))

    def autoscaling_state(self, *_: object) -> Response:
        return Response(200, self.autoscaling.state())

    def set_autoscaling_options(self, request: Request, _: dict[str, str]) -> Response:
        return Response(200, set_autoscaling_options(self.autoscaling, request.json()))

    def create_scaling_group(self, request: Request, _: dict[str, str]) -> Response:
        group = create_scaling_group(self.autoscaling, request.json())
        return Response(201, {"scaling_group": group})

    def hang_instance(self, request: Request, _: dict[str, str]) -> Response:
        return Response(201, {"instance_hanging_info": hang_instance(self.autoscaling,
                                                                     request.json())})  # fmt: skip
