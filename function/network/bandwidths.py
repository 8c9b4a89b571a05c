"""Huawei's shared bandwidths (the VPC bandwidth API, on the VPC endpoint): read one and
add a port to it, nothing else.

``GET /v1/{project}/bandwidths/{id}`` answers ``{"bandwidth": {"publicip_info": [{
"publicip_id", "publicip_type", "ip_version", "publicipv6_address"}]}}`` (an IPv6 port is
listed by its port id); ``POST /v2.0/{project}/bandwidths/{id}/insert`` with
``{"bandwidth": {"publicip_info": [{"publicip_id": <port id>, "publicip_type":
"5_dualStack"}]}}`` adds one (``5_dualStack`` is what the API asks for an IPv6 port; the
vendor's Terraform provider sends the same). The function never creates, resizes or
deletes a bandwidth. Reads are retried like every GET; the insert never (the caller
re-reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from function.domain.timing import Deadline
from function.network.vpc import VpcApis
from function.transport.api import field, text

IPV6_PORT = "5_dualStack"
"""``publicip_type`` of an IPv6 port in a shared bandwidth."""


class SharedBandwidths(Protocol):
    """What ``ipv6_bandwidth`` needs of the bandwidth API."""

    def members(self, project_id: str, bandwidth_id: str, deadline: Deadline) -> frozenset[str]:
        """The ids in the bandwidth's ``publicip_info`` (EIPs and IPv6 ports)."""
        ...

    def insert(self, project_id: str, bandwidth_id: str, port_id: str, deadline: Deadline) -> None:
        """Add the IPv6 port ``port_id`` to the bandwidth."""
        ...


class BandwidthClient(VpcApis):
    """The two API versions the bandwidth calls need, over one keep-alive session."""

    def members(self, project_id: str, bandwidth_id: str, deadline: Deadline) -> frozenset[str]:
        body = self._v1._get(project_id, f"bandwidths/{bandwidth_id}", deadline)
        bandwidth = field(body, "bandwidth", Mapping)
        found = bandwidth.get("publicip_info")
        return frozenset(
            text(item.get("publicip_id"))
            for item in (found if isinstance(found, list) else [])
            if isinstance(item, Mapping) and item.get("publicip_id")
        )

    def insert(self, project_id: str, bandwidth_id: str, port_id: str, deadline: Deadline) -> None:
        info = [{"publicip_id": port_id, "publicip_type": IPV6_PORT}]
        body = {"bandwidth": {"publicip_info": info}}
        path = f"bandwidths/{bandwidth_id}/insert"
        self._v2._send("POST", project_id, path, deadline, body=body)
