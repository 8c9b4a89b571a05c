"""The Nova-compatible ``os-interface`` backend (OpenStack Nova, Huawei ECS ``/v2.1``).

Two parts: ``EcsClient`` speaks the wire (URLs, microversion headers, JSON,
one exception map in ``check_response``; GETs retried on transport errors,
429 and 5xx; POST and DELETE never: the caller re-reads and decides), and
``NovaBackend`` turns that into the typed ``ComputeBackend`` values.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from function.auth import Auth
from function.compute.base import Attached, Server, ServerGone, ServerPage
from function.compute.wire import (
    CORRELATION_HEADER,
    MAX_ERROR_TEXT,
    REAL_TIMING,
    JsonApi,
    cut,
    request_id_of,
)
from function.compute.wire import field as _field
from function.compute.wire import json_body as _json_body
from function.compute.wire import text as _text
from function.domain.errors import ApiPermanentError, ApiTemporaryError
from function.domain.plan import FixedIp, Interface
from function.domain.policy import NicRequest
from function.domain.tags import salvage_tags
from function.domain.timing import Deadline, Timing, parse_retry_after
from function.transport.session import HttpSession, Response

__all__ = ["CORRELATION_HEADER", "REAL_TIMING", "EcsClient", "NovaBackend", "check_response",
           "cut"]  # fmt: skip

log = logging.getLogger("nicattach.compute")

TAGS_MICROVERSION = "2.26"  # server tags in GET /servers/{id} and /servers/detail
MARK_ATTACH_MICROVERSION = "2.49"  # attach with a device tag
MARK_READ_MICROVERSION = "2.70"  # the device tag shows in os-interface answers


class EcsClient(JsonApi):
    """The ``/v2.1`` (or ``/v2``) compute API over one keep-alive ``transport.Session``.

    Project-agnostic and thread-safe. Each call may take the event's ``Deadline``:
    GET retries, pauses and request timeouts then stop at it.
    """

    def __init__(
        self,
        session: HttpSession,
        endpoint: str,
        auth: Auth,
        *,
        api_version: str = "v2.1",
        timeout: tuple[float, float] = (3.05, 20.0),
        get_attempts: int = 4,
        timing: Timing = REAL_TIMING,
        sleep: Any = None,
    ) -> None:
        super().__init__(session, endpoint, auth, api_version=api_version, timeout=timeout,
                         get_attempts=get_attempts, timing=timing, sleep=sleep)  # fmt: skip

    def check(self, response: Response, what: str) -> Any:
        return check_response(response, what)

    # -- calls ---------------------------------------------------------------

    def get_server(
        self, project_id: str, server_id: str, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        """The server; at microversion 2.26 it carries ``tags`` as well."""
        body = self._get(project_id, f"servers/{server_id}", deadline, self._tags_version())
        server: dict[str, Any] = _field(body, "server", dict)
        return server

    def get_tags(
        self, project_id: str, server_id: str, deadline: Deadline | None = None
    ) -> list[Any]:
        path = f"servers/{server_id}/tags"
        return list(_field(self._get(project_id, path, deadline, TAGS_MICROVERSION), "tags", list))

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
        page = [s for s in _field(body, "servers", list) if isinstance(s, dict)]
        return page, _next_marker(body, page)

    def list_interfaces(
        self,
        project_id: str,
        server_id: str,
        microversion: str | None = None,
        deadline: Deadline | None = None,
    ) -> list[Interface]:
        body = self._get(project_id, f"servers/{server_id}/os-interface", deadline, microversion)
        items = _field(body, "interfaceAttachments", list)
        return [interface_from_api(i) for i in items if isinstance(i, Mapping)]

    def get_interface(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline | None = None
    ) -> Interface:
        body = self._get(project_id, f"servers/{server_id}/os-interface/{port_id}", deadline)
        return interface_from_api(_field(body, "interfaceAttachment", dict))

    def attach(
        self,
        project_id: str,
        server_id: str,
        body: Mapping[str, Any],
        microversion: str | None = None,
        deadline: Deadline | None = None,
    ) -> Interface:
        path = f"servers/{server_id}/os-interface"
        answer = self._send(
            "POST", project_id, path, deadline, body=body, microversion=microversion
        )
        return interface_from_api(_field(answer, "interfaceAttachment", dict))

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

    # -- plumbing ------------------------------------------------------------

    def _tags_version(self) -> str | None:
        return TAGS_MICROVERSION if self.api_version == "v2.1" else None


class NovaBackend:
    """``ComputeBackend`` over ``EcsClient``: typed values, microversions, 404 → ``ServerGone``.

    ``marks``: ``auto`` uses device tags when the endpoint offers microversion 2.70
    (asked once, lazily, not at start-up), ``on`` always, ``off`` never.
    """

    name = "nova"

    def __init__(self, client: EcsClient, *, marks: str = "auto") -> None:
        self.client = client
        self._marks_setting = marks
        self._marks: bool | None = {"on": True, "off": False}.get(marks)
        self._lock = threading.Lock()

    @property
    def calls(self) -> int:
        return self.client.calls

    def marks(self, deadline: Deadline) -> bool:
        if self._marks is None:
            with self._lock:
                if self._marks is None:
                    try:
                        self._marks = self.client.max_microversion(deadline) >= (2, 70)
                    except (ApiTemporaryError, ApiPermanentError) as exc:
                        log.warning("version document unreadable (%s); no NIC marks", exc.code)
                        return False
                    log.info("NIC marks (device tags) %s", "on" if self._marks else "off")
        return self._marks

    def get_server(self, project_id: str, server_id: str, deadline: Deadline) -> Server:
        with _gone_on_404():
            raw = self.client.get_server(project_id, server_id, deadline)
        status = raw.get("status")
        status = status.strip().upper() if isinstance(status, str) else ""
        if status in ("DELETED", "SOFT_DELETED"):
            raise ServerGone()
        if self.client.api_version != "v2.1":
            return Server(server_id, status, None)
        if "tags" in raw:
            tags_raw = raw["tags"]
        else:  # an ECS that leaves tags out of the server body
            with _gone_on_404():
                tags_raw = self.client.get_tags(project_id, server_id, deadline)
        tags, ignored = salvage_tags(tags_raw)
        return Server(server_id, status, tags, ignored)

    def list_servers(
        self,
        project_id: str,
        deadline: Deadline,
        *,
        marker: str | None = None,
        changes_since: str | None = None,
    ) -> ServerPage:
        page, next_marker = self.client.list_servers(
            project_id, marker=marker, deadline=deadline, changes_since=changes_since
        )
        servers = []
        for raw in page:
            server_id, status = raw.get("id"), raw.get("status")
            if not isinstance(server_id, str) or not isinstance(status, str):
                continue
            if self.client.api_version != "v2.1":
                servers.append(Server(server_id, status.upper(), None))
                continue
            tags, ignored = salvage_tags(raw.get("tags"))
            servers.append(Server(server_id, status.upper(), tags, ignored))
        return ServerPage(tuple(servers), next_marker)

    def list_interfaces(self, project_id: str, server_id: str, deadline: Deadline) -> Attached:
        version = MARK_READ_MICROVERSION if self.marks(deadline) else None
        with _gone_on_404():
            items = self.client.list_interfaces(project_id, server_id, version, deadline)
        return Attached(tuple(items))

    def get_interface(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline
    ) -> Interface:
        return self.client.get_interface(project_id, server_id, port_id, deadline)

    def attach(
        self,
        project_id: str,
        server_id: str,
        nic: NicRequest,
        deadline: Deadline,
        *,
        mark: str | None = None,
    ) -> None:
        mark = mark if mark is not None and self.marks(deadline) else None
        version = MARK_ATTACH_MICROVERSION if mark else None
        with _gone_on_404(only_instance=True):
            self.client.attach(project_id, server_id, attach_body(nic, mark), version, deadline)

    def detach(self, project_id: str, server_id: str, port_id: str, deadline: Deadline) -> None:
        self.client.detach(project_id, server_id, port_id, deadline)


class _gone_on_404:
    """Map a 404 about the server itself to ``ServerGone``."""

    def __init__(self, *, only_instance: bool = False) -> None:
        self._only_instance = only_instance

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> Literal[False]:
        if isinstance(exc, ApiPermanentError) and exc.status == 404:
            if not self._only_instance or exc.code == "not_found":
                raise ServerGone() from exc
        return False


def attach_body(nic: NicRequest, mark: str | None = None) -> dict[str, Any]:
    """Exactly the ``interfaceAttachment`` the API reference allows for ``nic``."""
    body: dict[str, Any]
    if nic.port_id is not None:
        body = {"port_id": nic.port_id}
    else:
        body = {"net_id": nic.net_id}
        if nic.fixed_ip is not None:
            body["fixed_ips"] = [{"ip_address": nic.fixed_ip}]
    if mark is not None:
        body["tag"] = mark
    return {"interfaceAttachment": body}


def interface_from_api(raw: Mapping[str, Any]) -> Interface:
    """An ``interfaceAttachment`` object; ids are stripped (the vendor's own example has a
    leading space), and fields of the wrong type read as empty."""
    fixed = raw.get("fixed_ips")
    return Interface(
        port_id=_text(raw.get("port_id")),
        net_id=_text(raw.get("net_id")),
        port_state=_text(raw.get("port_state")),
        mac_addr=_text(raw.get("mac_addr")),
        fixed_ips=tuple(
            FixedIp(_text(ip.get("subnet_id")), _text(ip.get("ip_address")))
            for ip in (fixed if isinstance(fixed, list) else ())
            if isinstance(ip, Mapping)
        ),
        tag=_text(raw.get("tag")),
    )


def check_response(response: Response, what: str) -> Any:
    """Return the JSON body of a 2xx answer, or raise the matching API error."""
    request_id = request_id_of(response)
    if response.status_code < 300:
        return _json_body(response, what)
    status = response.status_code
    message = f"{what}: HTTP {status}: {fault_message(response)}"
    code = classify(status, message)
    if code in TEMPORARY_CODES:
        delay = parse_retry_after(response.headers.get("Retry-After")) if status == 429 else None
        raise ApiTemporaryError(
            message, code=code, status=status, request_id=request_id, delay=delay
        )
    raise ApiPermanentError(message, code=code, status=status, request_id=request_id)


#: Codes worth retrying. A 500 that names a missing network is permanent (Nova answers
#: an unknown ``net_id`` with 500 NetworkNotFoundClient); a 401 may heal once a
#: credential is rotated, so it is retried by redelivery rather than dropped.
TEMPORARY_CODES = frozenset(
    {"server_busy", "conflict", "throttled", "server_error", "unauthorized"}
)


def classify(status: int, message: str) -> str:
    """A stable error code for an API answer (used in failed events)."""
    text = message.lower()
    if status == 409:
        if "fixed ip" in text and "in use" in text:
            return "fixed_ip_in_use"
        if "port" in text and "in use" in text:
            return "port_in_use"
        return "server_busy" if "vm_state" in text or "task_state" in text else "conflict"
    if status == 404 or "networknotfound" in text:
        if "network" in text:
            return "network_not_found"
        if "port" in text:
            return "port_not_found"
        return "not_found"
    if status == 403 and ("quota" in text or "maximum number" in text):
        return "nic_quota_exceeded"
    named = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 429: "throttled"}
    return named.get(status, "server_error" if status >= 500 else f"http_{status}")


def fault_message(response: Response) -> str:
    """The message of a Nova (``{"badRequest": {...}}``) or Huawei (``{"error": {...}}``) fault."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return cut(response.text or response.reason or "")
    if isinstance(body, Mapping):
        for value in body.values():
            if isinstance(value, Mapping) and "message" in value:
                return cut(str(value["message"]))
        if "message" in body:
            return cut(str(body["message"]))
    return cut(json.dumps(body)[: MAX_ERROR_TEXT * 2])


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
