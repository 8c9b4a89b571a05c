"""SMN notifications from Auto Scaling lifecycle hooks → the held server (pure).

FunctionGraph's SMN trigger delivers ``{"record": [{"event_source": "smn", "smn":
{"topic_urn", "message": "<string>", "subject", ...}}], ...}``. What a lifecycle
hook puts in ``message`` is not documented beyond "basic information of the
instance, the custom notification message, and the token for controlling the
lifecycle action" (docs/research-huawei.md §2), so it is read defensively:

- ``message`` may be JSON (nested objects and JSON strings inside it, such as the
  operator's ``notification_metadata``, are searched too) or text with
  ``key: value`` / ``key=value`` pairs;
- keys are compared without case, ``_`` and ``-`` (``instance_id``, ``instanceId``);
- a message is a hook notification when it names a scaling group, a hook, an action
  key or a hook type; it must name the instance (a UUID: the server id) and the
  scaling group, else it is ignored with the reason (the list API needs the group).

Other SMN messages are ignored with a reason, like other foreign events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from function.domain.errors import InputError
from function.domain.lifecycle import HOOK_TYPES, Lifecycle
from function.domain.model import Ignored, ServerRef, check_project_id, check_server_id

INSTANCE_KEYS = ("instanceid", "serverid", "ecsid")
GROUP_KEYS = ("scalinggroupid", "asgroupid", "groupid")
HOOK_KEYS = ("lifecyclehookname", "hookname")
ACTION_KEY_KEYS = ("lifecycleactionkey", "actionkey", "lifecycleactiontoken")
TYPE_KEYS = ("lifecyclehooktype", "hooktype", "lifecycletransition")
PROJECT_KEYS = ("projectid", "tenantid")
METADATA_HINT = (
    'put {"scaling_group_id": "<id>", "lifecycle_hook_name": "<name>"} in the hook\'s '
    "notification_metadata"
)

_GROUP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HOOK_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_ACTION_KEY = re.compile(r"[\x21-\x7e]{1,256}")
_PAIR = re.compile(r"""["']?([A-Za-z][\w.-]{1,40})["']?\s*[:=]\s*["']?([^\s"',;{}\[\]]+)""")
_MAX_DEPTH = 8


def parse_smn(data: Mapping[str, Any]) -> list[ServerRef]:
    """One ``ServerRef`` per hook notification among the records; ``Ignored`` if none is."""
    refs, reasons = [], []
    for record in data["record"]:
        try:
            refs.append(parse_record(record))
        except Ignored as ignored:
            reasons.append(ignored.reason)
    if not refs:
        raise Ignored("; ".join(dict.fromkeys(reasons)) or "SMN event without records")
    return refs


def parse_record(record: object) -> ServerRef:
    smn = record.get("smn") if isinstance(record, Mapping) else None
    if not isinstance(smn, Mapping):
        raise InputError("an SMN record must carry an 'smn' object")
    message, subject = smn.get("message"), smn.get("subject")
    found = _found(message)
    text = " ".join(s for s in (message, subject) if isinstance(s, str))
    hook_type = _hook_type(found, text)
    if not any(found.get(k) for k in (*GROUP_KEYS, *HOOK_KEYS, *ACTION_KEY_KEYS)) and not hook_type:
        raise Ignored(
            f"SMN message is not an Auto Scaling lifecycle hook notification "
            f"(topic {_short(smn.get('topic_urn'))})"
        )
    server_id = _first(found, INSTANCE_KEYS, _uuid)
    if server_id is None:
        raise Ignored("lifecycle hook notification names no instance id (a UUID)")
    group = _first(found, GROUP_KEYS, _matching(_GROUP_ID))
    if group is None:
        raise Ignored(f"lifecycle hook notification names no scaling group: {METADATA_HINT}")
    lifecycle = Lifecycle(
        scaling_group_id=group,
        hook_name=_first(found, HOOK_KEYS, _matching(_HOOK_NAME)),
        action_key=_first(found, ACTION_KEY_KEYS, _matching(_ACTION_KEY)),
        hook_type=hook_type,
    )
    project = _first(found, PROJECT_KEYS, _project) or _project(_urn_project(smn.get("topic_urn")))
    return ServerRef(server_id, project, lifecycle=lifecycle)


def _found(message: object) -> dict[str, list[object]]:
    """Every (normalised key → values) in the message, in the order met."""
    found: dict[str, list[object]] = {}
    for key, value in _fields(message, 0):
        found.setdefault(key, []).append(value)
    return found


def _fields(value: object, depth: int) -> Iterator[tuple[str, object]]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield _norm(str(key)), item
            yield from _fields(item, depth + 1)
    elif isinstance(value, list):
        for item in value[:100]:
            yield from _fields(item, depth + 1)
    elif isinstance(value, str):
        parsed = _json(value)
        if parsed is not None:
            yield from _fields(parsed, depth + 1)
        elif depth == 0:
            for key, item in _PAIR.findall(value[:65536]):
                yield _norm(key), item


def _json(text: str) -> object | None:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        parsed: object = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    return parsed


def _hook_type(found: dict[str, list[object]], text: str) -> str | None:
    named = _first(
        found, TYPE_KEYS, lambda v: v.strip().upper() if v.strip().upper() in HOOK_TYPES else None
    )
    if named is not None:
        return named
    present = [t for t in HOOK_TYPES if t in text]
    return present[0] if len(present) == 1 else None


def _first(
    found: dict[str, list[object]], keys: tuple[str, ...], accept: Callable[[str], str | None]
) -> str | None:
    for key in keys:
        for value in found.get(key, ()):
            if isinstance(value, str) and (usable := accept(value)) is not None:
                return usable
    return None


def _uuid(value: str) -> str | None:
    try:
        return check_server_id(value)
    except InputError:
        return None


def _project(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_project_id(value)
    except InputError:
        return None


def _matching(pattern: re.Pattern[str]) -> Callable[[str], str | None]:
    def accept(value: str) -> str | None:
        return value.strip() if pattern.fullmatch(value.strip()) else None

    return accept


def _urn_project(urn: object) -> str | None:
    """``urn:smn:{region}:{project_id}:{topic}`` → the project id."""
    parts = urn.split(":") if isinstance(urn, str) else []
    return parts[3] if len(parts) >= 5 and parts[:2] == ["urn", "smn"] else None


def _norm(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "").replace(".", "")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"
