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
        ├── DeadlineExceeded        the event's deadline passed before the work was done
        └── ApiTemporaryError       an API answer or a transport failure worth retrying
            ├── ServerBusy          409: the server runs a task (building, another attach)
            ├── JobPending          huawei-v1: the NIC job still ran at the deadline
            ├── BadAnswer           a 2xx answer that cannot be read
            └── TransportFailure    no answer: timeout, connection error
                └── AnswerTooLarge  an answer larger than the session reads

    ServerGone                      not an error: the server was deleted (a skip)
    SinkError                       one delivery of a result event failed (never an outcome)

``config.ConfigError`` (a start-up fault: the operator's, not a caller's) is a
``NicAttachError`` too, defined beside the settings it is about.

Every error carries a stable machine-readable ``code`` (an ``ErrorCode`` of
``domain.codes``; it goes into the failed event; the list is in docs/errors.md) and
a message that never contains a secret. Callers decide on these types, never on an
HTTP status or a code string.
"""

from __future__ import annotations

from function.domain.codes import ErrorCode


class NicAttachError(Exception):
    """Base of every error this project raises on purpose."""

    code: str = ErrorCode.ERROR

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InputError(NicAttachError):
    """The event or request is malformed or names invalid ids (HTTP 400)."""

    code = ErrorCode.BAD_INPUT
    http_status = 400


class BodyTooLarge(InputError):
    """The request body is larger than NICATTACH_MAX_BODY_BYTES (HTTP 413)."""

    code = ErrorCode.BODY_TOO_LARGE
    http_status = 413


class MethodNotAllowed(InputError):
    """An HTTP method other than POST (an event) or GET/HEAD (the health check): HTTP 405."""

    code = ErrorCode.METHOD_NOT_ALLOWED
    http_status = 405


class PolicyError(NicAttachError):
    """The policy file cannot be used; ``problems`` lists every mistake found."""

    code = ErrorCode.BAD_POLICY

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class PermanentError(NicAttachError):
    """This server cannot reach the desired state without someone changing something."""

    code = ErrorCode.PERMANENT_FAILURE
    retryable = False


class TemporaryError(NicAttachError):
    """Trying again later may succeed; the platform should redeliver (HTTP 503)."""

    code = ErrorCode.TEMPORARY_FAILURE
    retryable = True

    def __init__(
        self, message: str, *, code: str | None = None, delay: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.delay = delay


class ApiPermanentError(PermanentError):
    """An API answer that retrying will not change (which: the API's fault reader)."""

    def __init__(self, message: str, *, code: str, status: int, request_id: str | None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.request_id = request_id


class ApiTemporaryError(TemporaryError):
    """An API answer or transport failure worth retrying."""

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

    code = ErrorCode.POLICY_CONFLICT


class ServerBusy(ApiTemporaryError):
    """The server runs a task (building, resizing, another attach): wait for it, then retry."""

    def __init__(
        self,
        message: str,
        *,
        code: str = ErrorCode.SERVER_BUSY,
        status: int | None = 409,
        request_id: str | None = None,
        delay: float | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status, request_id=request_id, delay=delay)


class JobPending(ApiTemporaryError):
    """huawei-v1: a NIC job was still running at the deadline; the next delivery waits for it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.JOB_PENDING, status=None, request_id=None)


class BadAnswer(ApiTemporaryError):
    """A 2xx answer that is not JSON or lacks a field it must have."""

    def __init__(
        self, message: str, *, status: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message, code=ErrorCode.BAD_ANSWER, status=status, request_id=request_id)


class TransportFailure(ApiTemporaryError):
    """The request got no HTTP answer (``timeout``, ``deadline_exceeded``, ``connection_error``)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code, status=None, request_id=None)


class AnswerTooLarge(TransportFailure):
    """The answer is larger than the session reads; it was not read."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.ANSWER_TOO_LARGE)


class DeadlineExceeded(TemporaryError):
    """The event's deadline passed before the work was done."""

    code = ErrorCode.DEADLINE_EXCEEDED


class ServerGone(Exception):
    """The server disappeared (404 or DELETED): nothing to do, not a failure."""


class SinkError(Exception):
    """One delivery attempt failed; ``retryable`` says whether another may succeed."""

    def __init__(self, problem: str, *, retryable: bool, delay: float | None = None) -> None:
        super().__init__(problem)
        self.retryable = retryable
        self.delay = delay
