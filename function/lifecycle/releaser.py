"""Answer the lifecycle hook holding a server, once its outcome is known.

Idempotent under redelivery and concurrent copies of the event: the callback is made
(by action key, else by instance and hook name); when AS refuses it because the hook
is no longer HANGING, the list of hanging instances says what the hook has now, and a
hook that already has our result is a success (another copy, or an earlier delivery
whose answer was lost, released it). AS itself accepts only one answer per hook, so
one CONTINUE takes effect however many copies run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from function.domain.codes import SkipReason
from function.domain.errors import ApiPermanentError, PermanentError, TemporaryError
from function.domain.lifecycle import HANGING, Action, Hanging, Lifecycle, Release, pick
from function.domain.lifecycle import seconds_left as left_until
from function.domain.model import ServerRef
from function.domain.outcome import Outcome
from function.domain.timing import Deadline
from function.lifecycle.decision import NO_HELP_FROM_TIME, decide, should_extend

if TYPE_CHECKING:  # the client is built (and imported) by wiring when an endpoint is set
    from function.lifecycle.client import AsClient

log = logging.getLogger("nicattach.lifecycle")
NOT_CONFIGURED = "not released: NICATTACH_AS_ENDPOINT is not set"


class Releaser:
    """``client`` None (no ``NICATTACH_AS_ENDPOINT``): hooks are reported, not answered."""

    def __init__(
        self,
        client: AsClient | None,
        *,
        on_failure: Action = Action.ABANDON,
        extend_within_s: float = 600.0,
        wall: Callable[[], float],
    ) -> None:
        self.client = client
        self.on_failure = on_failure
        self.extend_within_s = extend_within_s
        self._wall = wall

    def release(self, ref: ServerRef, outcome: Outcome, deadline: Deadline) -> Outcome:
        """``outcome`` with ``lifecycle`` set (unchanged when no hook holds the server)."""
        if ref.lifecycle is None:
            return outcome
        result = self._release(ref.server_id, ref.lifecycle, outcome, deadline)
        level = logging.WARNING if result.result is None and not outcome.retryable else logging.INFO
        log.log(
            level,
            "server %s: lifecycle hook %s: %s",
            ref.server_id,
            result.hook or "?",
            result.detail,
            extra={"ctx": {"lifecycle": result.to_json()}},
        )
        return replace(outcome, lifecycle=result)

    def _release(
        self, server_id: str, hook: Lifecycle, outcome: Outcome, deadline: Deadline
    ) -> Release:
        group = hook.scaling_group_id
        if outcome.reason == SkipReason.PROJECT_NOT_ALLOWED or outcome.project_id is None:
            return Release(
                group, hook.hook_name, None, f"not released: {outcome.reason or outcome.error_code}"
            )
        if self.client is None:
            return Release(group, hook.hook_name, None, NOT_CONFIGURED)
        call = _Call(self.client, outcome.project_id, server_id, hook, deadline)
        action = decide(hook, outcome, self.on_failure)
        try:
            if action is None:
                return self._hold(call, outcome)
            return call.answer(action)
        except TemporaryError as exc:
            return Release(
                group,
                hook.hook_name,
                None,
                f"callback failed ({exc.code}); the platform redelivers",
                retry=True,
            )
        except PermanentError as exc:
            return Release(group, hook.hook_name, None, f"callback refused: {exc.message}")

    def _hold(self, call: _Call, outcome: Outcome) -> Release:
        """A retryable failure: no answer, unless the hook is about to time out."""
        held = Release(call.group, call.hook.hook_name, None, "held: the platform redelivers")
        if outcome.error_code in NO_HELP_FROM_TIME:
            return held
        record = call.lookup()
        if record is None or record.status != HANGING:
            return replace(held, hook=record.hook_name if record else held.hook)
        left = left_until(record.timeout, self._wall())
        if not should_extend(outcome, left, self.extend_within_s):
            return replace(held, hook=record.hook_name)
        call.send(Action.EXTEND, record.action_key)
        return Release(
            call.group,
            record.hook_name,
            Action.EXTEND,
            f"extended by an hour ({left:.0f} s were left)",
        )


class _Call:
    """One hook's callback, with the list lookup that makes it idempotent."""

    def __init__(
        self, client: AsClient, project: str, server_id: str, hook: Lifecycle, deadline: Deadline
    ) -> None:
        self.client, self.project, self.server_id = client, project, server_id
        self.hook, self.group, self.deadline = hook, hook.scaling_group_id, deadline

    def answer(self, action: Action) -> Release:
        key, name = self.hook.action_key, self.hook.hook_name
        if key is None and name is None:  # the callback needs one of them: ask the list
            record = self.lookup()
            if record is None or record.status != HANGING:
                return settled(self.group, name, action, record)
            key, name = record.action_key, record.hook_name
        try:
            self.send(action, key, name)
            return Release(self.group, name, action, "released")
        except ApiPermanentError as refused:
            if refused.status in (401, 403):
                raise
            record = self.lookup()
            if record is None or record.status != HANGING:
                return settled(self.group, name, action, record)
            if record.action_key == key:
                raise
        self.send(action, record.action_key)  # our key was stale: the hook's current one
        return Release(self.group, record.hook_name, action, "released")

    def send(self, action: Action, key: str | None, name: str | None = None) -> None:
        self.client.callback(
            self.project,
            self.group,
            action,
            self.deadline,
            key=key,
            instance_id=self.server_id,
            hook_name=name,
        )

    def lookup(self) -> Hanging | None:
        records = self.client.hanging(self.project, self.group, self.server_id, self.deadline)
        return pick(records, self.server_id, self.hook.hook_name)


def settled(group: str, name: str | None, action: Action, record: Hanging | None) -> Release:
    """The hook no longer hangs: already ours, someone else's answer, or gone."""
    if record is None:
        return Release(group, name, None, "not hanging (already released, or timed out)")
    hook = record.hook_name or name
    if record.status == action.value:
        return Release(group, hook, action, "already released")
    found = Action(record.status) if record.status in Action.__members__ else None
    return Release(
        group, hook, found, f"already released as {record.status} (not by this delivery's outcome)"
    )
