"""Shared bandwidths as Huawei's VPC bandwidth API keeps them, beside the EIPs: a
bandwidth lists its members in ``publicip_info`` (EIPs, and IPv6 ports by port id).

POST   /v2.0/{project_id}/bandwidths                {"bandwidth": {"name", "size"}}     200
GET    /v1/{project_id}/bandwidths/{id}             {"bandwidth": {..., "publicip_info"}}
POST   /v2.0/{project_id}/bandwidths/{id}/insert    {"bandwidth": {"publicip_info":
       [{"publicip_id", "publicip_type"}]}}  200 {"bandwidth": {...}}
POST   /v2.0/{project_id}/bandwidths/{id}/remove    {"bandwidth": {"publicip_info": [...],
       "charge_mode", "size"}}  204

An IPv6 port is inserted with ``publicip_type: 5_dualStack`` and must hold an IPv6
address; a member is in one bandwidth at most. A deleted port leaves its bandwidth (checked
on every read, under the compute backend's lock, like an EIP's binding): the vendor's
documents do not say so; it is the emulator's reading of "the entry goes with the port".
Errors are in the EIP API's shape (``{"code", "message"}``); the codes for an unknown
bandwidth (404 ``VPC.0301``) and a member already in a bandwidth (409 ``VPC.0313``) are
the emulator's choice, not confirmed against the vendor's table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.compute.models import FakeBackend
from emulator.core.errors import FakeApiError
from emulator.core.ids import new_id
from emulator.core.wire import Request, Response, Router
from emulator.eip.models import EipError, FakeEips, invalid

IPV6_PORT = "5_dualStack"
Handler = Callable[[Request, str, dict[str, str]], Response]


@dataclass
class FakeBandwidth:
    id: str
    project_id: str
    name: str
    size: int
    created: str
    members: list[tuple[str, str]] = field(default_factory=list)
    """(publicip_id, publicip_type) in insertion order."""


class FakeBandwidths:
    """Every project's shared bandwidths; each call holds the compute backend's lock."""

    def __init__(self, backend: FakeBackend, eips: FakeEips) -> None:
        self.backend, self.eips = backend, eips
        self._all: dict[str, FakeBandwidth] = {}

    def reset(self) -> None:
        with self.backend.transaction():
            self._all.clear()

    def create(self, project_id: str, name: str, size: int) -> dict[str, Any]:
        with self.backend.transaction():
            stamp = self.backend.neutron.stamp() or "2026-01-01T00:00:00Z"
            made = FakeBandwidth(new_id(None), project_id, name, size, stamp)
            self._all[made.id] = made
            return self._view(made)

    def show(self, project_id: str, bandwidth_id: str) -> dict[str, Any]:
        with self.backend.transaction():
            return self._view(self._own(project_id, bandwidth_id))

    def insert(
        self, project_id: str, bandwidth_id: str, items: list[tuple[str, str]]
    ) -> dict[str, Any]:
        with self.backend.transaction():
            bandwidth = self._own(project_id, bandwidth_id)
            for other in self._all.values():
                self._settle(other)
            for member_id, kind in items:
                self._check_member(project_id, member_id, kind)
            bandwidth.members.extend(items)
            return self._view(bandwidth)

    def remove(self, project_id: str, bandwidth_id: str, ids: list[str]) -> None:
        with self.backend.transaction():
            bandwidth = self._own(project_id, bandwidth_id)
            self._settle(bandwidth)
            held = {member_id for member_id, _ in bandwidth.members}
            for member_id in ids:
                if member_id not in held:
                    raise invalid(f"{member_id} is not in bandwidth {bandwidth_id}.")
            bandwidth.members = [m for m in bandwidth.members if m[0] not in ids]

    # -- internals (lock held) ---------------------------------------------------------

    def _own(self, project_id: str, bandwidth_id: str) -> FakeBandwidth:
        found = self._all.get(bandwidth_id)
        if found is None or found.project_id != project_id:
            raise EipError(404, "VPC.0301", f"Bandwidth {bandwidth_id} could not be found.")
        return found

    def _settle(self, bandwidth: FakeBandwidth) -> None:
        """Drop the IPv6 ports deleted since (with their server, or on their own)."""
        ports = self.backend.neutron.ports
        bandwidth.members = [
            (member_id, kind)
            for member_id, kind in bandwidth.members
            if kind != IPV6_PORT or member_id in ports
        ]

    def _check_member(self, project_id: str, member_id: str, kind: str) -> None:
        if kind == IPV6_PORT:
            port = self.backend.neutron.ports.get(member_id)
            if port is None or port.project_id not in (None, project_id):
                raise EipError(404, "VPC.0508", f"Port {member_id} is invalid.")
            if port.ipv6_address is None:
                raise invalid(f"Port {member_id} has no IPv6 address.")
        else:
            self.eips.show(project_id, member_id)  # 404 VPC.0504 for an unknown EIP
        if any(member_id == held for b in self._all.values() for held, _ in b.members):
            raise EipError(409, "VPC.0313", f"{member_id} is already in a shared bandwidth.")

    def _view(self, bandwidth: FakeBandwidth) -> dict[str, Any]:
        self._settle(bandwidth)
        return {
            "id": bandwidth.id,
            "name": bandwidth.name,
            "size": bandwidth.size,
            "share_type": "WHOLE",
            "bandwidth_type": "share",
            "charge_mode": "bandwidth",
            "billing_info": "",
            "status": "NORMAL",
            "tenant_id": bandwidth.project_id,
            "enterprise_project_id": "0",
            "created_at": bandwidth.created,
            "updated_at": bandwidth.created,
            "publicip_info": [self._member(m, k) for m, k in bandwidth.members],
        }

    def _member(self, member_id: str, kind: str) -> dict[str, Any]:
        if kind == IPV6_PORT:
            port = self.backend.neutron.ports[member_id]
            return {
                "publicip_id": member_id,
                "publicip_type": kind,
                "publicip_address": port.ip_address,
                "publicipv6_address": port.ipv6_address,
                "ip_version": 6,
            }
        return {"publicip_id": member_id, "publicip_type": kind or "5_bgp", "ip_version": 4}


class BandwidthRoutes:
    """The routes, added to the EIP API's routers (same endpoint, same error shape)."""

    def __init__(self, bandwidths: FakeBandwidths) -> None:
        self.bandwidths = bandwidths

    def register(self, v1: Router[Handler], v2: Router[Handler]) -> None:
        v1.add("/bandwidths/{bandwidth_id}", {"GET": self.show})
        v2.add("/bandwidths", {"POST": self.create})
        v2.add("/bandwidths/{bandwidth_id}/insert", {"POST": self.insert})
        v2.add("/bandwidths/{bandwidth_id}/remove", {"POST": self.remove})

    def show(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        return Response(
            200, {"bandwidth": self.bandwidths.show(project_id, params["bandwidth_id"])}
        )

    def create(self, request: Request, project_id: str, _: dict[str, str]) -> Response:
        body = _bandwidth(request)
        name, size = body.get("name"), body.get("size")
        if not isinstance(name, str) or not name or type(size) is not int or size < 1:
            raise invalid("bandwidth needs a name and a size (Mbit/s, at least 1).")
        return Response(200, {"bandwidth": self.bandwidths.create(project_id, name, size)})

    def insert(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        items = _members(_bandwidth(request))
        made = self.bandwidths.insert(project_id, params["bandwidth_id"], items)
        return Response(200, {"bandwidth": made})

    def remove(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        body = _bandwidth(request)
        if not isinstance(body.get("charge_mode"), str) or type(body.get("size")) is not int:
            raise invalid("bandwidth.charge_mode and bandwidth.size are required.")
        ids = [member_id for member_id, _ in _members(body)]
        self.bandwidths.remove(project_id, params["bandwidth_id"], ids)
        return Response(204)


def _bandwidth(request: Request) -> dict[str, Any]:
    try:
        document = request.json()
    except FakeApiError:
        raise invalid("The request body is not JSON.") from None
    inner = document.get("bandwidth") if isinstance(document, dict) else None
    if not isinstance(inner, dict):
        raise invalid("The request body needs the object 'bandwidth'.")
    return inner


def _members(body: dict[str, Any]) -> list[tuple[str, str]]:
    items = body.get("publicip_info")
    if not isinstance(items, list) or not items:
        raise invalid("bandwidth.publicip_info must be a non-empty list.")
    found = []
    for item in items:
        member_id = item.get("publicip_id") if isinstance(item, dict) else None
        kind = item.get("publicip_type", "") if isinstance(item, dict) else None
        if not isinstance(member_id, str) or not member_id or not isinstance(kind, str):
            raise invalid('publicip_info items are {"publicip_id", "publicip_type"?}.')
        found.append((member_id, kind))
    return found
