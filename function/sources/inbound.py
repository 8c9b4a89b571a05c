"""HTTP request → (Trigger, data): CloudEvents in binary or structured mode, or bare JSON.

This is the only module that knows how events travel over HTTP; what the
data means is ``events.py``'s business.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from function.domain import tracecontext
from function.domain.errors import InputError
from function.domain.model import Trigger
from function.sources.cts import is_trace
from function.sources.nova import is_notification

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
BARE_SOURCE = "urn:nic-autoattach:bare-json"
BARE_TYPE = "bare-json"
"""The type of a bare JSON body of no shape the platforms send (a generic event)."""


def decode_request(headers: Mapping[str, str], body: bytes) -> tuple[Trigger, Any]:
    """Decode one inbound event; raise ``InputError`` saying what is wrong."""
    lowered, content_type = _headers(headers)
    if "ce-specversion" in lowered:
        return _decode_binary(lowered, body)
    return _decode_document(lowered, content_type, _load_json(body), body)


def decode_parsed(headers: Mapping[str, str], document: Any, text: bytes) -> tuple[Trigger, Any]:
    """Decode an event a platform already parsed (FunctionGraph's ``handler``), as a JSON
    body of the same content would be; ``text`` is its JSON text, a bare event's identity."""
    lowered, content_type = _headers(headers)
    return _decode_document(lowered, content_type, document, text)


def _headers(headers: Mapping[str, str]) -> tuple[dict[str, str], str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "").split(";")[0].strip().lower()
    if content_type == BATCH:
        raise InputError("CloudEvents batch mode is not supported: send one event per request")
    return lowered, content_type


def _decode_document(
    headers: Mapping[str, str], content_type: str, document: Any, text: bytes
) -> tuple[Trigger, Any]:
    if isinstance(document, Mapping) and "specversion" in document:
        return _decode_structured(document)
    if content_type == STRUCTURED:
        raise InputError("structured CloudEvent without 'specversion'")
    trigger = _bare_trigger(text, document)
    return _traced(trigger, headers.get("traceparent")), document


def _decode_binary(headers: Mapping[str, str], body: bytes) -> tuple[Trigger, Any]:
    _check_specversion(headers["ce-specversion"])
    trigger = _trigger(headers.get("ce-id"), headers.get("ce-source"), headers.get("ce-type"))
    trigger = _traced(trigger, headers.get("ce-traceparent") or headers.get("traceparent"))
    return trigger, _load_json(body) if body.strip() else None


def _decode_structured(document: Mapping[str, Any]) -> tuple[Trigger, Any]:
    _check_specversion(document.get("specversion"))
    trigger = _trigger(document.get("id"), document.get("source"), document.get("type"))
    trigger = _traced(trigger, document.get("traceparent"))
    if "data_base64" in document:
        raise InputError("data_base64 is not supported: send the event data as JSON")
    data = document.get("data")
    if isinstance(data, str) and _is_json_type(document.get("datacontenttype")):
        data = _load_json(data.encode())
    return trigger, data


def _trigger(event_id: object, source: object, event_type: object) -> Trigger:
    for name, value in (("id", event_id), ("source", source), ("type", event_type)):
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"CloudEvent attribute '{name}' is missing or empty")
        if len(value) > 1024:
            raise InputError(f"CloudEvent attribute '{name}' is longer than 1024 characters")
    return Trigger(id=str(event_id), source=str(source), type=str(event_type))


def _traced(trigger: Trigger, value: object) -> Trigger:
    """``trigger`` with the incoming ``traceparent`` (the CloudEvents distributed-tracing
    extension, or the plain HTTP header); a malformed one is ignored."""
    parent = tracecontext.parse(value)
    if parent is None:
        return trigger
    return Trigger(trigger.id, trigger.source, trigger.type, traceparent=str(parent))


def _check_specversion(value: object) -> None:
    if value not in ("1.0", "0.3"):
        raise InputError(f"unsupported CloudEvents specversion {value!r} (expected '1.0')")


def _bare_trigger(body: bytes, document: Any) -> Trigger:
    """A stable identity for a bare JSON body: redelivering it yields the same ids. Its type
    names the platform's shape (a FunctionGraph CTS trigger sends bare JSON too)."""
    digest = hashlib.sha256(body).hexdigest()[:32]
    return Trigger(id=f"sha256:{digest}", source=BARE_SOURCE, type=bare_type(document))


def bare_type(document: Any) -> str:
    """``cts``, ``smn``, ``nova-notification``, or ``bare-json`` for anything else."""
    if not isinstance(document, Mapping):
        return BARE_TYPE
    if "cts" in document or is_trace(document):
        return "cts"
    if is_smn(document):
        return "smn"
    return "nova-notification" if is_notification(document) else BARE_TYPE


def _load_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("body is not UTF-8 text") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise InputError(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError("body is nested too deeply") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _is_json_type(content_type: object) -> bool:
    return isinstance(content_type, str) and "json" in content_type.lower()


def is_smn(data: Mapping[str, Any]) -> bool:
    records = data.get("record")
    return (
        isinstance(records, list)
        and bool(records)
        and isinstance(records[0], Mapping)
        and (records[0].get("event_source") == "smn" or "smn" in records[0])
    )
