"""Snapshots → the JSON Nova answers with, field by field and microversion by microversion."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from emulator.compute.records import ServerSnapshot
from emulator.compute.versions import Microversion
from emulator.network.records import InterfaceSnapshot

TAGS_VERSION: Microversion = (2, 26)
INTERFACE_TAG_VERSION: Microversion = (2, 70)
#: Nova's ``OS-EXT-STS:power_state`` numbers.
POWER_STATES = {"BUILD": 0, "ACTIVE": 1, "SHUTOFF": 4, "ERROR": 0}


def interface_view(interface: InterfaceSnapshot, version: Microversion) -> dict[str, Any]:
    view = interface.to_dict()
    if version < INTERFACE_TAG_VERSION:
        del view["tag"]
    return view


def _addresses(server: ServerSnapshot) -> dict[str, list[dict[str, Any]]]:
    """``addresses`` keyed by network name; empty while the server builds."""
    addresses: dict[str, list[dict[str, Any]]] = {}
    if server.status == "BUILD":
        return addresses
    for interface in server.interfaces:
        addresses.setdefault(interface.network_name, []).append(
            {
                "version": 6 if ":" in interface.ip_address else 4,
                "addr": interface.ip_address,
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": interface.mac_addr,
            }
        )
    return addresses


def _links(server: ServerSnapshot, base_url: str, api: str) -> list[dict[str, str]]:
    path = f"{server.project_id}/servers/{server.id}"
    return [
        {"rel": "self", "href": f"{base_url}/{api}/{path}"},
        {"rel": "bookmark", "href": f"{base_url}/{path}"},
    ]


def server_view(
    server: ServerSnapshot, version: Microversion, base_url: str, api: str
) -> dict[str, Any]:
    """``GET /servers/{id}`` and each item of ``GET /servers/detail``."""
    view: dict[str, Any] = {
        "id": server.id,
        "name": server.name,
        "status": server.status,
        "tenant_id": server.project_id,
        "user_id": "emulator",
        "created": server.created,
        "updated": server.updated,
        "addresses": _addresses(server),
        "metadata": {},
        "links": _links(server, base_url, api),
        "OS-EXT-STS:vm_state": server.vm_state,
        "OS-EXT-STS:task_state": server.task_state,
        "OS-EXT-STS:power_state": POWER_STATES[server.status],
    }
    if version >= TAGS_VERSION:
        view["tags"] = list(server.tags)
    return view


def server_summary(server: ServerSnapshot, base_url: str, api: str) -> dict[str, Any]:
    """Each item of ``GET /servers``."""
    return {"id": server.id, "name": server.name, "links": _links(server, base_url, api)}


def next_link(
    base_url: str, path: str, query: dict[str, str], servers: list[ServerSnapshot], limit: int
) -> list[dict[str, str]]:
    """Nova's ``servers_links``: a next link whenever a page came back full."""
    if not servers or len(servers) < limit:
        return []
    params = {**query, "limit": str(limit), "marker": servers[-1].id}
    return [{"rel": "next", "href": f"{base_url}{path}?{urlencode(params)}"}]
