"""Huawei ECS v1 errors: ``{"error": {"code": "Ecs.XXXX", "message"}}`` answers and failed
jobs, mapped to the domain's stable codes. The table is in docs/huawei-v1.md; its source
is the ECS error-code page (docs/research-huawei.md). HTTP statuses of these answers "may
not be accurate" (Huawei), so a known Ecs code decides, except that 401, 429 and 5xx are
always worth a retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from function.compute.os_interface import TEMPORARY_CODES, classify
from function.compute.wire import cut, json_body, request_id_of, text
from function.domain.errors import ApiPermanentError, ApiTemporaryError
from function.domain.timing import parse_retry_after
from function.transport.session import Response

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
