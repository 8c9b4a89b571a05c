"""The records of routers and floating IPs, and how their requests and answers look."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator.core.wire import Request
from emulator.network_api import errors


@dataclass
class FakeRouter:
    id: str
    project_id: str
    name: str
    gateway: str | None
    subnets: set[str] = field(default_factory=set)


@dataclass
class FakeFloatingIp:
    id: str
    project_id: str
    network_id: str
    address: str
    port_id: str | None = None
    tags: set[str] = field(default_factory=set)
    revision: int = 0
    created_at: str = ""
    updated_at: str = ""


def inner(request: Request, key: str) -> dict[str, Any]:
    document = request.json()
    inner = document.get(key) if isinstance(document, dict) else None
    if not isinstance(inner, dict):
        raise errors.bad_request(f"Unable to find '{key}' in request body")
    return inner


def router_view(router: FakeRouter) -> dict[str, Any]:
    gateway = None if router.gateway is None else {"network_id": router.gateway}
    return {
        "id": router.id,
        "name": router.name,
        "external_gateway_info": gateway,
        "status": "ACTIVE",
        "tenant_id": router.project_id,
        "project_id": router.project_id,
    }


def if_match(header: str | None) -> int | None:
    """``revision_number=N`` of an ``If-Match`` header (Neutron's only form), else None."""
    name, _, value = (header or "").strip().partition("=")
    if name.strip() != "revision_number" or not value.strip().isdigit():
        return None
    return int(value.strip())
