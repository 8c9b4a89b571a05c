"""What happened to one server: the single terminal result of an event for it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from function.domain.plan import Interface


class Kind(str, Enum):
    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    server_id: str
    project_id: str | None
    rules: tuple[str, ...] = ()
    status: str | None = None
    """``attached`` or ``already_attached`` for a completed outcome."""
    interfaces: tuple[Interface, ...] = ()
    reason: str | None = None
    """Why a server was skipped (``no_rule_matched``, ``server_gone``, ``project_not_allowed``)."""
    error_code: str | None = None
    error_message: str | None = None
    retryable: bool = False

    @property
    def http_status(self) -> int:
        if self.kind is Kind.FAILED:
            return 503 if self.retryable else 422
        if self.reason == "project_not_allowed":
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
) -> Outcome:
    status = "attached" if attached else "already_attached"
    return Outcome(Kind.COMPLETED, server_id, project_id, rules, status, interfaces)


def skipped(server_id: str, project_id: str | None, reason: str) -> Outcome:
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
