"""The compute API's responses: parse the request, call the backend, answer Nova's JSON.

As moto's ``responses.py``: ``ComputeApp`` routes the calls under
``/{v2.1|v2}/{project_id}`` (after the token check and the microversion) to
``FakeBackend`` and serialises its snapshots with ``views``; backend errors
become Nova's error bodies. ``version_discovery`` answers ``/``, ``/v2.1/``
and ``/v2/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from emulator.compute import views
from emulator.compute.models import FakeBackend
from emulator.compute.records import ServerSnapshot
from emulator.compute.schemas import parse_attach_body
from emulator.compute.versions import (
    LEGACY_V2,
    Microversion,
    parse_microversion,
    version_document,
    version_headers,
    versions_document,
)
from emulator.core.errors import BadRequest, FakeApiError, ItemNotFound, MethodNotAllowed
from emulator.core.wire import Request, Response, Router, error_response
from emulator.identity.tokens import TokenStore

API_PATH = re.compile(r"^/(v2|v2\.1)/([^/]+)(/.*)?$")
SERVER_IN_PATH = re.compile(r"^/servers/([^/]+)")
DISCOVERY = {"/": None, "/v2.1": "v2.1", "/v2.1/": "v2.1", "/v2": "v2", "/v2/": "v2"}
MAX_LIMIT = 1000


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


def _parse_changes_since(call: Call) -> float | None:
    """``changes-since`` as epoch seconds: an ISO 8601 date-time, UTC when it names no
    zone (Nova: ``format: date-time`` checked by ``timeutils.parse_isotime``)."""
    text = call.request.param("changes-since")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        moment = None
    if moment is None:
        raise BadRequest(
            f"Invalid input for query parameters changes-since. Value: {text}. "
            f"'{text}' is not a 'date-time'"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class ComputeApp:
    """The Nova-compatible calls under ``/{api}/{project_id}``."""

    def __init__(self, backend: FakeBackend, tokens: TokenStore) -> None:
        self.backend = backend
        self.tokens = tokens
        self.router: Router[Callable[[Call], Response]] = Router()
        self.router.add("/servers", {"GET": self.list_servers})
        self.router.add("/servers/detail", {"GET": self.list_servers_detail})
        server = {"GET": self.show_server, "DELETE": self.delete_server}
        self.router.add("/servers/{server_id}", server)
        self.router.add("/servers/{server_id}/tags", {"GET": self.list_tags})
        interfaces = {"GET": self.list_interfaces, "POST": self.attach_interface}
        self.router.add("/servers/{server_id}/os-interface", interfaces)
        interface = {"GET": self.show_interface, "DELETE": self.detach_interface}
        self.router.add("/servers/{server_id}/os-interface/{port_id}", interface)

    def handle(self, request: Request, api: str, project_id: str, rest: str) -> Response:
        self.tokens.authorize(request.headers.get("x-auth-token"), project_id)
        version = LEGACY_V2 if api == "v2" else parse_microversion(request.headers)
        try:
            handler, params = self.router.match(request.method, rest)
            response = handler(Call(request, api, project_id, version, params))
        except FakeApiError as error:
            response = error_response(error)
        response.headers.update(version_headers(version))
        return response

    def _servers_page(self, call: Call) -> tuple[list[ServerSnapshot], list[dict[str, str]]]:
        limit = min(_parse_limit(call), self.backend.max_limit)  # Nova's [api] max_limit
        marker = call.request.param("marker")
        changes_since = _parse_changes_since(call)
        servers = self.backend.list_servers(
            call.project_id, limit=limit, marker=marker, changes_since=changes_since
        )
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

    def delete_server(self, call: Call) -> Response:
        """204; ports attached by ``port_id`` are unbound and kept, Nova's own deleted."""
        self.backend.delete_server(call.project_id, call.server_id)
        return Response(204)

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


def version_discovery(request: Request) -> Response:
    """``GET /``, ``GET /v2.1/``, ``GET /v2/`` (no token needed)."""
    if request.path not in DISCOVERY:
        raise ItemNotFound()
    if request.method != "GET":
        raise MethodNotAllowed(("GET",))
    api = DISCOVERY[request.path]
    if api is None:
        return Response(200, versions_document(request.base_url))
    return Response(200, version_document(request.base_url, api))
