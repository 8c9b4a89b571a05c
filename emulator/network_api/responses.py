"""The network API's routes under ``/v2.0``: parse the request, call ``FakeNetworkApi``, answer.

GET    /v2.0/ports?name=&device_id=&network_id=&fixed_ips=ip_address=…&id=   {"ports": [...]}
POST   /v2.0/ports             {"port": {network_id, name?, fixed_ips?, security_groups?, ...}}
GET    /v2.0/ports/{id}        {"port": {...}}         PUT: {"port": {...}}   DELETE: 204
GET    /v2.0/networks, /v2.0/networks/{id}, /v2.0/subnets, /v2.0/subnets/{id}
GET    /v2.0/security-groups   POST {"security_group": {name, description?}}

The caller's project comes from its token (``TokenStore.project_of``): a token
bound to one project acts in it, any other names it in ``X-Project-Id``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from emulator.core.errors import FakeApiError, Forbidden, ItemNotFound, MethodNotAllowed
from emulator.core.wire import Request, Response, Router
from emulator.identity.tokens import TokenStore
from emulator.network_api import errors
from emulator.network_api.filters import check_filters, paginate, select
from emulator.network_api.models import FakeNetworkApi
from emulator.network_api.schemas import parse_port

API_PATH = re.compile(r"^/v2\.0(/.*)?$")
NOT_ALLOWED = (
    "The server could not comply with the request since it is either malformed or otherwise "
    "incorrect."
)
Handler = Callable[[Request, str, dict[str, str]], Response]
PORT_FIELDS = {
    "id",
    "name",
    "network_id",
    "tenant_id",
    "project_id",
    "mac_address",
    "admin_state_up",
    "status",
    "device_id",
    "device_owner",
    "fixed_ips",
    "description",
    "binding:vnic_type",
    "port_security_enabled",
    "revision_number",
    "tags",
    "allowed_address_pairs",
    "security_groups",
    "extra_dhcp_opts",
    "created_at",
    "updated_at",
}
COMMON_FIELDS = {"id", "name", "tenant_id", "project_id", "description", "revision_number"}
NETWORK_FIELDS = COMMON_FIELDS | {
    "admin_state_up",
    "status",
    "shared",
    "mtu",
    "router:external",
    "port_security_enabled",
}
SUBNET_FIELDS = COMMON_FIELDS | {"network_id", "cidr", "ip_version", "gateway_ip", "enable_dhcp"}


def _json(request: Request) -> object:
    try:
        return request.json()
    except FakeApiError as error:
        raise errors.bad_request(error.message) from None


def version_document(base_url: str) -> dict[str, Any]:
    """``GET /v2.0/``: Neutron's resource list, plus the version keystoneauth discovers
    (so openstacksdk takes ``network_endpoint_override="{url}/v2.0"``)."""
    url = f"{base_url}/v2.0/"
    resources = [
        {
            "name": name[:-1].replace("-", "_"),
            "collection": name,
            "links": [{"href": f"{url}{name}", "rel": "self"}],
        }
        for name in ("ports", "networks", "subnets", "security-groups")
    ]
    version = {"id": "v2.0", "status": "CURRENT", "links": [{"href": url, "rel": "self"}]}
    return {"resources": resources, "version": version}


class NetworkApp:
    """The ``/v2.0`` routes, after the token check."""

    def __init__(self, api: FakeNetworkApi, tokens: TokenStore) -> None:
        self.api = api
        self.tokens = tokens
        self.router: Router[Handler] = Router()
        self.router.add("/ports", {"GET": self.list_ports, "POST": self.create_port})
        self.router.add(
            "/ports/{port_id}",
            {"GET": self.show_port, "PUT": self.update_port, "DELETE": self.delete_port},
        )
        self.router.add("/networks", {"GET": self.list_networks})
        self.router.add("/networks/{network_id}", {"GET": self.show_network})
        self.router.add("/subnets", {"GET": self.list_subnets})
        self.router.add("/subnets/{subnet_id}", {"GET": self.show_subnet})
        self.router.add("/security-groups", {"GET": self.list_groups, "POST": self.create_group})
        api.floating.routes(self.router)

    def handle(self, request: Request, rest: str) -> Response:
        if rest.rstrip("/") == "" and request.method == "GET":
            return Response(200, version_document(request.base_url))
        try:
            project_id = self.tokens.project_of(
                request.headers.get("x-auth-token"), request.headers.get("x-project-id")
            )
        except Forbidden as error:
            raise errors.NeutronError(403, "HTTPForbidden", error.message) from None
        try:
            handler, params = self.router.match(request.method, rest.rstrip("/") or "/")
        except ItemNotFound:
            raise errors.NeutronError(
                404, "HTTPNotFound", "The resource could not be found."
            ) from None
        except MethodNotAllowed:
            raise errors.NeutronError(405, "HTTPMethodNotAllowed", NOT_ALLOWED) from None
        return handler(request, project_id, params)

    def list_ports(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        filters = check_filters(request.query, PORT_FIELDS)
        ports = self.api.ports(project_id, filters)
        body = paginate(ports, request.query, f"{request.base_url}/v2.0/ports", "ports")
        body["ports"] = [select(p, request.query.get("fields")) for p in body["ports"]]
        return Response(200, body)

    def show_port(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        port = self.api.port(project_id, params["port_id"])
        return Response(200, {"port": select(port, request.query.get("fields"))})

    def create_port(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        fields = parse_port(_json(request), creating=True)
        return Response(201, {"port": self.api.create_port(project_id, fields)})

    def update_port(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        fields = parse_port(_json(request), creating=False)
        return Response(200, {"port": self.api.update_port(project_id, params["port_id"], fields)})

    def delete_port(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        self.api.delete_port(project_id, params["port_id"])
        return Response(204)

    def list_networks(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        networks = self.api.networks(project_id, check_filters(request.query, NETWORK_FIELDS))
        return Response(200, {"networks": networks})

    def show_network(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        found = self.api.networks(project_id, {"id": [params["network_id"]]})
        if not found:
            raise errors.network_not_found(params["network_id"])
        return Response(200, {"network": found[0]})

    def list_subnets(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        subnets = self.api.subnets(project_id, check_filters(request.query, SUBNET_FIELDS))
        return Response(200, {"subnets": subnets})

    def show_subnet(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        found = self.api.subnets(project_id, {"id": [params["subnet_id"]]})
        if not found:
            raise errors.NeutronError(
                404, "SubnetNotFound", f"Subnet {params['subnet_id']} could not be found."
            )
        return Response(200, {"subnet": found[0]})

    def list_groups(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        filters = check_filters(request.query, COMMON_FIELDS | {"stateful", "shared"})
        return Response(200, {"security_groups": self.api.security_groups(project_id, filters)})

    def create_group(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        body = _json(request)
        group: Any = body.get("security_group") if isinstance(body, dict) else None
        if not isinstance(group, dict) or not isinstance(group.get("name", ""), str):
            raise errors.bad_request("Unable to find 'security_group' in request body")
        unknown = sorted(set(group) - {"name", "description", "stateful"})
        if unknown:
            raise errors.bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        created = self.api.create_security_group(
            project_id, group.get("name", ""), str(group.get("description", ""))
        )
        return Response(201, {"security_group": created})
