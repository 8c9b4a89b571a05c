"""What ``transport/api.py`` reads off an answer, and the timeouts it asks for: small pure
helpers kept beside the client layer (its request id, its JSON body, a route for messages).
"""

from __future__ import annotations

from typing import Any

from function.domain.errors import BadAnswer, DeadlineExceeded
from function.domain.text import shorten
from function.domain.timing import Deadline
from function.transport.session import Response

CORRELATION_HEADER = "X-Request-Id"  # ties our log lines to the API's own request logs


def json_body(response: Response, what: str) -> Any:
    """The JSON body of a 2xx answer (``{}`` when empty)."""
    if not response.content.strip():
        return {}
    try:
        return response.json()
    except (ValueError, RecursionError):
        raise BadAnswer(
            f"{what}: answer is not JSON",
            status=response.status_code,
            request_id=request_id_of(response),
        ) from None


def timeouts(
    timeout: tuple[float, float], deadline: Deadline | None
) -> tuple[tuple[float, float], float | None]:
    """Connect/read timeouts, and the request's total budget, clipped by the deadline."""
    connect, read = timeout
    if deadline is None:
        return (connect, read), None
    remaining = deadline.remaining()
    if remaining <= 0:
        raise DeadlineExceeded("the event's deadline passed")
    return (min(connect, remaining), min(read, remaining)), remaining


def route(path: str) -> str:
    """The path without its query string, for messages."""
    return path.split("?", 1)[0]


def request_id_of(response: Response) -> str | None:
    """The API's id of this request (OpenStack's header, else the echoed correlation id)."""
    value = response.headers.get("x-openstack-request-id") or response.headers.get(
        CORRELATION_HEADER
    )
    return shorten(value, 128) if isinstance(value, str) else None
