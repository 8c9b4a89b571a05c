"""Huawei ECS v1 errors: ``{"error": {"code": "Ecs.XXXX", "message"}}`` answers and failed
jobs, mapped to the domain's stable codes. The table is in docs/huawei-v1.md; its source
is the ECS error-code page (docs/research-huawei.md). HTTP statuses of these answers
"may not be accurate" (Huawei), so a known Ecs code decides (``read_fault``, the
``FaultReader`` of ``/v1``), except that 401, 429 and 5xx are always worth a retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from function.compute.parsing import TEMPORARY_CODES, classify, report_api_not_found
from function.domain.codes import ErrorCode
from function.domain.errors import ApiPermanentError, ApiTemporaryError, ServerBusy
from function.transport.api import Fault, body_of, cut, raw_text, text
from function.transport.session import Response

#: Ecs.* code → (our error code, worth retrying). From the ECS error-code table
#: (docs/research-huawei.md); the HTTP status of these answers "may not be accurate".
ECS_ERRORS: Mapping[str, tuple[ErrorCode, bool]] = {
    "Ecs.0005": (ErrorCode.BAD_REQUEST, False),
    "Ecs.0050": (ErrorCode.NIC_QUOTA_EXCEEDED, False),
    "Ecs.0038": (ErrorCode.NETWORK_NOT_FOUND, False),
    "Ecs.0012": (ErrorCode.SUBNET_FULL, False),
    "Ecs.0010": (ErrorCode.FIXED_IP_IN_USE, False),
    "Ecs.0039": (ErrorCode.FIXED_IP_NOT_IN_SUBNET, False),
    "Ecs.0014": (ErrorCode.BAD_NETWORK_SETTINGS, False),
    "Ecs.0064": (ErrorCode.VPC_MISMATCH, False),
    "Ecs.0100": (ErrorCode.SERVER_BUSY, True),
    "Ecs.0605": (ErrorCode.SERVER_LOCKED, True),
    "Ecs.0114": (ErrorCode.SERVER_NOT_FOUND, False),
    "Ecs.0919": (ErrorCode.PORT_IN_USE, False),
    "Ecs.0307": (ErrorCode.PORT_NOT_FOUND, False),
    "Ecs.0085": (ErrorCode.INTERFACE_NOT_FOUND, False),
    "Ecs.0201": (ErrorCode.ATTACH_FAILED, True),
    "Ecs.0211": (ErrorCode.ATTACH_FAILED, True),
    "Ecs.0212": (ErrorCode.ATTACH_FAILED, True),
    "Ecs.0213": (ErrorCode.ATTACH_FAILED, True),
    "Ecs.0217": (ErrorCode.ATTACH_FAILED, True),
    "Ecs.0507": (ErrorCode.DETACH_FAILED, True),
    "Ecs.1002": (ErrorCode.OPENSTACK_TIMEOUT, True),
    "Ecs.0003": (ErrorCode.FORBIDDEN, False),
    "Ecs.0110": (ErrorCode.FORBIDDEN, False),
    "Ecs.0023": (ErrorCode.PROJECT_MISMATCH, False),
    "Common.0011": (ErrorCode.JOB_NOT_FOUND, False),
}


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
    ours, temporary = ECS_ERRORS.get(code, (ErrorCode.JOB_FAILED, True))
    message = f"job {job_id} {text(job.get('status')) or 'FAIL'}: {code or '?'} {cut(reason)}"
    if ours is ErrorCode.SERVER_BUSY:
        return ServerBusy(message, status=None)
    if temporary:
        return ApiTemporaryError(message, code=ours, status=None, request_id=None)
    return ApiPermanentError(message, code=ours, status=400, request_id=None)


def read_fault(response: Response, what: str) -> Fault:
    """The ``FaultReader`` of ``{"error": {"code": "Ecs.XXXX", "message"}}`` answers: by
    the Ecs code when known, else by HTTP status as for Nova."""
    status = response.status_code
    ecs_code, text_ = error_of(response)
    detail = f"{ecs_code + ' ' if ecs_code else ''}{text_}"
    known = ECS_ERRORS.get(ecs_code)
    if status == 429 or status >= 500 or status == 401 or known is None:
        code = classify(status, detail)  # the answer only: a route names servers and ports
        report_api_not_found(code, what, detail)
        return Fault(code, code in TEMPORARY_CODES, detail)
    return Fault(known[0], known[1], detail)


def error_of(response: Response) -> tuple[str, str]:
    """(code, message) of a Huawei error body (``{"error": {"code", "message"}}``, or
    flat with ``error_code``/``error_msg``); ("", text) for anything else."""
    body = body_of(response)
    if body is None:
        return "", raw_text(response)
    inner = body.get("error") if isinstance(body, Mapping) else None
    for item in (inner, body):
        if isinstance(item, Mapping):
            code = item.get("code") or item.get("error_code")
            message = item.get("message") or item.get("error_msg")
            if isinstance(code, str) or isinstance(message, str):
                return text(code), cut(str(message or ""))
    return "", cut(str(body))
