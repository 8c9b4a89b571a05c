"""OpenStack Nova versioned notifications → the servers they name (pure).

``instance.create.end`` names a new server; ``instance.update`` is sent by
the server-tags API with the new tags and an unchanged state, so an update
whose state did not change is treated as a tag change. Both the plain
envelope and oslo.messaging's v2 envelope (``oslo.message`` holds a JSON
string) are accepted. Modelled on Nova's ``doc/notification_samples``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from function.domain.errors import InputError
from function.domain.model import Ignored, ServerRef, check_project_id, check_server_id
from function.domain.tags import parse_tags

OSLO_VERSION_KEY = "oslo.version"
OSLO_MESSAGE_KEY = "oslo.message"
STATUS_OF_STATE = {
    "active": "ACTIVE",
    "building": "BUILD",
    "stopped": "SHUTOFF",
    "paused": "PAUSED",
    "suspended": "SUSPENDED",
    "error": "ERROR",
    "deleted": "DELETED",
    "soft-delete": "SOFT_DELETED",
}


def is_notification(data: Mapping[str, Any]) -> bool:
    return OSLO_VERSION_KEY in data or ("event_type" in data and "payload" in data)


def parse_notification(data: Mapping[str, Any]) -> list[ServerRef]:
    message = _unwrap(data)
    event_type = message.get("event_type")
    if event_type not in ("instance.create.end", "instance.update", "instance.delete.end"):
        raise Ignored(
            f"notification {str(event_type)[:60]!r} is not about a new, re-tagged or deleted server"
        )
    payload = message.get("payload")
    fields = payload.get("nova_object.data") if isinstance(payload, Mapping) else None
    if not isinstance(fields, Mapping):
        raise InputError("payload['nova_object.data'] is missing: not a versioned notification")
    if event_type == "instance.update" and not _tags_changed(fields):
        raise Ignored("instance.update without a tag change")
    tags = fields.get("tags")
    state = fields.get("state")
    if event_type == "instance.delete.end":
        server_id = check_server_id(fields.get("uuid"), "payload.uuid")
        project = check_project_id(fields.get("tenant_id"), "payload.tenant_id")
        return [ServerRef(server_id, project, deleted=True)]
    return [
        ServerRef(
            server_id=check_server_id(fields.get("uuid"), "payload.uuid"),
            project_id=check_project_id(fields.get("tenant_id"), "payload.tenant_id"),
            tags=parse_tags(tags) if isinstance(tags, list) else None,
            status=STATUS_OF_STATE.get(state) if isinstance(state, str) else None,
        )
    ]


def _unwrap(data: Mapping[str, Any]) -> Mapping[str, Any]:
    if OSLO_VERSION_KEY not in data:
        return data
    if data.get(OSLO_VERSION_KEY) != "2.0":
        raise InputError(f"unsupported oslo.version {str(data.get(OSLO_VERSION_KEY))[:20]!r}")
    raw = data.get(OSLO_MESSAGE_KEY)
    if not isinstance(raw, str):
        raise InputError("oslo.message must be a JSON string")
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        raise InputError("oslo.message is not valid JSON") from None
    if not isinstance(message, Mapping):
        raise InputError("oslo.message must hold a JSON object")
    return message


def _tags_changed(fields: Mapping[str, Any]) -> bool:
    """The tag API's update carries ``tags`` and a state_update whose state is unchanged."""
    if not isinstance(fields.get("tags"), list):
        return False
    update = fields.get("state_update")
    data = update.get("nova_object.data") if isinstance(update, Mapping) else None
    if not isinstance(data, Mapping):
        return True
    return data.get("old_state") == data.get("state")
