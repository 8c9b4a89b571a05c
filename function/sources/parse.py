"""Any input event → the servers it is about (pure: no I/O, no HTTP types).

The HTTP layer (``inbound.py``) reduces a request to a ``Trigger`` and a
JSON ``data`` value; this module recognises the shape of ``data`` and
returns a ``ParsedEvent``: the servers to handle, or why the event is
ignored. Ids are validated here, before they can reach a URL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from function.domain.errors import InputError
from function.domain.model import (
    Ignored,
    ParsedEvent,
    ServerRef,
    Trigger,
    check_project_id,
    check_server_id,
)
from function.domain.tags import parse_tags
from function.sources.cts import is_trace, parse_trace
from function.sources.inbound import is_smn
from function.sources.nova import is_notification, parse_notification

Parser = Callable[[Mapping[str, Any]], list[ServerRef]]


def parse_event(trigger: Trigger, data: object) -> ParsedEvent:
    """Recognise ``data`` and return the servers it names (or why it is ignored)."""
    if not isinstance(data, Mapping):
        raise InputError(f"event data must be a JSON object, got {_kind(data)}")
    parser = _pick_parser(data)
    try:
        servers = parser(data)
    except Ignored as ignored:
        return ParsedEvent(trigger=trigger, ignored_reason=ignored.reason)
    return ParsedEvent(trigger=trigger, servers=tuple(_unique(servers)))


def _pick_parser(data: Mapping[str, Any]) -> Parser:
    if "cts" in data:
        return lambda d: parse_trace(d["cts"])
    if is_trace(data):
        return parse_trace
    if is_notification(data):
        return parse_notification
    if is_smn(data):  # an Auto Scaling lifecycle hook: rare, so its parser loads here
        from function.sources.smn import parse_smn

        return parse_smn
    if "server_id" in data:
        return parse_generic
    raise InputError(
        'unknown event shape: expected a CTS trace ({"cts": ...} or EventGrid data), a Nova'
        " notification (event_type + payload, or oslo.message), an SMN notification"
        ' ({"record": [{"smn": ...}]}), or a generic event with'
        " 'server_id'"
        f" (top-level keys: {', '.join(sorted(map(str, data))[:10]) or 'none'})"
    )


def parse_generic(data: Mapping[str, Any]) -> list[ServerRef]:
    """A generic event: ``{"server_id", "project_id"?, "tags"?}``."""
    project = data.get("project_id")
    tags = data.get("tags")
    if tags is not None and not isinstance(tags, (list, dict)):
        raise InputError(f"tags must be a list of 'k=v' strings or an object, got {_kind(tags)}")
    return [
        ServerRef(
            server_id=check_server_id(data.get("server_id")),
            project_id=None if project is None else check_project_id(project),
            tags=None if tags is None else parse_tags(tags),
        )
    ]


def _unique(servers: list[ServerRef]) -> list[ServerRef]:
    seen: set[str] = set()
    out = []
    for ref in servers:
        if ref.server_id not in seen:
            seen.add(ref.server_id)
            out.append(ref)
    return out


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )
