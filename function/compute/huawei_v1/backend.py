"""The Huawei ECS native NIC backend (``/v1``): batch NIC jobs instead of ``os-interface``.

Huawei marks the Nova-compatible attach as discarded; only these APIs take
enterprise-project authorization. Writes answer a ``job_id`` at once and
succeed or fail later, in the job: ``attach`` and ``detach`` poll it (capped
backoff, inside the event's deadline) and return only after ``SUCCESS``. A
job still running at the deadline is a retryable ``job_pending``: the
redelivery re-reads and finds the NIC once the job is done. There is no
client token: what a redelivery must know of a job in flight is in the cloud
(the port the function named and attaches by id, ``domain/ownership.py``), never
in this process. A NIC attached by port id is marked ``delete_on_termination``
(``keep_with_server``), so the port goes with its server. The wire: ``client.py``;
error codes: ``errors.py``.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Literal

from function import pool
from function.compute.base import Attached, Capabilities, Server, ServerGone, ServerPage
from function.compute.huawei_v1.client import HuaweiV1Client
from function.compute.huawei_v1.errors import job_error
from function.domain.codes import ErrorCode
from function.domain.errors import ApiPermanentError, ApiTemporaryError, JobPending
from function.domain.plan import Interface
from function.domain.policy import NicRequest
from function.domain.profile import ProfileSupport
from function.domain.tags import salvage_tags
from function.domain.timing import Backoff, Deadline
from function.transport.api import text

log = logging.getLogger("nicattach.compute")

JOB_BACKOFF = Backoff(base=0.1, cap=2.0, jitter=0.25)
"""Polling a NIC job: 0.1 s, 0.2 s, … at most 2 s apart."""
JOB_RESERVE_S = 0.5
"""Polling stops this long before the deadline: time for the re-read after it."""
JOB_RUNNING = frozenset({"INIT", "RUNNING", "PENDING_PAYMENT"})


class HuaweiV1Backend:
    """``ComputeBackend`` over ``HuaweiV1Client``. No NIC marks: this API has no device tag;
    it sets security groups, says how many NICs a server still takes, and can mark a
    NIC to be deleted with its server."""

    name = "huawei-v1"

    capabilities = Capabilities(
        marks=False,
        security_groups=True,
        free_nics=True,
        delete_on_termination=True,
        profiles=ProfileSupport(
            source_dest_check=True,
            ipv6=True,
            ipv6_address=True,
            ipv6_bandwidth=True,  # through the VPC bandwidth API: converge/bandwidth.py
            allowed_address_pairs=True,
            public_ip=True,
        ),
    )

    def __init__(self, client: HuaweiV1Client, reads: ThreadPoolExecutor | None = None) -> None:
        self.client = client
        self._reads = reads or ThreadPoolExecutor(max_workers=8, thread_name_prefix="v1-read")

    def discover(self, deadline: Deadline) -> Capabilities:
        return self.capabilities

    def get_server(self, project_id: str, server_id: str, deadline: Deadline) -> Server:
        """Status from the server, tags from the tags API (``[{key, value}]``: the server's
        own ``tags`` strings have no documented format)."""
        tags_read = pool.submit(
            self._reads, lambda: self.client.get_tags(project_id, server_id, deadline)
        )  # in parallel with the details: one round trip, not two
        with _gone():
            try:
                raw = self.client.get_server(project_id, server_id, deadline)
            except BaseException:
                tags_read.cancel()
                raise
            status = text(raw.get("status")).upper()
            if status in ("DELETED", "SOFT_DELETED"):
                raise ServerGone()
            tags, ignored = salvage_tags(tags_read.result())
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
        raise ApiPermanentError(
            f"server {server_id} has no NIC {port_id}",
            code=ErrorCode.NOT_FOUND,
            status=404,
            request_id=None,
        )

    def attach(
        self,
        project_id: str,
        server_id: str,
        nic: NicRequest,
        deadline: Deadline,
        *,
        mark: str | None = None,
    ) -> None:
        """Start an add job and wait for it; returns after ``SUCCESS``. A job still running
        at the deadline is ``JobPending`` (the redelivery re-reads the cloud)."""
        with _gone():
            job_id = self.client.add_nics(project_id, server_id, [nic_body(nic)], deadline)
        self._wait(project_id, job_id, deadline)

    def keep_with_server(
        self, project_id: str, server_id: str, port_id: str, deadline: Deadline
    ) -> None:
        """Mark the NIC ``delete_on_termination`` (its port goes with the server)."""
        with _gone():
            self.client.update_interface(project_id, server_id, port_id, True, deadline)

    def detach(self, project_id: str, server_id: str, port_id: str, deadline: Deadline) -> None:
        """Start a delete job and wait for it; a NIC that is already gone is done."""
        try:
            job_id = self.client.delete_nics(project_id, server_id, [port_id], deadline)
            self._wait(project_id, job_id, deadline)
        except ApiPermanentError as exc:
            if exc.code != ErrorCode.INTERFACE_NOT_FOUND and exc.status != 404:
                raise

    def _wait(self, project_id: str, job_id: str, deadline: Deadline) -> None:
        attempt, status = 0, "RUNNING"
        while True:
            attempt += 1
            delay = JOB_BACKOFF.delay(attempt, deadline.timing.rng)
            if not deadline.allows(delay + JOB_RESERVE_S):
                raise JobPending(f"job {job_id} still {status} at the deadline")
            deadline.pause(delay)
            try:
                job = self.client.get_job(project_id, job_id, deadline)
            except ApiPermanentError as exc:
                if exc.code != ErrorCode.JOB_NOT_FOUND:
                    raise
                raise ApiTemporaryError(
                    f"job {job_id} is gone; re-reading",
                    code=ErrorCode.JOB_LOST,
                    status=None,
                    request_id=None,
                ) from exc
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


class _gone:
    """Map "this server does not exist" (Ecs.0114, or a 404 naming no other thing) to
    ``ServerGone``."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> Literal[False]:
        gone = (ErrorCode.SERVER_NOT_FOUND, ErrorCode.NOT_FOUND)
        if isinstance(exc, ApiPermanentError) and exc.code in gone:
            raise ServerGone() from exc
        return False


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)  # UTC, as Nova
