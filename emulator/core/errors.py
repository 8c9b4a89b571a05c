"""API errors the fake backend raises, each knowing its Nova-shaped JSON body.

    FakeApiError                  {"<kind>": {"code": N, "message": "..."}}
    ├── BadRequest                400 badRequest
    ├── Unauthorized              401 {"error": {...}} (Keystone's shape, not Nova's)
    ├── Forbidden                 403 forbidden
    ├── ItemNotFound              404 itemNotFound
    ├── MethodNotAllowed          405 badMethod
    ├── NotAcceptable             406 computeFault (Nova has no name for 406)
    ├── UnsupportedMediaType      415 badMediaType
    ├── Conflict                  409 conflictingRequest
    └── ComputeFault              500 computeFault

Like moto's service exceptions: the backend raises them, the HTTP layer only
serialises ``status`` and ``body()``.
"""

from __future__ import annotations

from typing import Any

UNEXPECTED_ERROR = "Unexpected API Error. Please contact the administrator\n<class '{cls}'>"


class FakeApiError(Exception):
    """An answer the emulated API gives instead of a success."""

    status: int = 500
    kind: str = "computeFault"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {self.kind: {"code": self.status, "message": self.message}}


class BadRequest(FakeApiError):
    status = 400
    kind = "badRequest"


class Unauthorized(FakeApiError):
    status = 401
    kind = "error"

    def __init__(self) -> None:
        super().__init__("The request you have made requires authentication.")

    def body(self) -> dict[str, Any]:
        return {"error": {"code": 401, "title": "Unauthorized", "message": self.message}}


class Forbidden(FakeApiError):
    status = 403
    kind = "forbidden"


class ItemNotFound(FakeApiError):
    status = 404
    kind = "itemNotFound"

    def __init__(self, message: str = "The resource could not be found.") -> None:
        super().__init__(message)


class MethodNotAllowed(FakeApiError):
    status = 405
    kind = "badMethod"

    def __init__(self, allowed: tuple[str, ...] = ()) -> None:
        super().__init__("The method specified is not allowed for this resource.")
        self.allowed = allowed


class NotAcceptable(FakeApiError):
    status = 406
    kind = "computeFault"


class UnsupportedMediaType(FakeApiError):
    status = 415
    kind = "badMediaType"

    def __init__(self) -> None:
        super().__init__("Unsupported Content-Type")


class Conflict(FakeApiError):
    status = 409
    kind = "conflictingRequest"


class ComputeFault(FakeApiError):
    status = 500
    kind = "computeFault"


def unexpected_error(cls: str) -> ComputeFault:
    """The 500 Nova answers when an exception escapes its controller untranslated."""
    return ComputeFault(UNEXPECTED_ERROR.format(cls=cls))
