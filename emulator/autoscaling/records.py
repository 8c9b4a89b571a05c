"""Auto Scaling's records: scaling groups, lifecycle hooks, hanging instances, as JSON.

``new_hook`` checks a create-hook body the way the API does (its ``AS.*`` codes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from emulator.autoscaling import errors
from emulator.autoscaling.errors import AsError

LAUNCHING, TERMINATING = "INSTANCE_LAUNCHING", "INSTANCE_TERMINATING"
RESULTS = ("ABANDON", "CONTINUE")
ACTIONS = ("CONTINUE", "ABANDON", "EXTEND")
HANGING = "HANGING"
EXTEND_SECONDS = 3600.0
MAX_HOOKS = 5
HOOK_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
METADATA_FORBIDDEN = set("<>&'()")


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeHook:
    name: str
    hook_type: str
    default_result: str
    default_timeout: int
    topic_urn: str
    metadata: str | None
    create_time: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "lifecycle_hook_name": self.name,
            "lifecycle_hook_type": self.hook_type,
            "default_result": self.default_result,
            "default_timeout": self.default_timeout,
            "notification_topic_urn": self.topic_urn,
            "notification_topic_name": self.topic_urn.rsplit(":", 1)[-1],
            "notification_metadata": self.metadata,
            "create_time": self.create_time,
        }


@dataclass
class FakeGroup:
    id: str
    project_id: str
    name: str
    hooks: dict[str, FakeHook] = field(default_factory=dict)


@dataclass
class FakeHanging:
    instance_id: str
    group_id: str
    hook_name: str
    action_key: str
    default_result: str
    expires_at: float
    status: str = HANGING
    ended_at: float | None = None

    def to_dict(self, now: float) -> dict[str, Any]:
        timeout = datetime.now(timezone.utc) + timedelta(seconds=self.expires_at - now)
        return {
            "instance_id": self.instance_id,
            "scaling_group_id": self.group_id,
            "lifecycle_hook_name": self.hook_name,
            "lifecycle_action_key": self.action_key,
            "lifecycle_hook_status": self.status,
            "timeout": stamp(timeout),
            "default_result": self.default_result,
        }


def new_hook(body: dict[str, Any]) -> FakeHook:
    name = body.get("lifecycle_hook_name")
    if not isinstance(name, str) or not HOOK_NAME.fullmatch(name):
        raise AsError(errors.BAD_HOOK_NAME, "Invalid lifecycle hook name.")
    hook_type = body.get("lifecycle_hook_type")
    if hook_type not in (LAUNCHING, TERMINATING):
        raise AsError(errors.BAD_HOOK_TYPE, "Invalid lifecycle hook type.")
    result = body.get("default_result", "ABANDON")
    if result not in RESULTS:
        raise AsError(errors.BAD_DEFAULT_RESULT, "Invalid default result.")
    timeout = body.get("default_timeout", 3600)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 60 <= timeout <= 86400:
        raise AsError(errors.BAD_TIMEOUT, "Invalid default timeout (60-86400).")
    topic = body.get("notification_topic_urn")
    if not isinstance(topic, str) or not topic.startswith("urn:smn:"):
        raise AsError(errors.TOPIC_NOT_FOUND, "The notification topic does not exist.")
    metadata = body.get("notification_metadata")
    if metadata is not None and (
        not isinstance(metadata, str) or len(metadata) > 256 or METADATA_FORBIDDEN & set(metadata)
    ):
        raise AsError(errors.INVALID_PARAMETER, "Invalid notification metadata.")
    unknown = set(body) - {
        "lifecycle_hook_name",
        "lifecycle_hook_type",
        "default_result",
        "default_timeout",
        "notification_topic_urn",
        "notification_metadata",
    }
    if unknown:
        raise AsError(errors.INVALID_PARAMETER, f"Unknown field(s) {sorted(unknown)}.")
    created = stamp(datetime.now(timezone.utc))
    return FakeHook(name, hook_type, result, timeout, topic, metadata, created)
