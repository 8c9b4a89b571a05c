"""The Auto Scaling backend: scaling groups, lifecycle hooks, hanging instances.

An instance hangs on one hook of its group (``hang``, from the admin API) with a
fresh ``lifecycle_action_key`` until a callback answers it or ``default_timeout``
passes, when its ``default_result`` applies. An answered (or timed-out) record stays
listed, with its status, ``keep_released_seconds`` more, then disappears. Every
accepted callback is kept in ``answers`` so tests can count them. Time is the compute
backend's clock; the state is guarded by its lock.
"""

from __future__ import annotations

import uuid
from typing import Any

from emulator.autoscaling import errors
from emulator.autoscaling.errors import AsError
from emulator.autoscaling.records import (
    ACTIONS,
    EXTEND_SECONDS,
    HANGING,
    MAX_HOOKS,
    FakeGroup,
    FakeHanging,
    FakeHook,
    new_hook,
)
from emulator.compute.models import FakeBackend


class FakeAutoScaling:
    """Options (plain attributes): ``keep_released_seconds``, how long an answered or
    timed-out record is still listed."""

    def __init__(self, backend: FakeBackend, *, keep_released_seconds: float = 3600.0) -> None:
        self.backend = backend
        self.keep_released_seconds = keep_released_seconds
        self._groups: dict[str, FakeGroup] = {}
        self._hanging: list[FakeHanging] = []
        #: Every accepted callback: {instance_id, scaling_group_id, lifecycle_hook_name, result}.
        self.answers: list[dict[str, str]] = []

    def reset(self) -> None:
        with self.backend.transaction():
            self._groups.clear()
            self._hanging.clear()
            self.answers.clear()

    def state(self) -> dict[str, Any]:
        with self.backend.transaction():
            self._settle()
            now = self.backend.clock()
            groups = [
                {
                    "id": g.id,
                    "project_id": g.project_id,
                    "name": g.name,
                    "hooks": [h.to_dict() for h in g.hooks.values()],
                }
                for g in self._groups.values()
            ]
            return {
                "groups": groups,
                "hanging": [h.to_dict(now) for h in self._hanging],
                "answers": list(self.answers),
                "keep_released_seconds": self.keep_released_seconds,
            }

    # -- admin ----------------------------------------------------------------------------

    def create_group(
        self, project_id: str, *, id: str | None = None, name: str | None = None
    ) -> FakeGroup:
        with self.backend.transaction():
            group_id = id or str(uuid.uuid4())
            if group_id in self._groups:
                raise AsError(errors.INVALID_PARAMETER, f"Scaling group {group_id} exists.")
            group = FakeGroup(group_id, project_id, name or f"as-group-{group_id[:8]}")
            self._groups[group_id] = group
            return group

    def hang(
        self,
        group_id: str,
        instance_id: str,
        *,
        hook_name: str | None = None,
        action_key: str | None = None,
    ) -> FakeHanging:
        """Hold ``instance_id`` on a hook of the group (the only one when no name is given)."""
        with self.backend.transaction():
            group = self._group_any_project(group_id)
            if hook_name is None and len(group.hooks) == 1:
                hook_name = next(iter(group.hooks))
            hook = group.hooks.get(hook_name or "")
            if hook is None:
                raise AsError(
                    errors.INVALID_PARAMETER,
                    f"Group {group_id} has no hook {hook_name!r} (hooks: {sorted(group.hooks)}).",
                )
            record = FakeHanging(
                instance_id,
                group_id,
                hook.name,
                action_key or str(uuid.uuid4()),
                hook.default_result,
                self.backend.clock() + hook.default_timeout,
            )
            self._hanging.append(record)
            return record

    # -- API ------------------------------------------------------------------------------

    def create_hook(self, project_id: str, group_id: str, body: dict[str, Any]) -> FakeHook:
        with self.backend.transaction():
            group = self._group(project_id, group_id)
            hook = new_hook(body)
            if hook.name in group.hooks:
                raise AsError(errors.BAD_HOOK_NAME, f"Lifecycle hook {hook.name} already exists.")
            if len(group.hooks) >= MAX_HOOKS:
                raise AsError(errors.TOO_MANY_HOOKS, "Too many lifecycle hooks in the group.")
            group.hooks[hook.name] = hook
            return hook

    def hooks(self, project_id: str, group_id: str) -> list[FakeHook]:
        with self.backend.transaction():
            return list(self._group(project_id, group_id).hooks.values())

    def hanging(
        self, project_id: str, group_id: str, instance_id: str | None
    ) -> list[dict[str, Any]]:
        with self.backend.transaction():
            self._group(project_id, group_id)
            self._settle()
            now = self.backend.clock()
            return [
                h.to_dict(now)
                for h in self._hanging
                if h.group_id == group_id and instance_id in (None, h.instance_id)
            ]

    def callback(
        self,
        project_id: str,
        group_id: str,
        result: str,
        *,
        key: str | None,
        instance_id: str | None,
        hook_name: str | None,
    ) -> None:
        """Answer a HANGING record, found by ``key`` (it wins) or instance and hook name."""
        if not result:
            raise AsError(errors.EMPTY_ACTION_RESULT, "The lifecycle action result is empty.")
        if result not in ACTIONS:
            raise AsError(errors.BAD_ACTION_RESULT, f"Invalid lifecycle action result {result}.")
        if not key and not (instance_id and hook_name):
            raise AsError(
                errors.EMPTY_CALLBACK_OBJECT, "The lifecycle hook callback object is empty."
            )
        with self.backend.transaction():
            self._group(project_id, group_id)
            self._settle()
            record = next(
                (
                    h
                    for h in self._hanging
                    if h.group_id == group_id
                    and h.status == HANGING
                    and (
                        h.action_key == key
                        if key
                        else (h.instance_id, h.hook_name) == (instance_id, hook_name)
                    )
                ),
                None,
            )
            if record is None:
                raise AsError(
                    errors.NO_CALLBACK_OBJECT, "The lifecycle hook callback object does not exist."
                )
            self.answers.append(
                {
                    "instance_id": record.instance_id,
                    "scaling_group_id": group_id,
                    "lifecycle_hook_name": record.hook_name,
                    "result": result,
                }
            )
            if result == "EXTEND":
                record.expires_at += EXTEND_SECONDS
            else:
                record.status, record.ended_at = result, self.backend.clock()

    # -- internals ------------------------------------------------------------------------

    def _group(self, project_id: str, group_id: str) -> FakeGroup:
        group = self._groups.get(group_id)
        if group is None or group.project_id != project_id:
            raise AsError(errors.GROUP_NOT_FOUND, f"AS group {group_id} does not exist.")
        return group

    def _group_any_project(self, group_id: str) -> FakeGroup:
        group = self._groups.get(group_id)
        if group is None:
            raise AsError(errors.GROUP_NOT_FOUND, f"AS group {group_id} does not exist.", 404)
        return group

    def _settle(self) -> None:
        """Apply the default result of timed-out hooks; forget records kept long enough."""
        now = self.backend.clock()
        for record in self._hanging:
            if record.status == HANGING and now >= record.expires_at:
                record.status, record.ended_at = record.default_result, record.expires_at
        self._hanging = [
            h
            for h in self._hanging
            if h.ended_at is None or now < h.ended_at + self.keep_released_seconds
        ]
