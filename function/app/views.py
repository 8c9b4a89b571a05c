"""The JSON forms of the sweep's summary and of a dry run's previews, made here only.

The converge layer hands typed values up (``sweep.SweepSummary``, ``preview.Preview``);
the entry points print or return these forms (``reconcile``, ``invoke --dry-run``, the
TIMER sweep, the sweep's log line), every string scrubbed on the way out.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from function import logs
from function.converge.preview import Preview
from function.converge.sweep import Failure, NicSeen, SweepSummary
from function.domain.policy import NicRequest


def summary_json(summary: SweepSummary) -> dict[str, Any]:
    """The counts and flags always, the marker and the lists when they say something."""
    body: dict[str, Any] = {}
    for item in fields(summary):
        value = getattr(summary, item.name)
        if isinstance(value, list):
            value = [_entry_json(entry) for entry in value]
        if value or isinstance(value, int):
            body[item.name] = value
    body["project_id"] = summary.project_id
    scrubbed: dict[str, Any] = logs.scrub(body)
    return scrubbed


def preview_json(view: Preview) -> dict[str, Any]:
    """One dry-run view: what was reached, in the order it was found."""
    body: dict[str, Any] = {"server_id": view.server_id, "project_id": view.project_id}
    if view.tags is not None:
        body.update(status=view.status, tags=list(view.tags), rules=list(view.rules))
    if view.skipped is not None:
        body["skipped"] = view.skipped
    if view.error is not None:
        error = view.error
        body["error"] = {"code": error.code, "message": error.message, "retryable": error.retryable}
    if view.pending is not None:
        body["pending"] = view.pending
    if view.would_attach is not None:
        body["would_attach"] = [_request_json(nic) for nic in view.would_attach]
        body["would_detach"] = list(view.would_detach)
    if view.stale is not None:
        body["stale"] = list(view.stale)
        body["suspected_duplicates"] = list(view.suspected_duplicates)
    scrubbed: dict[str, Any] = logs.scrub(body)
    return scrubbed


def _request_json(nic: NicRequest) -> dict[str, str]:
    found = {"net_id": nic.net_id, "port_id": nic.port_id, "fixed_ip": nic.fixed_ip}
    return {k: v for k, v in found.items() if v is not None}


def _entry_json(entry: Preview | Failure | NicSeen) -> dict[str, Any]:
    if isinstance(entry, Preview):
        return preview_json(entry)
    if isinstance(entry, Failure):
        return {"server_id": entry.server_id, "code": entry.code, "message": entry.message}
    body = {"server_id": entry.server_id, "port_id": entry.port_id}
    if entry.net_id is not None:
        body["net_id"] = entry.net_id
    return body
