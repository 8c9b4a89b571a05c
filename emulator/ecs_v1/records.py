"""ECS v1's records: NIC requests, jobs and their sub-jobs, as the job API shows them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ADD_JOB, ADD_SUB_JOB = "batchAddNics", "addNic"
DELETE_JOB, DELETE_SUB_JOB = "batchDeleteNics", "deleteNic"
DELETE_SERVERS_JOB, DELETE_SERVER_SUB_JOB = "deleteVMs", "deleteVM"


@dataclass(frozen=True)
class NicRequest:
    """One item of ``{"nics": [...]}`` in an add."""

    subnet_id: str | None = None
    port_id: str | None = None
    ip_address: str | None = None
    security_groups: tuple[str, ...] = ()


@dataclass
class FakeSubJob:
    id: str
    job_type: str
    nic: NicRequest | None = None
    port_id: str | None = None
    server_id: str | None = None
    status: str = "RUNNING"
    error_code: str | None = None
    fail_reason: str | None = None

    def to_dict(self, job: FakeJob, status: str) -> dict[str, Any]:
        entities: dict[str, Any] = {"nic_id": self.port_id} if self.port_id else {}
        if self.server_id:
            entities["server_id"] = self.server_id
        if self.fail_reason:
            entities["errorcode_message"] = self.fail_reason
        return {
            "status": self.status if job.finished else status,
            "entities": entities,
            "job_id": self.id,
            "job_type": self.job_type,
            "begin_time": job.begin_time,
            "end_time": job.end_time,
            "error_code": self.error_code,
            "fail_reason": self.fail_reason,
        }


@dataclass
class FakeJob:
    id: str
    project_id: str
    server_id: str
    job_type: str
    started_at: float
    done_at: float
    begin_time: str
    sub_jobs: list[FakeSubJob]
    finished: bool = False
    end_time: str | None = None
    failure: str | None = field(default=None, repr=False)

    def status(self, now: float, init_seconds: float) -> str:
        if self.finished:
            return "FAIL" if any(sub.status == "FAIL" for sub in self.sub_jobs) else "SUCCESS"
        return "INIT" if now < self.started_at + init_seconds else "RUNNING"

    def to_dict(self, status: str) -> dict[str, Any]:
        failed = next((sub for sub in self.sub_jobs if sub.status == "FAIL"), None)
        subs = [sub.to_dict(self, status) for sub in self.sub_jobs]
        return {
            "status": status,
            "entities": {"sub_jobs_total": len(subs), "sub_jobs": subs},
            "job_id": self.id,
            "job_type": self.job_type,
            "begin_time": self.begin_time,
            "end_time": self.end_time,
            "error_code": failed.error_code if failed else None,
            "fail_reason": failed.fail_reason if failed else None,
        }


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def job_id() -> str:
    return uuid.uuid4().hex
