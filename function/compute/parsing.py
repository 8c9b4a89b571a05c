"""What both compute backends read the same way: an ``interfaceAttachment`` object, and
the stable code of an HTTP answer by its status and message (``classify``).

Neutral ground: neither backend imports the other (an import-linter contract), both
import this.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from function.domain.codes import ErrorCode, http_code
from function.domain.plan import FixedIp, Interface
from function.transport.api import text

log = logging.getLogger("nicattach.api")

#: Codes worth retrying. A 500 that names a missing network is permanent (Nova answers
#: an unknown ``net_id`` with 500 NetworkNotFoundClient); a 401 may heal once a
#: credential is rotated, so it is retried by redelivery rather than dropped.
TEMPORARY_CODES: frozenset[str] = frozenset(
    {
        ErrorCode.SERVER_BUSY,
        ErrorCode.CONFLICT,
        ErrorCode.THROTTLED,
        ErrorCode.SERVER_ERROR,
        ErrorCode.UNAUTHORIZED,
        ErrorCode.API_NOT_FOUND,
    }
)

_BY_STATUS = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    429: ErrorCode.THROTTLED,
}


def report_api_not_found(code: str, what: str, detail: str) -> None:
    """An ``api_not_found`` answer is a configuration or API error: at ERROR, with the
    route, so an operator sees it while the platform redelivers."""
    if code == ErrorCode.API_NOT_FOUND:
        log.error("%s: 404 that names no server (wrong endpoint or API?): %s", what, detail)


def classify(status: int, message: str) -> str:
    """A stable error code for an API answer (used in failed events)."""
    text_ = message.lower()
    if status == 409:
        if "fixed ip" in text_ and "in use" in text_:
            return ErrorCode.FIXED_IP_IN_USE
        if "port" in text_ and "in use" in text_:
            return ErrorCode.PORT_IN_USE
        busy = "vm_state" in text_ or "task_state" in text_
        return ErrorCode.SERVER_BUSY if busy else ErrorCode.CONFLICT
    if status == 404 or "networknotfound" in text_:
        if "network" in text_:
            return ErrorCode.NETWORK_NOT_FOUND
        if "port" in text_:
            return ErrorCode.PORT_NOT_FOUND
        if "interface" in text_ or "attachment" in text_:
            return ErrorCode.INTERFACE_NOT_FOUND
        if "instance" in text_ or "server" in text_:
            return ErrorCode.NOT_FOUND  # the server: "Instance <id> could not be found."
        # An unknown route, an API gateway's APIGW.0101, a proxy's empty or HTML 404:
        # the endpoint is wrong, not the server gone. Retried, so an operator sees it.
        return ErrorCode.API_NOT_FOUND
    if status == 403 and ("quota" in text_ or "maximum number" in text_):
        return ErrorCode.NIC_QUOTA_EXCEEDED
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ErrorCode.SERVER_ERROR if status >= 500 else http_code(status)


def interface_from_api(raw: Mapping[str, Any]) -> Interface:
    """An ``interfaceAttachment`` object; ids are stripped (the vendor's own example has a
    leading space), and fields of the wrong type read as empty."""
    fixed = raw.get("fixed_ips")
    return Interface(
        port_id=text(raw.get("port_id")),
        net_id=text(raw.get("net_id")),
        port_state=text(raw.get("port_state")),
        mac_addr=text(raw.get("mac_addr")),
        fixed_ips=tuple(
            FixedIp(text(ip.get("subnet_id")), text(ip.get("ip_address")))
            for ip in (fixed if isinstance(fixed, list) else ())
            if isinstance(ip, Mapping)
        ),
        tag=text(raw.get("tag")),
        delete_on_termination=dot
        if isinstance(dot := raw.get("delete_on_termination"), bool)
        else None,
    )
