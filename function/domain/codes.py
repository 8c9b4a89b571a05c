"""The machine-readable codes an outcome can carry, as types.

``ErrorCode``: a failed event's ``error.code`` (and an input error's reply code).
``SkipReason``: a skipped event's ``reason``. Both are ``str`` enums, so a member is
its own wire value (``ErrorCode.SERVER_BUSY == "server_busy"``). docs/errors.md has
one row per member, checked both ways by tests/unit/test_error_codes.py. One code is
open-ended: ``http_<status>`` (``http_code``), for an answer no table names.
"""

from __future__ import annotations

from enum import Enum


class ErrorCode(str, Enum):
    # failed, permanent
    NETWORK_NOT_FOUND = "network_not_found"
    PORT_NOT_FOUND = "port_not_found"
    PORT_IN_USE = "port_in_use"
    FIXED_IP_IN_USE = "fixed_ip_in_use"
    NIC_QUOTA_EXCEEDED = "nic_quota_exceeded"
    POLICY_CONFLICT = "policy_conflict"
    SERVER_ERROR_STATE = "server_error_state"
    TAGS_UNAVAILABLE = "tags_unavailable"
    NO_PROJECT = "no_project"
    BAD_REQUEST = "bad_request"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    SUBNET_FULL = "subnet_full"
    FIXED_IP_NOT_IN_SUBNET = "fixed_ip_not_in_subnet"
    BAD_NETWORK_SETTINGS = "bad_network_settings"
    VPC_MISMATCH = "vpc_mismatch"
    SERVER_NOT_FOUND = "server_not_found"
    INTERFACE_NOT_FOUND = "interface_not_found"
    PROJECT_MISMATCH = "project_mismatch"
    JOB_NOT_FOUND = "job_not_found"
    NO_IPV6_SUBNET = "no_ipv6_subnet"
    PUBLIC_IP_NOT_FOUND = "public_ip_not_found"
    PUBLIC_IP_IN_USE = "public_ip_in_use"
    PUBLIC_IP_POOL_EMPTY = "public_ip_pool_empty"
    BANDWIDTH_NOT_FOUND = "bandwidth_not_found"
    PERMANENT_FAILURE = "permanent_failure"
    # failed, retryable
    SERVER_NOT_READY = "server_not_ready"
    SERVER_BUSY = "server_busy"
    SERVER_LOCKED = "server_locked"
    ATTACH_FAILED = "attach_failed"
    DETACH_FAILED = "detach_failed"
    OPENSTACK_TIMEOUT = "openstack_timeout"
    JOB_PENDING = "job_pending"
    JOB_LOST = "job_lost"
    JOB_FAILED = "job_failed"
    CONFLICT = "conflict"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    UNAUTHORIZED = "unauthorized"
    API_NOT_FOUND = "api_not_found"
    AUTH_FAILED = "auth_failed"
    NO_CREDENTIALS = "no_credentials"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    ANSWER_TOO_LARGE = "answer_too_large"
    BAD_ANSWER = "bad_answer"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    NOT_CONVERGED = "not_converged"
    TEMPORARY_FAILURE = "temporary_failure"
    INTERNAL_ERROR = "internal_error"
    # requests that are not events; start-up faults
    BAD_INPUT = "bad_input"
    BODY_TOO_LARGE = "body_too_large"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    BAD_CONFIG = "bad_config"
    BAD_POLICY = "bad_policy"
    WRONG_ENTRY_POINT = "wrong_entry_point"
    SMN_REFUSED = "smn_refused"
    SMN_CERTIFICATE_UNAVAILABLE = "smn_certificate_unavailable"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


class SkipReason(str, Enum):
    NO_RULE_MATCHED = "no_rule_matched"
    SERVER_GONE = "server_gone"
    PROJECT_NOT_ALLOWED = "project_not_allowed"
    INSTANCE_TERMINATING = "instance_terminating"
    SERVER_DELETED = "server_deleted"

    def __str__(self) -> str:
        return self.value


HTTP_CODE_PATTERN = "http_<status>"
"""The documented form of ``http_code``."""


def http_code(status: int) -> str:
    """The code of an HTTP answer no table names: ``http_405``."""
    return f"http_{status}"
