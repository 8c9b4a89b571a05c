"""What travels between the HTTP server and the apps: requests, responses, routes.

Kept free of ``http.server`` so the apps can be exercised without sockets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from emulator.core.errors import (
    BadRequest,
    FakeApiError,
    ItemNotFound,
    MethodNotAllowed,
    UnsupportedMediaType,
)

H = TypeVar("H")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    #: Query parameters; a name given several times keeps every value.
    query: Mapping[str, list[str]]
    #: Header names in lower case.
    headers: Mapping[str, str]
    body: bytes
    #: Scheme, host and port the client used, for links ("http://127.0.0.1:8774").
    base_url: str
    #: The query string as sent (what an AK/SK signature covers).
    raw_query: str = ""

    def json(self) -> object:
        """The decoded JSON body; None when there is none."""
        if not self.body.strip():
            return None
        content_type = self.headers.get("content-type", "application/json")
        if "json" not in content_type.lower():
            raise UnsupportedMediaType()
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise BadRequest("Malformed request body") from exc

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    status: int
    #: A JSON-ready value; None sends an empty body.
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body).encode()


class Router(Generic[H]):
    """Path templates like ``/servers/{server_id}`` → a handler per HTTP method."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], Mapping[str, H]]] = []
        self._templates: list[tuple[str, tuple[str, ...]]] = []

    def add(self, template: str, methods: Mapping[str, H]) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self._routes.append((re.compile(f"^{pattern}$"), methods))
        self._templates.append((template, tuple(sorted(methods))))

    def routes(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every template with its methods, in the order added (for docs and tests)."""
        return list(self._templates)

    def match(self, method: str, path: str) -> tuple[H, dict[str, str]]:
        """The handler and path parameters; 404 for an unknown path, 405 for a method."""
        for pattern, methods in self._routes:
            found = pattern.match(path)
            if found is None:
                continue
            if method not in methods:
                raise MethodNotAllowed(tuple(sorted(methods)))
            return methods[method], found.groupdict()
        raise ItemNotFound()


def error_response(error: FakeApiError) -> Response:
    """The answer for an error the backend raised (405s list the allowed methods)."""
    response = Response(error.status, error.body())
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.allowed)
    return response
