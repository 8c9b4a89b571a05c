"""Auto Scaling lifecycle hooks as values: what a hook notification names, and what the
function did about it (pure: no I/O).

A scaling group's lifecycle hook holds a new (or leaving) instance in ``PENDING_WAIT``
until someone calls back ``CONTINUE`` or ``ABANDON`` (or ``EXTEND`` for one more hour),
or the hook's timeout passes and its ``default_result`` applies. ``Lifecycle`` is what the
SMN notification told us (``sources/smn.py``); ``Release`` is what ``function/lifecycle/``
did, carried on the outcome and in the outcome event as ``lifecycle``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

LAUNCHING = "INSTANCE_LAUNCHING"
TERMINATING = "INSTANCE_TERMINATING"
HOOK_TYPES = (LAUNCHING, TERMINATING)
HANGING = "HANGING"


class Action(str, Enum):
    """``lifecycle_action_result`` of the callback."""

    CONTINUE = "CONTINUE"
    ABANDON = "ABANDON"
    EXTEND = "EXTEND"


@dataclass(frozen=True)
class Lifecycle:
    """The hook an instance hangs on, as far as the notification named it.

    Only ``scaling_group_id`` is certain (the instance id is the ``ServerRef``'s);
    the hook name and action key, when missing, are read from the list of hanging
    instances; an unknown ``hook_type`` is handled as ``INSTANCE_LAUNCHING``.
    """

    scaling_group_id: str
    hook_name: str | None = None
    action_key: str | None = None
    hook_type: str | None = None

    @property
    def terminating(self) -> bool:
        return self.hook_type == TERMINATING


@dataclass(frozen=True)
class Hanging:
    """One ``instance_hanging_info`` item of the list API."""

    instance_id: str
    scaling_group_id: str
    hook_name: str
    action_key: str
    status: str
    """``HANGING``, ``CONTINUE`` or ``ABANDON``."""
    timeout: str | None = None
    """When the hook's ``default_result`` applies (``YYYY-MM-DDThh:mm:ssZ``)."""
    default_result: str | None = None


@dataclass(frozen=True)
class Release:
    """What became of the hook: the event's ``lifecycle`` object.

    ``result`` is the action the hook now has from us (or already had: ``detail``
    says which), ``None`` when no callback took effect. ``retry`` asks the platform to
    redeliver the event (the callback failed in a way that may heal).
    """

    scaling_group_id: str
    hook: str | None
    result: Action | None
    detail: str
    retry: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "scaling_group_id": self.scaling_group_id,
            "hook": self.hook,
            "result": None if self.result is None else self.result.value,
            "detail": self.detail,
        }


def seconds_left(timeout: str | None, now: float) -> float | None:
    """Seconds from ``now`` (epoch seconds) until a hook's ``timeout``; ``None`` when
    it is absent or unreadable."""
    if not timeout:
        return None
    try:
        at = dt.datetime.fromisoformat(timeout.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.timestamp() - now


def pick(records: list[Hanging], instance_id: str, hook_name: str | None) -> Hanging | None:
    """The record for this instance (and hook, when known); a HANGING one first."""
    mine = [
        r
        for r in records
        if r.instance_id == instance_id and (hook_name is None or r.hook_name == hook_name)
    ]
    hanging = [r for r in mine if r.status == HANGING]
    return (hanging or mine)[0] if mine else None
