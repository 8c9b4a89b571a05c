"""The Nova ``os-interface`` API on the wire (OpenStack Nova, Huawei ECS ``/v2.1``):
URLs, microversion headers, JSON. GETs are retried on transport errors, 429 and 5xx;
POST and DELETE never (the caller re-reads and decides)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from function.compute.nova.errors import read_fault
from function.compute.parsing import interface_from_api
from function.domain.plan import Interface
from function.domain.timing import Deadline, Timing
from function.transport.api import REAL_TIMING, JsonApi, Signer, field
from function.transport.session import HttpSession

VERSION_HEADER = "X-OpenStack-Nova-API-Version"
TAGS_MICROVERSION = "2.26"  # server tags in GET /servers/{id} and /servers/detail
MARK_ATTACH_MICROVERSION = "2.49"  # attach with a device tag
MARK_READ_MICROVERSION = "2.70"  # the device tag shows in os-interface answers


def microversion(version: str | None) -> dict[str, str]:
    """The header that asks for ``version`` (none for ``None``)."""
    return {VERSION_HEADER: version} if version is not None else {}


class NovaClient(JsonApi):
    """The ``/v2.1`` (or ``/v2``) compute API over one keep-alive ``transport.Session``.

    Project-agnostic and thread-safe. Each call may take the event's ``Deadline``:
    GET retries, pauses and request timeouts then stop at it.
    """

    def __init__(
        self,
        session: HttpSession,
        endpoint: str,
        auth: Signer,
        *,
        api_version: str = "v2.1",
        timeout: tuple[float, float] = (3.05, 20.0),
        get_attempts: int = 4,
        timing: Timing = REAL_TIMING,
        sleep: Any = None,
    ) -> None:
        super().__init__(
            *(session, endpoint, auth, read_fault),
            api_version=api_version,
            timeout=timeout,
            get_attempts=get_attempts,
            timing=timing,
            sleep=sleep,
        )

    def get_server(
        self, project_id: str, server_id: str, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        """The server; at microversion 2.26 it carries ``tags`` as well."""
        body = self._get(project_id, f"servers/{server_id}", deadline, self._tags_version())
        server: dict[str, Any] = field(body, "server", dict)
        return server

    def get_tags(
        self, project_id: str, server_id: str, deadline: Deadline | None = None
    ) -> list[Any]:
        path = f"servers/{server_id}/tags"
        body = self._get(project_id, path, deadline, microversion(TAGS_MICROVERSION))
        return list(field(body, "tags", list))

    def list_servers(
        self,
        project_id: str,
        limit: int = 100,
        marker: str | None = None,
        deadline: Deadline | None = None,
        changes_since: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ``GET /servers/detail`` (with tags, at 2.26), and the next page's marker."""
        query = f"?limit={limit}" + (f"&marker={marker}" if marker else "")
        if changes_since:
            query += f"&changes-since={changes_since}"
        body = self._get(project_id, f"servers/detail{query}", deadline, self._tags_version())
        page = [s for s in field(body, "servers", list) if isinstance(s, dict)]
        return page, _next_marker(body, page)

    def list_interfaces(
        self,
        project_id: str,
        server_id: str,
        version: str | None = None,
        deadline: Deadline | None = None,
    ) -> list[Interface]:
        path = f"servers/{server_id}/os-interface"
        body = self._get(project_id, path, deadline, microversion(version))
        items = field(body, "interfaceAttachments", list)
        return [interface_from_api(i) for i in items if isinstance(i, Mapping)]

    def get_interface(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline | None = None
    ) -> Interface:
        body = self._get(project_id, f"servers/{server_id}/os-interface/{port_id}", deadline)
        return interface_from_api(field(body, "interfaceAttachment", dict))

    def attach(
        self,
        project_id: str,
        server_id: str,
        body: Mapping[str, Any],
        version: str | None = None,
        deadline: Deadline | None = None,
    ) -> Interface:
        path = f"servers/{server_id}/os-interface"
        headers = microversion(version)
        answer = self._send("POST", project_id, path, deadline, body=body, headers=headers)
        return interface_from_api(field(answer, "interfaceAttachment", dict))

    def detach(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline | None = None
    ) -> None:
        self._send("DELETE", project_id, f"servers/{server_id}/os-interface/{port_id}", deadline)

    def max_microversion(self, deadline: Deadline | None = None) -> tuple[int, int]:
        """The highest microversion the endpoint's version document offers ((2, 0) for none)."""
        if self.api_version != "v2.1":
            return (2, 0)
        body = self._request("GET", f"{self._base}/", deadline)
        version = body.get("version") if isinstance(body, Mapping) else None
        text = version.get("version") if isinstance(version, Mapping) else None
        return _microversion(text) if isinstance(text, str) else (2, 1)

    def _tags_version(self) -> dict[str, str]:
        return microversion(TAGS_MICROVERSION if self.api_version == "v2.1" else None)


def _next_marker(body: Mapping[str, Any], page: list[dict[str, Any]]) -> str | None:
    """The next page's marker: ``servers_links`` ``rel=next`` when given; else, after a
    non-empty page, its last id (an API that caps pages below ``limit`` without links
    costs one more, empty, page); ``None`` after an empty page."""
    links = body.get("servers_links")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, Mapping) and link.get("rel") == "next":
            marker = _query_value(str(link.get("href", "")), "marker")
            if marker:
                return marker
    last = page[-1].get("id") if page else None
    return last if isinstance(last, str) and last else None


def _query_value(href: str, name: str) -> str | None:
    values = parse_qs(urlsplit(href).query).get(name)
    return values[0] if values else None


def _microversion(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    try:
        return (int(major), int(minor or 0))
    except ValueError:
        return (2, 1)
