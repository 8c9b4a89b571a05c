"""The Nova ``os-interface`` backend (OpenStack Nova, Huawei ECS ``/v2.1``), named ``nova``.

``NovaClient`` (``client.py``) speaks the wire; ``NovaBackend`` turns it into the
typed ``ComputeBackend`` values: microversions, 404 → ``ServerGone``, a detach of a
NIC already gone is done.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any, Literal

from function.compute.base import Attached, Capabilities, Server, ServerGone, ServerPage
from function.compute.nova.client import (
    MARK_ATTACH_MICROVERSION,
    MARK_READ_MICROVERSION,
    NovaClient,
)
from function.domain.codes import ErrorCode
from function.domain.errors import ApiPermanentError, ApiTemporaryError
from function.domain.plan import Interface
from function.domain.policy import NicRequest
from function.domain.profile import ProfileSupport
from function.domain.tags import salvage_tags
from function.domain.timing import Deadline

log = logging.getLogger("nicattach.compute")


class NovaBackend:
    """``ComputeBackend`` over ``NovaClient``.

    ``marks``: ``auto`` uses device tags when the endpoint offers microversion 2.70
    (asked once per process by ``discover``, which the flow calls before its first read;
    not at start-up), ``on`` always, ``off`` never. A read or attach made before
    ``discover`` settles it first.
    No security groups on attach (the API has no such field).
    """

    name = "nova"
    capabilities = Capabilities(
        marks=None,
        security_groups=False,
        free_nics=False,
        delete_on_termination=False,
        profiles=ProfileSupport(
            source_dest_check=True,
            ipv6=True,
            ipv6_address=True,
            allowed_address_pairs=True,
            public_ip=True,
            why=(("ipv6_bandwidth", "Neutron has no shared bandwidth"),),
        ),
    )

    def __init__(self, client: NovaClient, *, marks: str = "auto") -> None:
        self.client = client
        self.capabilities = replace(self.capabilities, marks={"on": True, "off": False}.get(marks))
        self._lock = threading.Lock()

    def discover(self, deadline: Deadline) -> Capabilities:
        if self.capabilities.marks is not None:
            return self.capabilities
        with self._lock:
            if self.capabilities.marks is None:
                try:
                    marks = self.client.max_microversion(deadline) >= (2, 70)
                except (ApiTemporaryError, ApiPermanentError) as exc:
                    log.warning("version document unreadable (%s); no NIC marks", exc.code)
                    return replace(self.capabilities, marks=False)
                log.info("NIC marks (device tags) %s", "on" if marks else "off")
                self.capabilities = replace(self.capabilities, marks=marks)
        return self.capabilities

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
        version = MARK_READ_MICROVERSION if self.discover(deadline).marks else None
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
        mark = mark if mark is not None and self.discover(deadline).marks else None
        version = MARK_ATTACH_MICROVERSION if mark else None
        with _gone_on_404(only_instance=True):
            self.client.attach(project_id, server_id, attach_body(nic, mark), version, deadline)

    def keep_with_server(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline
    ) -> None:
        """Not offered: Nova keeps a port passed by id when the server goes (the function
        deletes its ports on the server's delete event, and the sweep collects them)."""

    def detach(self, project_id: str, server_id: str, port_id: str, deadline: Deadline) -> None:
        """A 404 (the NIC, or the server, already gone) is done."""
        try:
            self.client.detach(project_id, server_id, port_id, deadline)
        except ApiPermanentError as exc:
            if exc.status != 404:
                raise


class _gone_on_404:
    """Map a 404 about the server itself to ``ServerGone``."""

    def __init__(self, *, only_instance: bool = False) -> None:
        self._only_instance = only_instance

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> Literal[False]:
        # Only a 404 naming a thing of the API (``classify``: NOT_FOUND, e.g. "Instance
        # <id> could not be found."); an unknown route is API_NOT_FOUND, retryable.
        if isinstance(exc, ApiPermanentError) and exc.status == 404:
            if exc.code == ErrorCode.NOT_FOUND:
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
