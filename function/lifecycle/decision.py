"""What to answer a lifecycle hook, from the server's outcome (pure: a table, no I/O).

hook type / outcome              answer
INSTANCE_TERMINATING             CONTINUE, at once (no NIC is touched)
completed, skipped               CONTINUE
failed for good                  NICATTACH_HOOK_ON_FAILURE (ABANDON by default)
failed, retryable                none: the platform redelivers the event; EXTEND
                                 first when the hook times out within
                                 NICATTACH_HOOK_EXTEND_WITHIN_S and waiting may help
"""

from __future__ import annotations

from function.domain.codes import ErrorCode
from function.domain.lifecycle import Action, Lifecycle
from function.domain.outcome import Kind, Outcome

NO_HELP_FROM_TIME: frozenset[str] = frozenset({ErrorCode.UNAUTHORIZED, ErrorCode.FORBIDDEN})
"""Retryable failures that an extra hour on the hook would not cure."""


def decide(lifecycle: Lifecycle, outcome: Outcome, on_failure: Action) -> Action | None:
    """The callback to make now, or ``None`` to hold the hook for a redelivery."""
    if lifecycle.terminating or outcome.kind is not Kind.FAILED:
        return Action.CONTINUE
    return None if outcome.retryable else on_failure


def should_extend(outcome: Outcome, seconds_left: float | None, within_s: float) -> bool:
    """EXTEND (one more hour) before the hook's ``default_result`` applies, when the
    failure is one that time may cure and the hook's timeout is near."""
    return (
        outcome.kind is Kind.FAILED
        and outcome.retryable
        and outcome.error_code not in NO_HELP_FROM_TIME
        and seconds_left is not None
        and 0 < seconds_left <= within_s
    )
