"""huawei_v1: Huawei's error bodies and failed jobs mapped to stable codes (no network)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from function.compute.huawei_v1.backend import nic_body
from function.compute.huawei_v1.errors import ECS_ERRORS, job_error, read_fault
from function.domain.errors import ApiPermanentError, ApiTemporaryError
from function.domain.policy import NicRequest
from function.transport.api import check_response
from function.transport.session import Response

SG = "a4c3b2d1-0000-4000-8000-000000000001"


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(status, "", headers or {}, raw)


def ecs(code: str, message: str = "m") -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


@pytest.mark.parametrize(
    ("status", "body", "code", "retryable"),
    [
        (400, ecs("Ecs.0050"), "nic_quota_exceeded", False),
        (400, ecs("Ecs.0038"), "network_not_found", False),
        (400, ecs("Ecs.0010"), "fixed_ip_in_use", False),
        (400, ecs("Ecs.0100"), "server_busy", True),
        (400, ecs("Ecs.0605"), "server_locked", True),
        (404, ecs("Ecs.0114"), "server_not_found", False),
        (400, ecs("Ecs.0919"), "port_in_use", False),
        (400, ecs("Ecs.0085"), "interface_not_found", False),
        (403, ecs("Ecs.0003"), "forbidden", False),
        (404, ecs("Common.0011"), "job_not_found", False),
        (400, ecs("Ecs.9999"), "bad_request", False),  # unknown code: by HTTP status
        (500, ecs("Ecs.0038"), "server_error", True),  # a 5xx is worth a retry whatever it says
        (503, b"<html>busy</html>", "server_error", True),
        (429, {"error_code": "APIGW.0308", "error_msg": "throttled"}, "throttled", True),
        (401, ecs("APIGW.0301"), "unauthorized", True),
    ],
)
def test_errors_map_by_ecs_code_then_by_status(
    status: int, body: Any, code: str, retryable: bool
) -> None:
    with pytest.raises((ApiPermanentError, ApiTemporaryError)) as caught:
        check_response(
            answer(status, body, {"x-openstack-request-id": "req-1"}), "POST x", read_fault
        )
    error = caught.value
    assert (error.code, error.retryable) == (code, retryable)
    assert error.request_id == "req-1" and error.status == status  # type: ignore[union-attr]


def test_retry_after_is_kept_for_429() -> None:
    with pytest.raises(ApiTemporaryError) as caught:
        check_response(answer(429, {}, {"Retry-After": "2"}), "GET x", read_fault)
    assert caught.value.delay == 2.0


def test_a_2xx_body_is_returned_and_an_empty_one_is_empty() -> None:
    assert check_response(answer(200, {"job_id": "j"}), "POST x", read_fault) == {"job_id": "j"}
    assert check_response(answer(204, b""), "POST x", read_fault) == {}


def failed_job(code: str | None, sub_code: str | None = None) -> dict[str, Any]:
    sub = {"status": "FAIL", "error_code": sub_code, "fail_reason": "addNic-fail: x"}
    return {
        "status": "FAIL",
        "error_code": code,
        "fail_reason": None,
        "entities": {"sub_jobs": [{"status": "SUCCESS"}, sub]},
    }


@pytest.mark.parametrize(
    ("job", "code", "retryable"),
    [
        (failed_job("Ecs.0010"), "fixed_ip_in_use", False),
        (failed_job(None, "Ecs.0012"), "subnet_full", False),  # only the sub-job says
        (failed_job("Ecs.0217"), "attach_failed", True),
        (failed_job("Ecs.1002"), "openstack_timeout", True),
        (failed_job(None), "job_failed", True),  # no code at all: worth another try
        (failed_job("Ecs.4242"), "job_failed", True),
    ],
)
def test_a_failed_job_is_classified_by_its_error_code(
    job: dict[str, Any], code: str, retryable: bool
) -> None:
    error = job_error("j1", job)
    assert (error.code, error.retryable) == (code, retryable)
    assert "j1" in error.message


def test_every_table_code_is_an_ecs_or_common_code() -> None:
    assert all(code.startswith(("Ecs.", "Common.")) for code in ECS_ERRORS)


@pytest.mark.parametrize(
    ("nic", "body"),
    [
        (NicRequest("net", None, None, ("r",)), {"subnet_id": "net"}),
        (
            NicRequest("net", None, "10.0.0.5", ("r",), (SG,)),
            {"subnet_id": "net", "ip_address": "10.0.0.5", "security_groups": [{"id": SG}]},
        ),
        (NicRequest(None, "port", None, ("r",)), {"port_id": "port"}),
    ],
)
def test_nic_body(nic: NicRequest, body: dict[str, Any]) -> None:
    assert nic_body(nic) == body
