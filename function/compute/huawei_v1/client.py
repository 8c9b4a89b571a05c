"""The Huawei ECS ``/v1/{project_id}`` calls the ``huawei-v1`` backend makes, as plain JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from function.compute.base import Attached
from function.compute.huawei_v1.errors import read_fault
from function.compute.parsing import interface_from_api
from function.domain.errors import BadAnswer
from function.domain.timing import Deadline
from function.transport.api import JsonApi, Signer, field
from function.transport.session import HttpSession

PAGE_SIZE = 1000
"""The v1 list's largest page: the window is filtered here, over every page of the fleet."""


class HuaweiV1Client(JsonApi):
    """The ``/v1/{project_id}`` calls this backend makes, as plain JSON."""

    def __init__(self, session: HttpSession, endpoint: str, auth: Signer, **kwargs: Any) -> None:
        super().__init__(session, endpoint, auth, read_fault, api_version="v1", **kwargs)

    def get_server(self, project_id: str, server_id: str, deadline: Deadline) -> dict[str, Any]:
        body = self._get(project_id, f"cloudservers/{server_id}", deadline)
        server: dict[str, Any] = field(body, "server", dict)
        return server

    def get_tags(self, project_id: str, server_id: str, deadline: Deadline) -> list[Any]:
        body = self._get(project_id, f"cloudservers/{server_id}/tags", deadline)
        return list(field(body, "tags", list))

    def list_servers(
        self, project_id: str, deadline: Deadline, marker: str | None = None
    ) -> list[dict[str, Any]]:
        query = f"?limit={PAGE_SIZE}" + (f"&marker={marker}" if marker else "")
        body = self._get(project_id, f"cloudservers/detail{query}", deadline)
        return [s for s in field(body, "servers", list) if isinstance(s, dict)]

    def list_interfaces(self, project_id: str, server_id: str, deadline: Deadline) -> Attached:
        body = self._get(project_id, f"cloudservers/{server_id}/os-interface", deadline)
        items = field(body, "interfaceAttachments", list)
        quantity = body.get("attachableQuantity")
        free = quantity.get("free_nic") if isinstance(quantity, Mapping) else None
        free = free if isinstance(free, int) and not isinstance(free, bool) else None
        return Attached(tuple(interface_from_api(i) for i in items if isinstance(i, Mapping)), free)

    def add_nics(
        self, project_id: str, server_id: str, nics: list[dict[str, Any]], deadline: Deadline
    ) -> str:
        path, body = f"cloudservers/{server_id}/nics", {"nics": nics}
        answer = self._send("POST", project_id, path, deadline, body=body)
        return str(field(answer, "job_id", str))

    def delete_nics(
        self, project_id: str, server_id: str, port_ids: list[str], deadline: Deadline
    ) -> str:
        body = {"nics": [{"id": port_id} for port_id in port_ids]}
        path = f"cloudservers/{server_id}/nics/delete"
        return str(field(self._send("POST", project_id, path, deadline, body=body), "job_id", str))

    def update_interface(
        self, project_id: str, server_id: str, port_id: str, delete: bool, deadline: Deadline
    ) -> None:
        """UpdateServerInterface: only ``delete_on_termination`` can change."""
        path = f"cloudservers/{server_id}/os-interface/{port_id}"
        body = {"interface_attachment": {"delete_on_termination": delete}}
        self._idempotent("PUT", project_id, path, deadline, body=body)

    def get_job(self, project_id: str, job_id: str, deadline: Deadline) -> Mapping[str, Any]:
        job = self._get(project_id, f"jobs/{job_id}", deadline)
        if not isinstance(job, Mapping):
            raise BadAnswer("job answer is not an object")
        return job
