"""Huawei's error body, and the Ecs.* code for each error the compute backend raises.

    {"error": {"code": "Ecs.0114", "message": "..."}}

Codes from the ECS API reference's error-code table; ``ecs_error`` maps a
Nova-shaped ``FakeApiError`` (from an attach or detach the job ran, or a
lookup) onto the closest one, by what its message says.
"""

from __future__ import annotations

from typing import Any

from emulator.core.errors import FakeApiError
from emulator.network.models import INVALID_INPUT_CLASS, NETWORK_NOT_FOUND_CLASS

INVALID_PARAMETERS = "Ecs.0005"
NIC_QUOTA = "Ecs.0050"
SUBNET_NOT_FOUND = "Ecs.0038"
SUBNET_FULL = "Ecs.0012"
IP_IN_USE = "Ecs.0010"
IP_NOT_IN_SUBNET = "Ecs.0039"
SERVER_STATE = "Ecs.0100"
SERVER_NOT_FOUND = "Ecs.0114"
PORT_IN_USE = "Ecs.0919"
PORT_QUERY_FAILED = "Ecs.0307"
NO_SUCH_INTERFACE = "Ecs.0085"
NO_PERMISSION = "Ecs.0003"
ATTACH_FAILED = "Ecs.0217"
DETACH_FAILED = "Ecs.0507"
JOB_NOT_FOUND = "Common.0011"

#: (words in the backend's message, code, HTTP status), first match wins.
_BY_MESSAGE = (
    ("could not be found.", SERVER_NOT_FOUND, 404),  # refined below for ports and networks
    ("is already in use", IP_IN_USE, 400),
    ("is not a valid IP for the subnet", IP_NOT_IN_SUBNET, 400),
    (INVALID_INPUT_CLASS, IP_NOT_IN_SUBNET, 400),
    (NETWORK_NOT_FOUND_CLASS, SUBNET_NOT_FOUND, 400),
    ("No fixed IP addresses available", SUBNET_FULL, 400),
    ("is still in use", PORT_IN_USE, 400),
    ("while it is in vm_state", SERVER_STATE, 400),
)


class EcsError(FakeApiError):
    """An answer in Huawei's shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def ecs_error(error: FakeApiError, default: str = ATTACH_FAILED) -> EcsError:
    """The Huawei error for a compute backend's error."""
    if isinstance(error, EcsError):
        return error
    message = error.message
    if message.startswith("Network ") and message.endswith("could not be found."):
        return EcsError(400, SUBNET_NOT_FOUND, message)
    if message.startswith("Port id "):
        return EcsError(400, PORT_QUERY_FAILED, message)
    for words, code, status in _BY_MESSAGE:
        if words in message:
            return EcsError(status, code, message)
    return EcsError(400, default, message)
