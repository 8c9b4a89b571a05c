"""The Huawei ECS native NIC backend (``/v1``): batch NIC jobs instead of ``os-interface``.

Huawei marks the Nova-compatible attach as discarded; only these APIs take
enterprise-project authorization. Writes answer a ``job_id`` at once and
succeed or fail later, in the job: ``attach`` and ``detach`` poll it (capped
backoff, inside the event's deadline) and return only after ``SUCCESS``. A
job still running at the deadline is a retryable ``job_pending``: the
redelivery re-reads and finds the NIC once the job is done. There is no
client token, so nothing is ever re-POSTed blindly: the converger re-reads
before every write. Error codes: ``ECS_ERRORS`` (docs/huawei-v1.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from function.compute.base import Attached, Server, ServerGone, ServerPage
from function.compute.os_interface import TEMPORARY_CODES, classify, interface_from_api
from function.compute.wire import JsonApi, cut, field, json_body, request_id_of, text
from function.domain.errors import ApiPermanentError, ApiTemporaryError
from function.domain.plan import Interface
from function.domain.policy import NicRequest
from function.domain.tags import salvage_tags
from function.domain.timing import Backoff, Deadline, parse_retry_after
from function.transport.session import Response

log = logging.getLogger("nicattach.compute")

JOB_BACKOFF = Backoff(base=0.1, cap=2.0, jitter=0.25)
"""Polling a NIC job: 0.1 s, 0.2 s, … at most 2 s apart."""
PAGE_SIZE = 100
JOB_RUNNING = frozenset({"INIT", "RUNNING", "PENDING_PAYMENT"})

#: Ecs.* code → (our error code, worth retrying). From the ECS error-code table
#: (docs/research-huawei.md); the HTTP status of these answers "may not be accurate".
ECS_ERRORS: Mapping[str, tuple[str, bool]] = {
    "Ecs.0005": ("bad_request", False),
    "Ecs.0050": ("nic_quota_exceeded", False),
    "Ecs.0038": ("network_not_found", False),
    "Ecs.0012": ("subnet_full", False),
    "Ecs.0010": ("fixed_ip_in_use", False),
    "Ecs.0039": ("fixed_ip_not_in_subnet", False),
    "Ecs.0014": ("bad_network_settings", False),
    "Ecs.0064": ("vpc_mismatch", False),
    "Ecs.0100": ("server_busy", True),
    "Ecs.0605": ("server_locked", True),
    "Ecs.0114": ("server_not_found", False),
    "Ecs.0919": ("port_in_use", False),
    "Ecs.0307": ("port_not_found", False),
    "Ecs.0085": ("interface_not_found", False),
    "Ecs.0201": ("attach_failed", True),
    "Ecs.0211": ("attach_failed", True),
    "Ecs.0212": ("attach_failed", True),
    "Ecs.0213": ("attach_failed", True),
    "Ecs.0217": ("attach_failed", True),
    "Ecs.0507": ("detach_failed", True),
    "Ecs.1002": ("openstack_timeout", True),
    "Ecs.0003": ("forbidden", False),
    "Ecs.0110": ("forbidden", False),
    "Ecs.0023": ("project_mismatch", False),
    "Common.0011": ("job_not_found", False),
}


class V1Client(JsonApi):
    """The ``/v1/{project_id}`` calls this backend makes, as plain JSON."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, api_version="v1", **kwargs)

    def check(self, response: Response, what: str) -> Any:
        return check_v1_response(response, what)

    def get_server(self, project_id: str, server_id: str, deadline: Deadline) -> dict[str, Any]:
        body = self._get(project_id, f"cloudservers/{server_id}", deadline)
        server: dict[str, Any] = field(body, "server", dict)
        return server

    def get_tags(self, project_id: str, server_id: str, deadline: Deadline) -> list[Any]:
        return list(field(self._get(project_id, f"cloudservers/{server_id}/tags", deadline),
                          "tags", list))  # fmt: skip

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

    def add_nics(self, project_id: str, server_id: str, nics: list[dict[str, Any]],
                 deadline: Deadline) -> str:  # fmt: skip
        answer = self._send("POST", project_id, f"cloudservers/{server_id}/nics", deadline,
                            body={"nics": nics})  # fmt: skip
        return str(field(answer, "job_id", str))

    def delete_nics(self, project_id: str, server_id: str, port_ids: list[str],
                    deadline: Deadline) -> str:  # fmt: skip
        body = {"nics": [{"id": port_id} for port_id in port_ids]}
        path = f"cloudservers/{server_id}/nics/delete"
        return str(field(self._send("POST", project_id, path, deadline, body=body), "job_id", str))

    def get_job(self, project_id: str, job_id: str, deadline: Deadline) -> Mapping[str, Any]:
        job = self._get(project_id, f"jobs/{job_id}", deadline)
        if not isinstance(job, Mapping):
            raise ApiTemporaryError("job answer is not an object", code="bad_answer",
                                    status=None, request_id=None)  # fmt: skip
        return job


class HuaweiV1Backend:
    """``ComputeBackend`` over ``V1Client``. No NIC marks: this API has no device tag."""

    name = "huawei-v1"

    def __init__(self, client: V1Client) -> None:
        self.client = client

    @property
    def calls(self) -> int:
        return self.client.calls

    def marks(self, deadline: Deadline) -> bool:
        return False

    def get_server(self, project_id: str, server_id: str, deadline: Deadline) -> Server:
        """Status from the server, tags from the tags API (``[{key, value}]``: the server's
        own ``tags`` strings have no documented format)."""
        with _gone():
            raw = self.client.get_server(project_id, server_id, deadline)
            status = text(raw.get("status")).upper()
            if status in ("DELETED", "SOFT_DELETED"):
                raise ServerGone()
            tags, ignored = salvage_tags(self.client.get_tags(project_id, server_id, deadline))
        return Server(server_id, status, tags, ignored)

    def list_servers(
        self,
        project_id: str,
        deadline: Deadline,
        *,
        marker: str | None = None,
        changes_since: str | None = None,
    ) -> ServerPage:
        """One page of ``/cloudservers/detail``; ``changes_since`` is applied here (the v1
        list has no such filter), on each server's ``updated``."""
        page = self.client.list_servers(project_id, deadline, marker)
        since = _instant(changes_since)
        servers = []
        for raw in page:
            server_id, status = raw.get("id"), raw.get("status")
            if not isinstance(server_id, str) or not isinstance(status, str):
                continue
            updated = _instant(raw.get("updated"))
            if since is not None and updated is not None and updated < since:
                continue
            tags, ignored = salvage_tags(raw.get("tags"))
            servers.append(Server(server_id, status.upper(), tags, ignored))
        last = page[-1].get("id") if page else None
        return ServerPage(tuple(servers), last if isinstance(last, str) and last else None)

    def list_interfaces(self, project_id: str, server_id: str, deadline: Deadline) -> Attached:
        with _gone():
            return self.client.list_interfaces(project_id, server_id, deadline)

    def get_interface(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline
    ) -> Interface:
        """From the list (this API has no single-NIC read)."""
        for interface in self.list_interfaces(project_id, server_id, deadline).interfaces:
            if interface.port_id == port_id:
                return interface
        raise ApiPermanentError(f"server {server_id} has no NIC {port_id}", code="not_found",
                                status=404, request_id=None)  # fmt: skip

    def attach(
        self,
        project_id: str,
        server_id: str,
        nic: NicRequest,
        deadline: Deadline,
        *,
        mark: str | None = None,
    ) -> None:
        """Start an add job and wait for it; returns after ``SUCCESS``."""
        with _gone():
            job_id = self.client.add_nics(project_id, server_id, [nic_body(nic)], deadline)
        self._wait(project_id, job_id, deadline)

    def detach(self, project_id: str, server_id: str, port_id: str, deadline: Deadline) -> None:
        """Start a delete job and wait for it; a NIC that is already gone is done."""
        try:
            job_id = self.client.delete_nics(project_id, server_id, [port_id], deadline)
            self._wait(project_id, job_id, deadline)
        except ApiPermanentError as exc:
            if exc.code != "interface_not_found":
                raise

    def _wait(self, project_id: str, job_id: str, deadline: Deadline) -> None:
        attempt, status = 0, "RUNNING"
        while True:
            attempt += 1
            delay = JOB_BACKOFF.delay(attempt, deadline.timing.rng)
            if not deadline.allows(delay):
                raise ApiTemporaryError(f"job {job_id} still {status} at the deadline",
                                        code="job_pending", status=None,
                                        request_id=None)  # fmt: skip
            deadline.pause(delay)
            try:
                job = self.client.get_job(project_id, job_id, deadline)
            except ApiPermanentError as exc:
                if exc.code != "job_not_found":
                    raise
                raise ApiTemporaryError(f"job {job_id} is gone; re-reading", code="job_lost",
                                        status=None, request_id=None) from exc  # fmt: skip
            status = text(job.get("status")).upper()
            if status == "SUCCESS":
                return
            if status not in JOB_RUNNING:
                raise job_error(job_id, job)


def nic_body(nic: NicRequest) -> dict[str, Any]:
    """One ``nics[]`` item: a port (whose own settings then apply), or a network
    (``subnet_id`` is the network id) with an optional IP and security groups."""
    if nic.port_id is not None:
        return {"port_id": nic.port_id}
    body: dict[str, Any] = {"subnet_id": nic.net_id}
    if nic.fixed_ip is not None:
        body["ip_address"] = nic.fixed_ip
    if nic.security_groups:
        body["security_groups"] = [{"id": group} for group in nic.security_groups]
    return body


def job_error(job_id: str, job: Mapping[str, Any]) -> ApiPermanentError | ApiTemporaryError:
    """The error a failed job stands for: its ``error_code`` (or its first failed
    sub-job's) through ``ECS_ERRORS``; an unknown code is worth a retry."""
    code, reason = text(job.get("error_code")), text(job.get("fail_reason"))
    entities = job.get("entities")
    subs = entities.get("sub_jobs") if isinstance(entities, Mapping) else None
    for sub in subs if isinstance(subs, list) else ():
        if isinstance(sub, Mapping) and text(sub.get("status")).upper() == "FAIL":
            code = code or text(sub.get("error_code"))
            reason = reason or text(sub.get("fail_reason"))
            break
    ours, temporary = ECS_ERRORS.get(code, ("job_failed", True))
    message = f"job {job_id} {text(job.get('status')) or 'FAIL'}: {code or '?'} {cut(reason)}"
    if temporary:
        return ApiTemporaryError(message, code=ours, status=None, request_id=None)
    return ApiPermanentError(message, code=ours, status=400, request_id=None)


def check_v1_response(response: Response, what: str) -> Any:
    """A 2xx body, or the API error for ``{"error": {"code": "Ecs.XXXX", "message"}}``:
    by its Ecs code when known, else by HTTP status as for Nova."""
    if response.status_code < 300:
        return json_body(response, what)
    status, request_id = response.status_code, request_id_of(response)
    ecs_code, text_ = _error_of(response)
    message = f"{what}: HTTP {status}: {ecs_code + ' ' if ecs_code else ''}{text_}"
    known = ECS_ERRORS.get(ecs_code)
    if status == 429 or status >= 500 or status == 401 or known is None:
        code = classify(status, message)
        temporary = code in TEMPORARY_CODES
    else:
        code, temporary = known
    if temporary:
        delay = parse_retry_after(response.headers.get("Retry-After")) if status == 429 else None
        raise ApiTemporaryError(message, code=code, status=status, request_id=request_id,
                                delay=delay)  # fmt: skip
    raise ApiPermanentError(message, code=code, status=status, request_id=request_id)


def _error_of(response: Response) -> tuple[str, str]:
    """(Ecs code, message) of a Huawei error body; ("", text) for anything else."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return "", cut(response.text or response.reason or "")
    inner = body.get("error") if isinstance(body, Mapping) else None
    for item in (inner, body):
        if isinstance(item, Mapping):
            code = item.get("code") or item.get("error_code")
            message = item.get("message") or item.get("error_msg")
            if isinstance(code, str) or isinstance(message, str):
                return text(code), cut(str(message or ""))
    return "", cut(str(body))


class _gone:
    """Map "this server does not exist" (Ecs.0114, or a 404 naming no other thing) to
    ``ServerGone``."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> Literal[False]:
        if isinstance(exc, ApiPermanentError) and exc.code in ("server_not_found", "not_found"):
            raise ServerGone() from exc
        return False


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
