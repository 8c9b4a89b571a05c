"""Elastic IPs as Huawei's EIP service keeps them: allocated per project, bound to a port.

An EIP is bound by setting its ``port_id`` (``PUT /v1/{project_id}/publicips/{id}``)
and unbound by setting it to null. One port holds at most one EIP, an EIP at most one
port. When the port goes (its server deleted, or the port itself), the EIP is
unbound, as the cloud does: checked on every read, under the compute backend's lock,
so there is no hook to miss. Tags (``key=value``, one value per key) make pools.

Errors are Huawei's (``{"code": "VPC.0504", "message"}``, the EIP API's error-code
table): ``VPC.0504`` unknown EIP (404), ``VPC.0510`` already bound to another port
(409), ``VPC.0508`` unknown port (the table says 500 for create; here 404, the
emulator's choice for an update naming no port of the project).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.compute.models import FakeBackend
from emulator.core.errors import FakeApiError
from emulator.core.ids import new_id

#: Addresses handed out by allocation (TEST-NET-2), in order.
PUBLIC_RANGE = ipaddress.ip_network("198.51.100.0/24")


class EipError(FakeApiError):
    """An answer in the EIP API's shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def not_found(eip_id: str) -> EipError:
    return EipError(404, "VPC.0504", f"Floating IP {eip_id} could not be found.")


def invalid(message: str) -> EipError:
    return EipError(400, "VPC.0501", message)


@dataclass
class FakeEip:
    id: str
    project_id: str
    address: str
    created: str
    bandwidth_id: str
    port_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


class FakeEips:
    """Every project's EIPs; each call holds the compute backend's lock."""

    def __init__(self, backend: FakeBackend) -> None:
        self.backend = backend
        self._eips: dict[str, FakeEip] = {}

    def reset(self) -> None:
        with self.backend.transaction():
            self._eips.clear()

    def create(
        self, project_id: str, address: str | None = None, tags: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        with self.backend.transaction():
            taken = {eip.address for eip in self._eips.values()}
            if address is None:
                free = (str(ip) for ip in PUBLIC_RANGE.hosts() if str(ip) not in taken)
                address = next(free, None)
                if address is None:
                    raise EipError(409, "VPC.0503", "Creating publicIp failed: no address left.")
            elif address in taken:
                raise EipError(409, "VPC.0503", f"Creating publicIp failed: {address} is in use.")
            stamp = self.backend.neutron.stamp() or "2026-01-01T00:00:00Z"
            eip = FakeEip(new_id(None), project_id, address, stamp, new_id(None))
            eip.tags.update(tags or {})
            self._eips[eip.id] = eip
            return self._view(eip)

    def find(self, project_id: str, filters: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        with self.backend.transaction():
            views = [self._view(e) for e in self._eips.values() if e.project_id == project_id]
        return [view for view in views if _matches(view, filters)]

    def show(self, project_id: str, eip_id: str) -> dict[str, Any]:
        with self.backend.transaction():
            return self._view(self._own(project_id, eip_id))

    def update(self, project_id: str, eip_id: str, port_id: str | None) -> dict[str, Any]:
        """Bind to ``port_id`` (the project's port, holding no other EIP), or unbind (None)."""
        with self.backend.transaction():
            eip = self._own(project_id, eip_id)
            self._settle(eip)
            if port_id is not None and port_id != eip.port_id:
                self._check_port(project_id, port_id, eip)
            eip.port_id = port_id
            return self._view(eip)

    def delete(self, project_id: str, eip_id: str) -> None:
        with self.backend.transaction():
            self._own(project_id, eip_id)
            del self._eips[eip_id]

    def tags(self, project_id: str, eip_id: str) -> dict[str, str]:
        with self.backend.transaction():
            return dict(self._own(project_id, eip_id).tags)

    def set_tag(self, project_id: str, eip_id: str, key: str, value: str) -> None:
        with self.backend.transaction():
            self._own(project_id, eip_id).tags[key] = value

    def delete_tag(self, project_id: str, eip_id: str, key: str) -> None:
        with self.backend.transaction():
            tags = self._own(project_id, eip_id).tags
            if key not in tags:
                raise EipError(404, "VPC.0504", f"Tag {key} could not be found.")
            del tags[key]

    def by_tags(self, project_id: str, wanted: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        """EIPs carrying every key of ``wanted`` with one of its values (any value if none)."""
        with self.backend.transaction():
            found = [
                eip
                for eip in self._eips.values()
                if eip.project_id == project_id
                and all(k in eip.tags and (not v or eip.tags[k] in v) for k, v in wanted.items())
            ]
            return [self._view(eip) for eip in found]

    # -- internals (lock held) ---------------------------------------------------------

    def _own(self, project_id: str, eip_id: str) -> FakeEip:
        eip = self._eips.get(eip_id)
        if eip is None or eip.project_id != project_id:
            raise not_found(eip_id)
        return eip

    def _settle(self, eip: FakeEip) -> None:
        """Unbind an EIP whose port is gone (deleted with its server, or on its own)."""
        if eip.port_id is not None and eip.port_id not in self.backend.neutron.ports:
            eip.port_id = None

    def _check_port(self, project_id: str, port_id: str, eip: FakeEip) -> None:
        port = self.backend.neutron.ports.get(port_id)
        if port is None or port.project_id not in (None, project_id):
            raise EipError(404, "VPC.0508", f"Port {port_id} is invalid.")
        if eip.port_id is not None:
            raise EipError(409, "VPC.0510", "Floatingip has already associated with port.")
        for other in self._eips.values():
            self._settle(other)
            if other.port_id == port_id:
                raise EipError(409, "VPC.0510", f"Port {port_id} already has a floating IP.")

    def _view(self, eip: FakeEip) -> dict[str, Any]:
        self._settle(eip)
        port = self.backend.neutron.ports.get(eip.port_id) if eip.port_id else None
        return {
            "id": eip.id,
            "status": "ACTIVE" if port is not None else "DOWN",
            "type": "5_bgp",
            "public_ip_address": eip.address,
            "private_ip_address": port.ip_address if port is not None else None,
            "port_id": eip.port_id,
            "tenant_id": eip.project_id,
            "create_time": eip.created,
            "bandwidth_id": eip.bandwidth_id,
            "bandwidth_name": f"bandwidth-{eip.id[:8]}",
            "bandwidth_share_type": "PER",
            "bandwidth_size": 5,
            "enterprise_project_id": "0",
            "ip_version": 4,
            "tags": [f"{key}={value}" for key, value in sorted(eip.tags.items())],
        }


def _matches(view: Mapping[str, Any], filters: Mapping[str, list[str]]) -> bool:
    return all(str(view.get(name)) in values for name, values in filters.items())
