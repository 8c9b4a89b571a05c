"""The ECS v1 backend: NIC jobs over the compute backend's servers, networks and ports.

A job is checked when it is asked for (server, quota, subnet, port: the
synchronous 4xx), then runs: ``INIT`` for ``job_init_seconds``, ``RUNNING``
until ``job_seconds`` have passed, then it changes the server through the
compute backend (``FakeBackend.schedule``, so the change is there for the
Nova API too, at that instant) and ends ``SUCCESS`` or ``FAIL`` with an
Ecs.* code. A fault hook can make a job fail on purpose. Finished jobs are
forgotten (404) ``job_ttl_seconds`` after they end. Time is the compute
backend's clock; the state is guarded by its lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from emulator.compute.models import FakeBackend
from emulator.compute.records import INTERFACE_STATES, AttachRequest, ServerSnapshot
from emulator.core.errors import FakeApiError
from emulator.ecs_v1 import errors
from emulator.ecs_v1.errors import EcsError, ecs_error
from emulator.ecs_v1.records import (
    ADD_JOB,
    ADD_SUB_JOB,
    DELETE_JOB,
    DELETE_SERVER_SUB_JOB,
    DELETE_SERVERS_JOB,
    DELETE_SUB_JOB,
    FakeJob,
    FakeSubJob,
    NicRequest,
    job_id,
    stamp,
)
from emulator.network.records import InterfaceSnapshot

#: The hook that decides whether a job fails on purpose: an Ecs.* code, or None.
JobFailure = Callable[[], "str | None"]


class FakeEcsV1:
    """NIC jobs for the servers of ``backend``.

    Options (plain attributes, may be changed while running):
        job_seconds: how long a job runs before it changes the server.
        job_init_seconds: how long of that it reports INIT (then RUNNING).
        job_ttl_seconds: a finished job answers 404 this long after it ended.
        max_nics: NICs a server may have (``attachableQuantity.free_nic`` counts down
            from it, jobs still running included); ``server_max_nics`` overrides it
            per server.
    """

    def __init__(
        self,
        backend: FakeBackend,
        *,
        job_seconds: float = 0.0,
        job_init_seconds: float = 0.0,
        job_ttl_seconds: float = 86400.0,
        max_nics: int = 12,
        job_failure: JobFailure = lambda: None,
    ) -> None:
        self.backend = backend
        self.job_seconds = job_seconds
        self.job_init_seconds = job_init_seconds
        self.job_ttl_seconds = job_ttl_seconds
        self.max_nics = max_nics
        self.server_max_nics: dict[str, int] = {}
        self.job_failure = job_failure
        self._jobs: dict[str, FakeJob] = {}

    def options(self) -> dict[str, Any]:
        return {
            "job_seconds": self.job_seconds,
            "job_init_seconds": self.job_init_seconds,
            "job_ttl_seconds": self.job_ttl_seconds,
            "max_nics": self.max_nics,
            "server_max_nics": dict(self.server_max_nics),
        }

    def reset(self) -> None:
        with self.backend.transaction():
            self._jobs.clear()

    # -- reads ----------------------------------------------------------------------

    def server(self, project_id: str, server_id: str) -> ServerSnapshot:
        try:
            return self.backend.get_server(project_id, server_id)
        except FakeApiError as error:
            raise ecs_error(error) from None

    def servers(
        self, project_id: str, limit: int, marker: str | None, page: int
    ) -> tuple[list[ServerSnapshot], int]:
        """One page of the project's servers (newest first) after ``marker``, or page
        ``page`` (1-based) when there is no marker; and how many the project has."""
        try:
            every = self.backend.list_servers(project_id)
            after = self.backend.list_servers(project_id, marker=marker) if marker else every
        except FakeApiError as error:
            raise EcsError(400, errors.INVALID_PARAMETERS, error.message) from None
        start = 0 if marker else (max(page, 1) - 1) * limit
        return after[start : start + limit], len(every)

    def interfaces(self, project_id: str, server_id: str) -> tuple[list[InterfaceSnapshot], int]:
        """The attached interfaces and how many more may be added."""
        with self.backend.transaction():
            try:
                found = self.backend.list_interfaces(project_id, server_id)
            except FakeApiError as error:
                raise ecs_error(error) from None
            attached = len(self.backend.get_server(project_id, server_id).interfaces)
            return found, max(0, self._limit(server_id) - attached - self._pending(server_id))

    def job(self, project_id: str, job_id: str) -> dict[str, Any]:
        with self.backend.transaction():
            self.backend.settle()
            job = self._jobs.get(job_id)
            now = self.backend.clock()
            if job is not None and job.finished and now >= job.done_at + self.job_ttl_seconds:
                del self._jobs[job_id]
                job = None
            if job is None or job.project_id != project_id:
                raise EcsError(404, errors.JOB_NOT_FOUND, f"Job {job_id} does not exist.")
            return job.to_dict(job.status(now, self.job_init_seconds))

    # -- jobs -------------------------------------------------------------------------

    def add_nics(self, project_id: str, server_id: str, nics: Sequence[NicRequest]) -> str:
        """Check the request, start the job; its id."""
        with self.backend.transaction():
            self._check_server(project_id, server_id)
            _, free = self.interfaces(project_id, server_id)
            if len(nics) > free:
                raise EcsError(
                    400,
                    errors.NIC_QUOTA,
                    f"The NICs of server {server_id} would exceed the quota ({free} more allowed).",
                )
            for nic in nics:
                self._check_nic(project_id, nic)
            subs = [FakeSubJob(job_id(), ADD_SUB_JOB, nic=nic) for nic in nics]
            return self._start(project_id, server_id, ADD_JOB, subs)

    def delete_nics(self, project_id: str, server_id: str, port_ids: Sequence[str]) -> str:
        with self.backend.transaction():
            server = self._check_server(project_id, server_id)
            attached = [interface.port_id for interface in server.interfaces]
            for port_id in port_ids:
                if attached and port_id == attached[0]:
                    raise EcsError(
                        403, errors.NO_PERMISSION, f"The primary NIC {port_id} cannot be deleted."
                    )
                if port_id not in attached:
                    raise EcsError(
                        400, errors.NO_SUCH_INTERFACE, f"Server {server_id} has no NIC {port_id}."
                    )
            subs = [FakeSubJob(job_id(), DELETE_SUB_JOB, port_id=p) for p in port_ids]
            return self._start(project_id, server_id, DELETE_JOB, subs)

    def update_interface(self, project_id: str, server_id: str, port_id: str, delete: bool) -> None:
        """Set a NIC's ``delete_on_termination`` (Huawei's UpdateServerInterface)."""
        with self.backend.transaction():
            if port_id not in {i.port_id for i in self.server(project_id, server_id).interfaces}:
                raise EcsError(
                    400, errors.NO_SUCH_INTERFACE, f"Server {server_id} has no NIC {port_id}."
                )
            self.backend.neutron.ports[port_id].delete_on_termination = delete

    def delete_servers(self, project_id: str, server_ids: Sequence[str]) -> str:
        """Start deleting servers: each NIC goes with it when ``delete_on_termination``."""
        with self.backend.transaction():
            for server_id in server_ids:
                self.server(project_id, server_id)
            subs = [FakeSubJob(job_id(), DELETE_SERVER_SUB_JOB, server_id=s) for s in server_ids]
            return self._start(project_id, server_ids[0], DELETE_SERVERS_JOB, subs)

    def _start(self, project_id: str, server_id: str, kind: str, subs: list[FakeSubJob]) -> str:
        now = self.backend.clock()
        job = FakeJob(
            job_id(),
            project_id,
            server_id,
            kind,
            now,
            now + self.job_seconds,
            stamp(datetime.now(timezone.utc)),
            subs,
            failure=self.job_failure(),
        )
        self._jobs[job.id] = job
        self.backend.schedule(job.done_at, lambda: self._finish(job))
        return job.id

    def _finish(self, job: FakeJob) -> None:
        """Run a job's sub-jobs (called under the lock when its time has come)."""
        for sub in job.sub_jobs:
            try:
                if job.failure is not None:
                    raise EcsError(400, job.failure, "injected job failure")
                self._run(job, sub)
                sub.status = "SUCCESS"
            except FakeApiError as error:
                default = errors.ATTACH_FAILED if sub.nic else errors.DETACH_FAILED
                failed = ecs_error(error, default)
                sub.status, sub.error_code = "FAIL", failed.code
                sub.fail_reason = f"{sub.job_type}-fail: {failed.message}"
        job.finished = True
        end = datetime.now(timezone.utc) + timedelta(seconds=job.done_at - self.backend.clock())
        job.end_time = stamp(end)

    def _run(self, job: FakeJob, sub: FakeSubJob) -> None:
        if sub.server_id is not None:
            self.backend.delete_server(job.project_id, sub.server_id)
            return
        if sub.nic is None:
            self.backend.detach_interface(job.project_id, job.server_id, sub.port_id or "")
            return
        nic = sub.nic
        request = AttachRequest(
            net_id=None if nic.port_id else nic.subnet_id,
            port_id=nic.port_id,
            ip_address=None if nic.port_id else nic.ip_address,
        )
        sub.port_id = self.backend.attach_interface(job.project_id, job.server_id, request).port_id

    def _check_server(self, project_id: str, server_id: str) -> ServerSnapshot:
        server = self.server(project_id, server_id)
        if server.status not in INTERFACE_STATES:
            raise EcsError(400, errors.SERVER_STATE, f"Server {server_id} is {server.status}.")
        return server

    def _check_nic(self, project_id: str, nic: NicRequest) -> None:
        try:
            if nic.port_id:
                port = self.backend.port(nic.port_id)
                if port.project_id not in (None, project_id):
                    message = f"Port id {nic.port_id} could not be found."
                    raise EcsError(400, errors.PORT_QUERY_FAILED, message)
                if port.server_id is not None:
                    raise EcsError(400, errors.PORT_IN_USE, f"Port {nic.port_id} is in use.")
            else:
                self.backend.network(nic.subnet_id or "")
        except FakeApiError as error:
            raise ecs_error(error) from None

    def _limit(self, server_id: str) -> int:
        return self.server_max_nics.get(server_id, self.max_nics)

    def _pending(self, server_id: str) -> int:
        return sum(
            len(job.sub_jobs)
            for job in self._jobs.values()
            if job.server_id == server_id and job.job_type == ADD_JOB and not job.finished
        )
