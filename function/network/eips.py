"""Huawei's elastic IPs (the EIP API, on the VPC endpoint): read and bind, nothing else.

``GET /v1/{project}/publicips?port_id=|public_ip_address=``, ``PUT /v1/{project}/publicips/{id}``
with ``{"publicip": {"port_id": …}}``, and the tag filter of a pool,
``POST /v2.0/{project}/publicips/resource_instances/action``. The function binds EIPs
that exist (given, or a pool's); it never allocates or deletes one. Reads are retried
like every GET; writes never (the caller re-reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from function.domain.timing import Deadline
from function.network.errors import read_fault
from function.transport.api import JsonApi, Signer, field, text
from function.transport.session import HttpSession


@dataclass(frozen=True)
class Eip:
    id: str
    address: str
    port_id: str
    """``""``: bound to no port."""


def eip_from_api(raw: Mapping[str, Any]) -> Eip:
    return Eip(
        id=text(raw.get("id")),
        address=text(raw.get("public_ip_address")),
        port_id=text(raw.get("port_id")),
    )


class EipClient:
    """The two API versions the EIP calls need, over one keep-alive session; thread-safe."""

    def __init__(self, session: HttpSession, endpoint: str, auth: Signer, **kwargs: Any) -> None:
        self._v1 = JsonApi(session, endpoint, auth, read_fault, api_version="v1", **kwargs)
        self._v2 = JsonApi(session, endpoint, auth, read_fault, api_version="v2.0", **kwargs)

    def find(self, project_id: str, deadline: Deadline, **filters: str) -> list[Eip]:
        """The project's EIPs matching ``port_id=`` or ``public_ip_address=``."""
        body = self._v1._get(project_id, f"publicips?{urlencode(filters)}", deadline)
        items = field(body, "publicips", list)
        return [eip_from_api(e) for e in items if isinstance(e, Mapping) and e.get("id")]

    def tagged(self, project_id: str, key: str, value: str, deadline: Deadline) -> list[Eip]:
        """The EIPs carrying the tag ``key=value`` (a pool), sorted by id."""
        query = {"action": "filter", "tags": [{"key": key, "values": [value]}]}
        body = self._v2._send(
            "POST", project_id, "publicips/resource_instances/action", deadline, body=query
        )
        found = []
        for item in field(body, "resources", list):
            detail = item.get("resource_detail") if isinstance(item, Mapping) else None
            if isinstance(detail, Mapping) and detail.get("id"):
                found.append(eip_from_api(detail))
        return sorted(found, key=lambda eip: eip.id)

    def bind(self, project_id: str, eip_id: str, port_id: str | None, deadline: Deadline) -> None:
        """Bind the EIP to ``port_id`` (``None``: unbind). A bound EIP is refused (409
        ``VPC.0510``): the cloud is the arbiter between racing servers."""
        body = {"publicip": {"port_id": port_id}}
        self._v1._send("PUT", project_id, f"publicips/{eip_id}", deadline, body=body)
