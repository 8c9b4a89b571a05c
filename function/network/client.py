"""The network API (Neutron's ``/v2.0``, served by Huawei's VPC endpoint too): ports only.

Paths carry no project: the project is the token's (keystone), or named in
``X-Project-Id`` (sent on every call, and signed under AK/SK as the vendor's SDK
does). Reads are retried like every GET; writes never (the caller re-reads).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from function.auth import acting_project
from function.domain.ownership import Port
from function.domain.readiness import FIELDS as READY_FIELDS
from function.domain.readiness import Binding, binding_of
from function.domain.timing import Deadline
from function.network.errors import read_fault
from function.transport.api import JsonApi, Signer, field, text
from function.transport.session import HttpSession

PORT_FIELDS = ("id", "name", "network_id", "device_id", "status")
"""Asked with ``fields=``: a smaller answer, and nothing the function does not read."""


def port_from_api(raw: Mapping[str, Any]) -> Port:
    return Port(
        id=text(raw.get("id")),
        name=text(raw.get("name")),
        network_id=text(raw.get("network_id")),
        device_id=text(raw.get("device_id")),
        status=text(raw.get("status")).upper(),
    )


class NetworkClient(JsonApi):
    """``{endpoint}/v2.0/ports`` over one keep-alive session; thread-safe."""

    def __init__(self, session: HttpSession, endpoint: str, auth: Signer, **kwargs: Any) -> None:
        super().__init__(session, endpoint, auth, read_fault, api_version="v2.0", **kwargs)

    def list_ports(
        self,
        project_id: str,
        deadline: Deadline,
        *,
        names: Iterable[str] = (),
        device_id: str | None = None,
        ids: Iterable[str] = (),
    ) -> list[Port]:
        """The project's ports with any of ``names`` (a filter given twice matches either
        value), and/or bound to ``device_id`` (``""``: the unbound ones), or ``ids``."""
        query: list[tuple[str, str]] = [("name", name) for name in names]
        query += [("id", ident) for ident in ids]
        if device_id is not None:
            query.append(("device_id", device_id))
        query += [("fields", name) for name in PORT_FIELDS]
        body = self._get(project_id, f"ports?{urlencode(query)}", deadline)
        items = field(body, "ports", list)
        return [port_from_api(p) for p in items if isinstance(p, Mapping) and p.get("id")]

    def port_bindings(
        self, project_id: str, port_ids: Iterable[str], deadline: Deadline
    ) -> dict[str, Binding]:
        """The ports ``port_ids`` as far as readiness needs them (status, device, host
        binding where the caller may see it), by id; one read for all of them."""
        query = [("id", ident) for ident in port_ids] + [("fields", f) for f in READY_FIELDS]
        body = self._get(project_id, f"ports?{urlencode(query)}", deadline)
        items = field(body, "ports", list)
        return {
            text(p.get("id")): binding_of(p)
            for p in items
            if isinstance(p, Mapping) and p.get("id")
        }

    def create_port(
        self,
        project_id: str,
        deadline: Deadline,
        *,
        name: str,
        network_id: str,
        fixed_ip: str | None = None,
        security_groups: tuple[str, ...] = (),
        description: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Port:
        """``extra``: the profile's fields (``domain/port_profile.port_fields``); its
        ``fixed_ips`` replaces the one ``fixed_ip`` makes."""
        port: dict[str, Any] = {"network_id": network_id, "name": name}
        if description is not None:
            port["description"] = description
        if fixed_ip is not None:
            port["fixed_ips"] = [{"ip_address": fixed_ip}]
        port.update(extra or {})
        if security_groups:
            port["security_groups"] = list(security_groups)
        answer = self._send("POST", project_id, "ports", deadline, body={"port": port})
        return port_from_api(field(answer, "port", dict))

    def get_port(self, project_id: str, port_id: str, deadline: Deadline) -> dict[str, Any]:
        """The whole port (the inner object), for the profile's drift check."""
        answer = self._get(project_id, f"ports/{port_id}", deadline)
        port: dict[str, Any] = field(answer, "port", dict)
        return port

    def update_port(
        self, project_id: str, port_id: str, body: Mapping[str, Any], deadline: Deadline
    ) -> None:
        """``PUT /v2.0/ports/{id}`` with ``{"port": {...}}`` (only the fields to write)."""
        self._send("PUT", project_id, f"ports/{port_id}", deadline, body=body)

    def list_subnets(self, project_id: str, network_id: str, deadline: Deadline) -> Any:
        """The raw ``GET /v2.0/subnets?network_id=`` answer (read by ``subnets_of``)."""
        query = urlencode([("network_id", network_id)])
        return self._get(project_id, f"subnets?{query}", deadline)

    def delete_port(self, project_id: str, port_id: str, deadline: Deadline) -> None:
        self._send("DELETE", project_id, f"ports/{port_id}", deadline)

    def _url(self, project_id: str, path: str) -> str:
        return f"{self._base}/{path}"  # the project is the token's, or X-Project-Id's

    def _extra_headers(self, project_id: str) -> Mapping[str, str]:
        return {"X-Project-Id": project_id}

    def _send(
        self,
        method: str,
        project_id: str,
        path: str,
        deadline: Deadline | None,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        with acting_project(project_id):  # AK/SK signs X-Project-Id: the URL names none
            return super()._send(method, project_id, path, deadline, body=body, headers=headers)

    # Reads for ``nic-autoattach check`` (read-only; a 404 raises the fault reader's error).

    def show_network(self, project_id: str, network_id: str, deadline: Deadline) -> str:
        """The network's id when it exists and the project sees it."""
        body = self._get(project_id, f"networks/{network_id}", deadline)
        return text(field(body, "network", dict).get("id"))

    def subnets(self, project_id: str, network_id: str, deadline: Deadline) -> list[Subnet]:
        """The network's subnets, parsed (``check``)."""
        query = urlencode([("network_id", network_id)])
        items = field(self._get(project_id, f"subnets?{query}", deadline), "subnets", list)
        return [subnet_from_api(s) for s in items if isinstance(s, Mapping) and s.get("id")]

    def show_port(self, project_id: str, port_id: str, deadline: Deadline) -> Port:
        return port_from_api(
            field(self._get(project_id, f"ports/{port_id}", deadline), "port", dict)
        )

    def security_group_ids(
        self, project_id: str, ids: Iterable[str], deadline: Deadline
    ) -> set[str]:
        """Which of ``ids`` are security groups the project sees."""
        query = urlencode([("id", i) for i in ids] + [("fields", "id")])
        items = field(
            self._get(project_id, f"security-groups?{query}", deadline), "security_groups", list
        )
        return {text(g.get("id")) for g in items if isinstance(g, Mapping)}


@dataclass(frozen=True)
class Subnet:
    id: str
    cidr: str
    ip_version: int


def subnet_from_api(raw: Mapping[str, Any]) -> Subnet:
    version = raw.get("ip_version")
    return Subnet(
        text(raw.get("id")), text(raw.get("cidr")), version if isinstance(version, int) else 4
    )
