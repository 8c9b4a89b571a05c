"""What happened to one server: the single terminal result of an event for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from function.domain.codes import SkipReason
from function.domain.plan import Interface
from function.domain.port_profile import PortDrift

if TYPE_CHECKING:  # a type only: the releaser makes these (function/lifecycle/)
    from function.domain.lifecycle import Release


class Kind(str, Enum):
    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """What happened to one server in one delivery: exactly one per server per event."""

    kind: Kind
    server_id: str
    project_id: str | None
    rules: tuple[str, ...] = ()
    status: str | None = None
    """``attached`` or ``already_attached`` for a completed outcome."""
    interfaces: tuple[Interface, ...] = ()
    reason: SkipReason | None = None
    """Why a server was skipped."""
    error_code: str | None = None
    error_message: str | None = None
    retryable: bool = False
    stale: tuple[Interface, ...] = ()
    """NICs this function made that no request wants any more (kept: pruning is off)."""
    suspected: tuple[Interface, ...] = ()
    """NICs beyond the one asked for on a policy network, not ours to undo."""
    drift: tuple[PortDrift, ...] = ()
    """The function's ports that had lost part of their NIC profile (``profile_drift``)."""
    lifecycle: Release | None = None
    """What became of the Auto Scaling lifecycle hook holding the server, if one does."""

    @property
    def http_status(self) -> int:
        if self.kind is Kind.FAILED:
            return 503 if self.retryable else 422
        if self.reason == SkipReason.PROJECT_NOT_ALLOWED:
            return 403
        return 200

    @property
    def label(self) -> str:
        """completed, skipped, failed-retryable or failed-permanent."""
        if self.kind is Kind.FAILED:
            return "failed-retryable" if self.retryable else "failed-permanent"
        return str(self.kind.value)


def completed(
    server_id: str,
    project_id: str,
    rules: tuple[str, ...],
    attached: bool,
    interfaces: tuple[Interface, ...],
    *,
    stale: tuple[Interface, ...] = (),
    suspected: tuple[Interface, ...] = (),
    drift: tuple[PortDrift, ...] = (),
) -> Outcome:
    status = "attached" if attached else "already_attached"
    return Outcome(
        Kind.COMPLETED,
        server_id,
        project_id,
        rules,
        status,
        interfaces,
        stale=stale,
        suspected=suspected,
        drift=drift,
    )


def skipped(server_id: str, project_id: str | None, reason: SkipReason) -> Outcome:
    return Outcome(Kind.SKIPPED, server_id, project_id, reason=reason)


def failed(
    server_id: str,
    project_id: str | None,
    code: str,
    message: str,
    *,
    retryable: bool,
    rules: tuple[str, ...] = (),
) -> Outcome:
    return Outcome(
        Kind.FAILED,
        server_id,
        project_id,
        rules,
        error_code=code,
        error_message=message,
        retryable=retryable,
    )


# ------------------------------------------------- one outcome → every entry point

EXIT_OK, EXIT_PERMANENT, EXIT_INPUT, EXIT_RETRY = 0, 1, 2, 75
"""``nic-autoattach invoke`` / ``reconcile`` exit codes (75 is EX_TEMPFAIL)."""


@dataclass(frozen=True)
class Verdict:
    """What the outcomes of one event mean to each entry point: the HTTP status, the
    CLI's exit code, and whether FunctionGraph's handler raises (so it retries)."""

    http_status: int
    exit_code: int

    @property
    def retry(self) -> bool:
        return self.http_status == 503


IGNORED = Verdict(200, EXIT_OK)


def verdict(outcomes: Sequence[Outcome]) -> Verdict:
    """503 if any server, or the callback releasing its lifecycle hook, should be retried
    (redelivery is idempotent), else 422 if any failed for good, else the single
    outcome's own status (403 for a project outside the allowlist) or 200."""
    failed = [o for o in outcomes if o.kind is Kind.FAILED]
    pending = any(o.lifecycle is not None and o.lifecycle.retry for o in outcomes)
    if pending or any(o.retryable for o in failed):
        return Verdict(503, EXIT_RETRY)
    if failed:
        return Verdict(422, EXIT_PERMANENT)
    status = outcomes[0].http_status if len(outcomes) == 1 else 200
    return Verdict(status, EXIT_OK)


def input_verdict(http_status: int) -> Verdict:
    """The caller's mistake (400, 413): nothing was done; not worth a retry."""
    return Verdict(http_status, EXIT_INPUT)
