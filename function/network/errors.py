"""The network API's error bodies: ``{"NeutronError": {"type", "message", "detail"}}``.

Neutron names the failure by its exception class (``type``); the known ones map to
our codes here. Anything else (a gateway's plain 5xx, a Nova-style fault body) is
classified by its status alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from function.domain.codes import ErrorCode, http_code
from function.transport.api import Fault, body_of, cut, raw_text
from function.transport.session import Response

#: Neutron's exception type → (our code, worth retrying).
NEUTRON_ERRORS: dict[str, tuple[ErrorCode, bool]] = {
    "PortNotFound": (ErrorCode.PORT_NOT_FOUND, False),
    "NetworkNotFound": (ErrorCode.NETWORK_NOT_FOUND, False),
    "SubnetNotFound": (ErrorCode.NETWORK_NOT_FOUND, False),
    "IpAddressAlreadyAllocated": (ErrorCode.FIXED_IP_IN_USE, False),
    "IpAddressInUse": (ErrorCode.FIXED_IP_IN_USE, False),
    "InvalidIpForNetwork": (ErrorCode.FIXED_IP_NOT_IN_SUBNET, False),
    "InvalidIpForSubnet": (ErrorCode.FIXED_IP_NOT_IN_SUBNET, False),
    "IpAddressGenerationFailure": (ErrorCode.SUBNET_FULL, False),
    "SecurityGroupNotFound": (ErrorCode.BAD_NETWORK_SETTINGS, False),
    "PortSecurityAndIPRequiredForSecurityGroups": (ErrorCode.BAD_NETWORK_SETTINGS, False),
    "PolicyNotAuthorized": (ErrorCode.FORBIDDEN, False),
    "OverQuota": (ErrorCode.NIC_QUOTA_EXCEEDED, False),
    "PortInUse": (ErrorCode.PORT_IN_USE, False),
}


def read_fault(response: Response, what: str) -> Fault:
    """The ``FaultReader`` of the network API."""
    status = response.status_code
    kind, message = neutron_error(response)
    detail = f"{kind + ' ' if kind else ''}{message}"
    known = NEUTRON_ERRORS.get(kind)
    if known is None or status == 429 or status >= 500 or status == 401:
        code, temporary = by_status(status)
        return Fault(code, temporary, detail)
    return Fault(known[0], known[1], detail)


def by_status(status: int) -> tuple[str, bool]:
    """The code of an answer whose body names no known Neutron type."""
    if status == 429:
        return ErrorCode.THROTTLED, True
    if status >= 500:
        return ErrorCode.SERVER_ERROR, True
    if status == 401:
        return ErrorCode.UNAUTHORIZED, True
    if status == 409:
        return ErrorCode.CONFLICT, True
    named = {400: ErrorCode.BAD_REQUEST, 403: ErrorCode.FORBIDDEN, 404: ErrorCode.NOT_FOUND}
    return named.get(status, http_code(status)), False


def neutron_error(response: Response) -> tuple[str, str]:
    """``(type, message)`` of a ``NeutronError`` body; else ``("", text)``."""
    body = body_of(response)
    error = body.get("NeutronError") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        kind = error.get("type")
        return (kind.strip() if isinstance(kind, str) else "", cut(str(error.get("message", ""))))
    if isinstance(body, Mapping):
        for value in body.values():
            if isinstance(value, Mapping) and "message" in value:
                return "", cut(str(value["message"]))
    return "", raw_text(response)
