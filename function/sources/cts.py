"""Huawei Cloud CTS traces for ECS → the servers they name (pure).

A trace arrives as FunctionGraph's CTS trigger body ``{"cts": trace}`` or
as the ``data`` of an EventGrid CloudEvent (source ``HC.ECS``). Sources of
the shapes are cited in ``events/README.md`` and ``docs/research-notes.md``.

- create traces name the server in ``resource_id``, batch creations in the
  response's ``serverIds`` (or the finished job's ``entities``); the
  recorded request carries the tags in ``server.server_tags``;
- tag traces (``dealUnifiedTags``) carry only the tags that changed, so the
  full set is read from the API;
- delete traces (``deleteServer``) name the servers in the recorded request's
  ``servers[].id`` (else ``resource_id``): the function releases its ports of them;
- failed traces, other services and other operations are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from function.domain.errors import InputError
from function.domain.model import Ignored, ServerRef, check_project_id, check_server_id
from function.domain.tags import parse_tags
from function.domain.text import shorten

CREATE_TRACES = frozenset(
    {"createServer", "createServerV2", "createServerV21", "createSingleServer", "createServers"}
)
TAG_TRACES = frozenset({"dealUnifiedTags", "batchCreateServerTags", "batchDeleteServerTags"})
DELETE_TRACES = frozenset({"deleteServer", "deleteServers", "deleteServerV2"})
FAILED_RATINGS = frozenset({"warning", "incident"})


def is_trace(data: Mapping[str, Any]) -> bool:
    return "trace_name" in data and "service_type" in data


def parse_trace(trace: object) -> list[ServerRef]:
    if not isinstance(trace, Mapping):
        raise InputError("the CTS trace must be a JSON object")
    name = trace.get("trace_name")
    if trace.get("service_type") != "ECS":
        raise Ignored(f"not an ECS trace (service_type={_short(trace.get('service_type'))})")
    _check_succeeded(trace)
    project = trace.get("project_id")
    project_id = check_project_id(project, "cts.project_id") if project is not None else None
    if name in CREATE_TRACES:
        return _created(trace, project_id)
    if name in TAG_TRACES:
        server_id = check_server_id(trace.get("resource_id"), "cts.resource_id")
        return [ServerRef(server_id, project_id, tags=None)]
    if name in DELETE_TRACES:
        return _deleted(trace, project_id)
    raise Ignored(f"operation {_short(name)} is not a server creation, deletion or tag change")


def _check_succeeded(trace: Mapping[str, Any]) -> None:
    code = trace.get("code")
    if code is not None and code != "":
        try:
            status = int(code)
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"cts.code is not a number: {_short(code)}") from None
        if status >= 400:
            raise Ignored(f"the traced operation failed (code {status})")
        return
    rating = trace.get("trace_rating") or trace.get("trace_status")
    if rating in FAILED_RATINGS:
        raise Ignored(f"the traced operation failed (trace_rating {rating})")


def _created(trace: Mapping[str, Any], project_id: str | None) -> list[ServerRef]:
    response = _embedded(trace.get("response"))
    ids = [check_server_id(i, "cts.response server id") for i in _response_ids(response)]
    if not ids:
        ids = [check_server_id(trace.get("resource_id"), "cts.resource_id")]
    server = _embedded(trace.get("request")).get("server")
    tags = server.get("server_tags") if isinstance(server, Mapping) else None
    parsed = None if tags is None else parse_tags(tags)
    return [ServerRef(server_id, project_id, tags=parsed) for server_id in ids]


def _deleted(trace: Mapping[str, Any], project_id: str | None) -> list[ServerRef]:
    servers = _embedded(trace.get("request")).get("servers")
    named = (
        [s.get("id") for s in servers if isinstance(s, Mapping)]
        if isinstance(servers, list)
        else []
    )
    ids = [check_server_id(i, "cts.request servers[].id") for i in named]
    if not ids:
        ids = [check_server_id(trace.get("resource_id"), "cts.resource_id")]
    return [ServerRef(server_id, project_id, deleted=True) for server_id in ids]


def _response_ids(response: Mapping[str, Any]) -> Iterator[object]:
    """Server ids in a create response: ``serverIds`` or the finished job's entities."""
    server_ids = response.get("serverIds")
    if isinstance(server_ids, list):
        yield from server_ids
    entities = response.get("entities")
    if isinstance(entities, Mapping):
        if entities.get("server_id"):
            yield entities["server_id"]
        for job in entities.get("sub_jobs") or ():
            sub = job.get("entities") if isinstance(job, Mapping) else None
            if isinstance(sub, Mapping) and sub.get("server_id"):
                yield sub["server_id"]


def _embedded(value: object) -> Mapping[str, Any]:
    """``request``/``response`` are JSON strings in real traces, objects in some samples."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # not JSON, or nested beyond any real trace
            return {}
    return value if isinstance(value, Mapping) else {}


def _short(value: object) -> str:
    """A value for a message: ``'text'`` for a string, JSON for an object or list."""
    text = json.dumps(value, default=str) if isinstance(value, dict | list) else repr(value)
    return shorten(text, 60)
