"""The EIP API's routes, as Huawei's SDK (``huaweicloudsdkeip.v2``) calls them.

GET    /v1/{project_id}/publicips?id=&port_id=&public_ip_address=&private_ip_address=&limit=&marker=
POST   /v1/{project_id}/publicips            {"publicip": {type, ip_address?}, "bandwidth": {...}}
GET    /v1/{project_id}/publicips/{id}       DELETE
PUT    /v1/{project_id}/publicips/{id}       {"publicip": {"port_id": <id> | null | ""}}
POST   /v2.0/{project_id}/publicips/{id}/tags           {"tag": {key, value}}          204
GET    /v2.0/{project_id}/publicips/{id}/tags           {"tags": [{key, value}]}
DELETE /v2.0/{project_id}/publicips/{id}/tags/{key}                                    204
POST   /v2.0/{project_id}/publicips/resource_instances/action
       {"action": "filter", "tags": [{"key", "values"}]} → {"resources": [...], "total_count"}
and the shared bandwidths (``/v1``/``/v2.0 .../bandwidths``): emulator/eip/bandwidths.py
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from emulator.core.errors import FakeApiError, ItemNotFound, MethodNotAllowed
from emulator.core.wire import Request, Response, Router
from emulator.eip.bandwidths import BandwidthRoutes, FakeBandwidths
from emulator.eip.models import EipError, FakeEips, invalid
from emulator.identity.tokens import TokenStore

API_PATH = re.compile(r"^/(v1|v2\.0)/([^/]+)(/(?:publicips|bandwidths)(?:/.*)?)$")
LIST_FILTERS = ("id", "port_id", "public_ip_address", "private_ip_address")
Handler = Callable[[Request, str, dict[str, str]], Response]


def _body(request: Request, key: str) -> dict[str, Any]:
    try:
        document = request.json()
    except FakeApiError:
        raise invalid("The request body is not JSON.") from None
    inner = document.get(key) if isinstance(document, dict) else None
    if not isinstance(inner, dict):
        raise invalid(f"The request body needs the object {key!r}.")
    return inner


class EipApp:
    """The routes, after the signature check (the front door) and the token check here."""

    def __init__(
        self, eips: FakeEips, tokens: TokenStore, bandwidths: FakeBandwidths | None = None
    ) -> None:
        self.eips = eips
        self.tokens = tokens
        self.v1: Router[Handler] = Router()
        self.v1.add("/publicips", {"GET": self.list_eips, "POST": self.create_eip})
        self.v1.add(
            "/publicips/{eip_id}",
            {"GET": self.show_eip, "PUT": self.update_eip, "DELETE": self.delete_eip},
        )
        self.v2: Router[Handler] = Router()
        self.v2.add("/publicips/resource_instances/action", {"POST": self.by_tags})
        self.v2.add("/publicips/{eip_id}/tags", {"GET": self.list_tags, "POST": self.add_tag})
        self.v2.add("/publicips/{eip_id}/tags/{key}", {"DELETE": self.delete_tag})
        if bandwidths is not None:  # the shared bandwidths: emulator/eip/bandwidths.py
            BandwidthRoutes(bandwidths).register(self.v1, self.v2)

    def handle(self, request: Request, version: str, project_id: str, rest: str) -> Response:
        try:
            self.tokens.authorize(request.headers.get("x-auth-token"), project_id)
            router = self.v1 if version == "v1" else self.v2
            handler, params = router.match(request.method, rest.rstrip("/"))
            return handler(request, project_id, params)
        except (ItemNotFound, MethodNotAllowed) as error:
            status = 404 if isinstance(error, ItemNotFound) else 405
            return Response(status, EipError(status, "APIGW.0101", error.message).body())
        except EipError as error:
            return Response(error.status, error.body())

    def list_eips(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        filters = {
            name: list(request.query[name]) for name in LIST_FILTERS if name in request.query
        }
        found = self.eips.find(project_id, filters)
        marker, limit = request.param("marker"), request.param("limit")
        if marker is not None:
            ids = [eip["id"] for eip in found]
            found = found[ids.index(marker) + 1 :] if marker in ids else []
        if limit is not None:
            if not limit.isdigit() or not 0 < int(limit) <= 2000:
                raise invalid("limit must be a number from 1 to 2000.")
            found = found[: int(limit)]
        return Response(200, {"publicips": found})

    def create_eip(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        publicip = _body(request, "publicip")
        _body(request, "bandwidth")
        if not isinstance(publicip.get("type"), str):
            raise invalid("publicip.type is required (for example 5_bgp).")
        address = publicip.get("ip_address")
        if address is not None and not isinstance(address, str):
            raise invalid("publicip.ip_address must be a string.")
        created = self.eips.create(project_id, address)
        keys = (
            "id",
            "status",
            "type",
            "public_ip_address",
            "tenant_id",
            "create_time",
            "bandwidth_size",
            "ip_version",
            "enterprise_project_id",
        )
        return Response(200, {"publicip": {key: created[key] for key in keys}})

    def show_eip(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        return Response(200, {"publicip": self.eips.show(project_id, params["eip_id"])})

    def update_eip(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        publicip = _body(request, "publicip")
        if "port_id" not in publicip:
            raise invalid("publicip.port_id is required (null unbinds).")
        port_id = publicip["port_id"]
        if port_id is not None and not isinstance(port_id, str):
            raise invalid("publicip.port_id must be a port id, or null or empty to unbind.")
        updated = self.eips.update(project_id, params["eip_id"], (port_id or "").strip() or None)
        updated.pop("tags")
        return Response(200, {"publicip": updated})

    def delete_eip(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        self.eips.delete(project_id, params["eip_id"])
        return Response(204)

    def list_tags(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        tags = self.eips.tags(project_id, params["eip_id"])
        return Response(200, {"tags": [{"key": k, "value": v} for k, v in sorted(tags.items())]})

    def add_tag(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        tag = _body(request, "tag")
        key, value = tag.get("key"), tag.get("value", "")
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise invalid('tag must be {"key": <non-empty string>, "value": <string>}.')
        self.eips.set_tag(project_id, params["eip_id"], key, value)
        return Response(204)

    def delete_tag(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        self.eips.delete_tag(project_id, params["eip_id"], params["key"])
        return Response(204)

    def by_tags(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        document = request.json()
        if not isinstance(document, dict) or document.get("action") not in ("filter", "count"):
            raise invalid('action must be "filter" or "count".')
        wanted: dict[str, list[str]] = {}
        for tag in document.get("tags") or []:
            if not isinstance(tag, dict) or not isinstance(tag.get("key"), str):
                raise invalid('tags must be a list of {"key", "values"}.')
            wanted[tag["key"]] = [str(v) for v in tag.get("values") or []]
        found = self.eips.by_tags(project_id, wanted)
        if document["action"] == "count":
            return Response(200, {"total_count": len(found)})
        resources = [
            {
                "resource_id": eip["id"],
                "resource_name": eip["public_ip_address"],
                "resource_detail": eip,
                "tags": [_tag(t) for t in eip["tags"]],
            }
            for eip in found
        ]
        return Response(200, {"resources": resources, "total_count": len(resources)})


def _tag(text: str) -> dict[str, str]:
    key, _, value = text.partition("=")
    return {"key": key, "value": value}
