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
from typing import Any, Protocol
from urllib.parse import urlencode

from function.domain.timing import Deadline
from function.network.client import NetworkClient
from function.network.vpc import VpcApis
from function.transport.api import field, text


@dataclass(frozen=True)
class Eip:
    id: str
    address: str
    port_id: str
    """``""``: bound to no port."""
    revision: int | None = None
    """Neutron's ``revision_number`` as read: the compare-and-swap of the bind."""


class PublicIps(Protocol):
    """Elastic IPs (Huawei) or floating IPs (Neutron): what ``public_ip`` needs."""

    def find(self, project_id: str, deadline: Deadline, **filters: str) -> list[Eip]: ...

    def tagged(self, project_id: str, key: str, value: str, deadline: Deadline) -> list[Eip]: ...

    def bind(self, project_id: str, eip: Eip, port_id: str | None, deadline: Deadline) -> None: ...


def eip_from_api(raw: Mapping[str, Any]) -> Eip:
    return Eip(
        id=text(raw.get("id")),
        address=text(raw.get("public_ip_address")),
        port_id=text(raw.get("port_id")),
    )


class EipClient(VpcApis):
    """The two API versions the EIP calls need, over one keep-alive session; thread-safe."""

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

    def bind(self, project_id: str, eip: Eip, port_id: str | None, deadline: Deadline) -> None:
        """Bind the EIP to ``port_id`` (``None``: unbind). A bound EIP is refused (409
        ``VPC.0510``): the cloud is the arbiter between racing servers."""
        body = {"publicip": {"port_id": port_id}}
        self._v1._send("PUT", project_id, f"publicips/{eip.id}", deadline, body=body)


class FloatingIps:
    """Neutron's floating IPs (``/v2.0/floatingips``) in the same terms. Neutron moves a
    bound floating IP on a ``PUT``, so the bind carries ``If-Match: revision_number=N``
    (the ``revision_if_match`` extension): 412 when the IP changed since it was read."""

    FILTERS = {"port_id": "port_id", "public_ip_address": "floating_ip_address"}

    def __init__(self, client: NetworkClient) -> None:
        self.client = client

    def find(self, project_id: str, deadline: Deadline, **filters: str) -> list[Eip]:
        query = urlencode({self.FILTERS[k]: v for k, v in filters.items()})
        return self._list(project_id, query, deadline)

    def tagged(self, project_id: str, key: str, value: str, deadline: Deadline) -> list[Eip]:
        found = self._list(project_id, urlencode({"tags": f"{key}={value}"}), deadline)
        return sorted(found, key=lambda eip: eip.id)

    def bind(self, project_id: str, eip: Eip, port_id: str | None, deadline: Deadline) -> None:
        match = {} if eip.revision is None else {"If-Match": f"revision_number={eip.revision}"}
        body = {"floatingip": {"port_id": port_id}}
        self.client._send(
            "PUT", project_id, f"floatingips/{eip.id}", deadline, body=body, headers=match
        )

    def _list(self, project_id: str, query: str, deadline: Deadline) -> list[Eip]:
        body = self.client._get(project_id, f"floatingips?{query}", deadline)
        found = []
        for raw in field(body, "floatingips", list):
            if isinstance(raw, Mapping) and raw.get("id"):
                revision = raw.get("revision_number")
                found.append(
                    Eip(
                        id=text(raw.get("id")),
                        address=text(raw.get("floating_ip_address")),
                        port_id=text(raw.get("port_id")),
                        revision=revision if type(revision) is int else None,
                    )
                )
        return found
