"""The error tree, split by what should happen next.

    NicAttachError                  every error this project raises on purpose
    ├── InputError                  the caller's mistake: HTTP 400, nothing was changed
    │   ├── BodyTooLarge            HTTP 413, the body was not read
    │   └── MethodNotAllowed        HTTP 405, for a method other than POST, GET, HEAD
    ├── PolicyError                 the policy file is invalid: the function refuses to start
    ├── PermanentError              this server cannot be done: a failed event, HTTP 422
    │   ├── ApiPermanentError       an API answer that retrying will not change
    │   └── PolicyConflict          the policy asks the impossible for this server's tags
    └── TemporaryError              try again later: a failed event, HTTP 503 (redelivery)
        └── ApiTemporaryError       throttling, 5xx, timeouts, connection errors, bad answers

``config.ConfigError`` (a start-up fault: the operator's, not a caller's) is a
``NicAttachError`` too, defined beside the settings it is about.

Every error carries a stable machine-readable ``code`` (it goes into the
failed event; the list is in docs/errors.md) and a message that never
contains a secret.
"""

from __future__ import annotations


class NicAttachError(Exception):
    """Base of every error this project raises on purpose."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InputError(NicAttachError):
    """The event or request is malformed or names invalid ids (HTTP 400)."""

    code = "bad_input"
    http_status = 400


class BodyTooLarge(InputError):
    """The request body is larger than NICATTACH_MAX_BODY_BYTES (HTTP 413)."""

    code = "body_too_large"
    http_status = 413


class MethodNotAllowed(InputError):
    """An HTTP method other than POST (an event) or GET/HEAD (the health check): HTTP 405."""

    code = "method_not_allowed"
    http_status = 405


class PolicyError(NicAttachError):
    """The policy file cannot be used; ``problems`` lists every mistake found."""

    code = "bad_policy"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class PermanentError(NicAttachError):
    """This server cannot reach the desired state without someone changing something."""

    code = "permanent_failure"
    retryable = False


class TemporaryError(NicAttachError):
    """Trying again later may succeed; the platform should redeliver (HTTP 503)."""

    code = "temporary_failure"
    retryable = True

    def __init__(
        self, message: str, *, code: str | None = None, delay: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.delay = delay


class ApiPermanentError(PermanentError):
    """A compute API answer that retrying will not change (4xx other than 409/429)."""

    def __init__(self, message: str, *, code: str, status: int, request_id: str | None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.request_id = request_id


class ApiTemporaryError(TemporaryError):
    """A compute API answer or transport failure worth retrying."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int | None,
        request_id: str | None,
        delay: float | None = None,
    ) -> None:
        super().__init__(message, code=code, delay=delay)
        self.status = status
        self.request_id = request_id


class PolicyConflict(PermanentError):
    """The policy asks for something impossible for this server (clashing NICs, a bad tag value)."""

    code = "policy_conflict"
