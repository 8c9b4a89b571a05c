"""The ECS v1 routes: parse the request, call ``FakeEcsV1``, answer Huawei's JSON.

POST /v1/{project_id}/cloudservers/{server_id}/nics          {"nics": [...]} → {"job_id"}
POST /v1/{project_id}/cloudservers/{server_id}/nics/delete   {"nics": [{"id"}]} → {"job_id"}
GET  /v1/{project_id}/jobs/{job_id}                          the job
GET  /v1/{project_id}/cloudservers/{server_id}/os-interface  attachments + free_nic
PUT  /v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}
     {"interface_attachment": {"delete_on_termination": bool}} → 200, no body
POST /v1/{project_id}/cloudservers/delete  {"servers": [{"id"}]} → {"job_id"}
GET  /v1/{project_id}/cloudservers/detail?limit=&marker=&offset=  {"count", "servers"}
GET  /v1/{project_id}/cloudservers/{server_id}               {"server": {...}}
GET  /v1/{project_id}/cloudservers/{server_id}/tags          {"tags": [{"key", "value"}]}
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from emulator.compute import views
from emulator.compute.records import ServerSnapshot
from emulator.core.errors import FakeApiError, ItemNotFound, MethodNotAllowed
from emulator.core.wire import Request, Response, Router
from emulator.ecs_v1 import errors
from emulator.ecs_v1.errors import EcsError
from emulator.ecs_v1.models import FakeEcsV1
from emulator.ecs_v1.records import NicRequest
from emulator.identity.tokens import TokenStore
from emulator.network.records import InterfaceSnapshot

API_PATH = re.compile(r"^/v1/([^/]+)(/(?:cloudservers|jobs)(?:/.*)?)$")
Handler = Callable[[Request, str, dict[str, str]], Response]
_NIC_FIELDS = {
    "subnet_id",
    "port_id",
    "ip_address",
    "security_groups",
    "ipv6_enable",
    "ipv6_bandwidth",
    "efi_enable",
}


def _invalid(message: str) -> EcsError:
    return EcsError(400, errors.INVALID_PARAMETERS, f"Invalid parameters: {message}")


def _text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _invalid(f"{key} must be a non-empty string.")
    return value


def _nic_items(body: object) -> list[dict[str, Any]]:
    nics = body.get("nics") if isinstance(body, dict) else None
    if not isinstance(nics, list) or not nics or not all(isinstance(n, dict) for n in nics):
        raise _invalid("nics must be a non-empty list of objects.")
    return nics


def parse_add(body: object) -> list[NicRequest]:
    requests = []
    for item in _nic_items(body):
        unknown = sorted(set(item) - _NIC_FIELDS)
        if unknown:
            raise _invalid(f"unknown field(s) {unknown}.")
        port_id, subnet_id = _text(item, "port_id"), _text(item, "subnet_id")
        if not (port_id or subnet_id):
            raise _invalid("each NIC needs subnet_id or port_id.")
        groups = item.get("security_groups") or []
        if not isinstance(groups, list) or not all(
            isinstance(g, dict) and isinstance(g.get("id"), str) for g in groups
        ):
            raise _invalid('security_groups must be a list of {"id": ...}.')
        requests.append(
            NicRequest(
                subnet_id, port_id, _text(item, "ip_address"), tuple(g["id"] for g in groups)
            )
        )
    return requests


def parse_delete(body: object) -> list[str]:
    items = _nic_items(body)
    if any(set(item) != {"id"} for item in items):
        raise _invalid('each NIC to delete is {"id": "<port id>"}.')
    return [_text(item, "id") or "" for item in items]


def interface_view(interface: InterfaceSnapshot) -> dict[str, Any]:
    view: dict[str, Any] = interface.to_dict()
    del view["tag"]
    view["delete_on_termination"] = interface.delete_on_termination
    return view


def parse_update_interface(body: object) -> bool:
    """``{"interface_attachment": {"delete_on_termination": bool}}`` → the flag."""
    item = body.get("interface_attachment") if isinstance(body, dict) else None
    if not isinstance(item, dict) or set(item) != {"delete_on_termination"}:
        raise _invalid('the body is {"interface_attachment": {"delete_on_termination": ...}}.')
    if not isinstance(item["delete_on_termination"], bool):
        raise _invalid("delete_on_termination must be true or false.")
    return bool(item["delete_on_termination"])


def parse_delete_servers(body: object) -> list[str]:
    """``{"servers": [{"id"}], "delete_publicip"?, "delete_volume"?}`` → the server ids."""
    servers = body.get("servers") if isinstance(body, dict) else None
    if not isinstance(body, dict) or set(body) - {"servers", "delete_publicip", "delete_volume"}:
        raise _invalid('the body is {"servers": [{"id": ...}], "delete_publicip"?, ...}.')
    if (
        not isinstance(servers, list)
        or not servers
        or not all(
            isinstance(s, dict) and set(s) == {"id"} and isinstance(s["id"], str) for s in servers
        )
    ):
        raise _invalid('servers must be a non-empty list of {"id": "<server id>"}.')
    return [server["id"] for server in servers]


def server_view(server: ServerSnapshot, base_url: str) -> dict[str, Any]:
    """Nova's server fields, ``tags`` as "key=value" strings, plus Huawei's ``locked``."""
    view = views.server_view(server, views.TAGS_VERSION, base_url, "v1")
    view["locked"] = False
    return view


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.param(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _invalid(f"{name} must be an integer from {low} to {high}.")
    return int(raw)


def _tag(text: str) -> dict[str, str]:
    key, _, value = text.partition("=")
    return {"key": key, "value": value}


class EcsV1App:
    """The v1 routes under ``/v1/{project_id}``, after the token check."""

    def __init__(self, ecs: FakeEcsV1, tokens: TokenStore) -> None:
        self.ecs = ecs
        self.tokens = tokens
        self.router: Router[Handler] = Router()
        server = "/cloudservers/{server_id}"
        self.router.add("/cloudservers/detail", {"GET": self.list_servers})
        self.router.add("/cloudservers/delete", {"POST": self.delete_servers})
        self.router.add(server, {"GET": self.show_server})
        self.router.add(f"{server}/tags", {"GET": self.show_tags})
        self.router.add(f"{server}/os-interface", {"GET": self.list_interfaces})
        self.router.add(f"{server}/os-interface/{{port_id}}", {"PUT": self.update_interface})
        self.router.add(f"{server}/nics", {"POST": self.add_nics})
        self.router.add(f"{server}/nics/delete", {"POST": self.delete_nics})
        self.router.add("/jobs/{job_id}", {"GET": self.show_job})

    def handle(self, request: Request, project_id: str, rest: str) -> Response:
        try:
            self.tokens.authorize(request.headers.get("x-auth-token"), project_id)
            handler, params = self.router.match(request.method, rest)
            return handler(request, project_id, params)
        except (ItemNotFound, MethodNotAllowed) as error:  # from the router
            status = 404 if isinstance(error, ItemNotFound) else 405
            return Response(status, EcsError(status, "APIGW.0101", error.message).body())
        except EcsError as error:
            return Response(error.status, error.body())
        except FakeApiError as error:
            if error.status in (401, 403):
                raise
            return Response(500, EcsError(500, "Ecs.0001", error.message).body())

    def list_servers(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        limit = _query_int(request, "limit", 25, 1, 1000)
        page = _query_int(request, "offset", 1, 0, 10**6)
        marker = request.param("marker")
        servers, count = self.ecs.servers(project_id, limit, marker, page)
        views_ = [server_view(server, request.base_url) for server in servers]
        return Response(200, {"count": count, "servers": views_})

    def show_server(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        server = self.ecs.server(project_id, params["server_id"])
        return Response(200, {"server": server_view(server, request.base_url)})

    def show_tags(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        server = self.ecs.server(project_id, params["server_id"])
        return Response(200, {"tags": [_tag(tag) for tag in server.tags]})

    def list_interfaces(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        found, free = self.ecs.interfaces(project_id, params["server_id"])
        return Response(
            200,
            {
                "interfaceAttachments": [interface_view(i) for i in found],
                "attachableQuantity": {"free_nic": free},
            },
        )

    def add_nics(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        nics = parse_add(self._json(request))
        return Response(200, {"job_id": self.ecs.add_nics(project_id, params["server_id"], nics)})

    def delete_nics(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        ports = parse_delete(self._json(request))
        job_id = self.ecs.delete_nics(project_id, params["server_id"], ports)
        return Response(200, {"job_id": job_id})

    def update_interface(
        self, request: Request, project_id: str, params: dict[str, str]
    ) -> Response:
        delete = parse_update_interface(self._json(request))
        self.ecs.update_interface(project_id, params["server_id"], params["port_id"], delete)
        return Response(200)

    def delete_servers(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        server_ids = parse_delete_servers(self._json(request))
        return Response(200, {"job_id": self.ecs.delete_servers(project_id, server_ids)})

    def show_job(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        return Response(200, self.ecs.job(project_id, params["job_id"]))

    @staticmethod
    def _json(request: Request) -> object:
        try:
            return request.json()
        except FakeApiError as error:
            raise _invalid(error.message) from None
