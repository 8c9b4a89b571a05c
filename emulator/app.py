"""The emulated compute API: parse the request, call the backend, answer Nova's JSON.

``EmulatorApp.handle`` is the whole web application without sockets: the
admin API under ``/_admin``, version discovery at ``/``, ``/v2.1/`` and
``/v2/``, and the compute calls under ``/{v2.1|v2}/{project_id}``. Every
compute request gets Nova's request-id headers and a line in the request
log (never the token). Unexpected exceptions become a 500 computeFault.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from emulator import views
from emulator.admin import AdminApp
from emulator.errors import (
    BadRequest,
    FakeApiError,
    ItemNotFound,
    MethodNotAllowed,
    unexpected_error,
)
from emulator.faults import Faults
from emulator.models import FakeBackend
from emulator.records import ServerSnapshot
from emulator.schemas import parse_attach_body
from emulator.versions import (
    LEGACY_V2,
    Microversion,
    parse_microversion,
    version_document,
    version_headers,
    versions_document,
)
from emulator.wire import Request, Response, Router

LOG = logging.getLogger("emulator")
API_PATH = re.compile(r"^/(v2|v2\.1)/([^/]+)(/.*)?$")
SERVER_IN_PATH = re.compile(r"^/servers/([^/]+)")
DISCOVERY = {"/": None, "/v2.1": "v2.1", "/v2.1/": "v2.1", "/v2": "v2", "/v2/": "v2"}
MAX_LIMIT = 1000
#: The request log keeps this much of each body (bodies carry no secrets; headers do).
LOGGED_BODY_BYTES = 4096


@dataclass(frozen=True)
class Call:
    """One compute request, with what its URL and headers say."""

    request: Request
    api: str
    project_id: str
    version: Microversion
    params: dict[str, str]

    @property
    def server_id(self) -> str:
        return self.params["server_id"]


def error_response(error: FakeApiError) -> Response:
    response = Response(error.status, error.body())
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.allowed)
    return response


def _parse_limit(call: Call) -> int:
    text = call.request.param("limit")
    if text is None:
        return MAX_LIMIT
    if not text.isdigit():
        raise BadRequest(
            f"Invalid input for query parameters limit. Value: {text}. "
            f"'{text}' does not match '^[0-9]*$'"
        )
    return min(int(text), MAX_LIMIT)


class ComputeApp:
    """The Nova-compatible calls under ``/{api}/{project_id}``."""

    def __init__(self, backend: FakeBackend) -> None:
        self.backend = backend
        self.router: Router[Callable[[Call], Response]] = Router()
        self.router.add("/servers", {"GET": self.list_servers})
        self.router.add("/servers/detail", {"GET": self.list_servers_detail})
        self.router.add("/servers/{server_id}", {"GET": self.show_server})
        self.router.add("/servers/{server_id}/tags", {"GET": self.list_tags})
        interfaces = {"GET": self.list_interfaces, "POST": self.attach_interface}
        self.router.add("/servers/{server_id}/os-interface", interfaces)
        interface = {"GET": self.show_interface, "DELETE": self.detach_interface}
        self.router.add("/servers/{server_id}/os-interface/{port_id}", interface)

    def handle(self, request: Request, api: str, project_id: str, rest: str) -> Response:
        self.backend.authorize(request.headers.get("x-auth-token"), project_id)
        version = LEGACY_V2 if api == "v2" else parse_microversion(request.headers)
        try:
            handler, params = self.router.match(request.method, rest)
            response = handler(Call(request, api, project_id, version, params))
        except FakeApiError as error:
            response = error_response(error)
        response.headers.update(version_headers(version))
        return response

    def _servers_page(self, call: Call) -> tuple[list[ServerSnapshot], list[dict[str, str]]]:
        limit = _parse_limit(call)
        marker = call.request.param("marker")
        servers = self.backend.list_servers(call.project_id, limit=limit, marker=marker)
        query = {k: v[-1] for k, v in call.request.query.items() if k not in ("limit", "marker")}
        path = call.request.path
        links = views.next_link(call.request.base_url, path, query, servers, limit)
        return servers, links

    def list_servers(self, call: Call) -> Response:
        servers, links = self._servers_page(call)
        base_url = call.request.base_url
        body = {"servers": [views.server_summary(s, base_url, call.api) for s in servers]}
        return Response(200, {**body, "servers_links": links} if links else body)

    def list_servers_detail(self, call: Call) -> Response:
        servers, links = self._servers_page(call)
        base_url = call.request.base_url
        items = [views.server_view(s, call.version, base_url, call.api) for s in servers]
        body = {"servers": items}
        return Response(200, {**body, "servers_links": links} if links else body)

    def show_server(self, call: Call) -> Response:
        server = self.backend.get_server(call.project_id, call.server_id)
        view = views.server_view(server, call.version, call.request.base_url, call.api)
        return Response(200, {"server": view})

    def list_tags(self, call: Call) -> Response:
        if call.version < views.TAGS_VERSION:
            raise ItemNotFound()
        server = self.backend.get_server(call.project_id, call.server_id)
        return Response(200, {"tags": list(server.tags)})

    def list_interfaces(self, call: Call) -> Response:
        found = self.backend.list_interfaces(call.project_id, call.server_id)
        items = [views.interface_view(interface, call.version) for interface in found]
        return Response(200, {"interfaceAttachments": items})

    def show_interface(self, call: Call) -> Response:
        port_id = call.params["port_id"]
        found = self.backend.get_interface(call.project_id, call.server_id, port_id)
        return Response(200, {"interfaceAttachment": views.interface_view(found, call.version)})

    def attach_interface(self, call: Call) -> Response:
        request = parse_attach_body(call.request.json(), call.version)
        found = self.backend.attach_interface(call.project_id, call.server_id, request)
        return Response(200, {"interfaceAttachment": views.interface_view(found, call.version)})

    def detach_interface(self, call: Call) -> Response:
        self.backend.detach_interface(call.project_id, call.server_id, call.params["port_id"])
        return Response(202)


class EmulatorApp:
    """Admin API, version discovery and compute API behind one ``handle``."""

    def __init__(self, backend: FakeBackend, faults: Faults | None = None) -> None:
        self.backend = backend
        self.faults = faults if faults is not None else Faults()
        self.admin = AdminApp(backend)
        self.compute = ComputeApp(backend)

    def handle(self, request: Request) -> Response:
        if request.path == "/_admin/faults":
            return self._safely(lambda: self._faults_admin(request))
        if request.path == "/_admin" or request.path.startswith("/_admin/"):
            return self._safely(lambda: self.admin.handle(request))
        request_id = f"req-{uuid.uuid4()}"
        match = API_PATH.match(request.path)
        fault = None
        if match is not None:
            server = SERVER_IN_PATH.match(match.group(3) or "")
            fault = self.faults.before(request, server.group(1) if server else None)
        response = fault or self._safely(lambda: self._route(request))
        if match is not None and fault is None and response.status < 300:
            response = self.faults.after(request, response)
        response.headers["x-openstack-request-id"] = request_id
        response.headers["x-compute-request-id"] = request_id
        self._record(request, response, request_id)
        return response

    def _faults_admin(self, request: Request) -> Response:
        if request.method == "GET":
            return Response(200, self.faults.plan.as_dict())
        if request.method != "PATCH":
            raise MethodNotAllowed(("GET", "PATCH"))
        body = request.json()
        if not isinstance(body, dict):
            raise BadRequest("fault options must be a JSON object")
        try:
            return Response(200, self.faults.configure(body))
        except (TypeError, ValueError) as exc:
            raise BadRequest(str(exc)) from None

    def _route(self, request: Request) -> Response:
        match = API_PATH.match(request.path)
        if match is not None:
            api, project_id, rest = match.group(1), match.group(2), match.group(3) or ""
            return self.compute.handle(request, api, project_id, rest)
        if request.path not in DISCOVERY:
            raise ItemNotFound()
        if request.method != "GET":
            raise MethodNotAllowed(("GET",))
        api = DISCOVERY[request.path]
        if api is None:
            return Response(200, versions_document(request.base_url))
        return Response(200, version_document(request.base_url, api))

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
                "request_id": request_id,
            }
        )
