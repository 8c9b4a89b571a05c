"""A ready NIC → the ``nicattach.nic.ready`` CloudEvent (``events/schemas/ready.json``).

Its id is derived from the server and the port only (not from the trigger): every
delivery that finds the NIC ready, for whatever event, sends the same id, so a sink that
drops repeated ids sees one event per NIC.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from cloudevents.http import CloudEvent

from function import logs
from function.delivery.emit import ID_NAMESPACE
from function.domain.readiness import ReadyNic

READY_TYPE = "nicattach.nic.ready"


def ready_event_id(server_id: str, port_id: str) -> str:
    """Stable per (server, port): a redelivery, or a later event, yields the same id."""
    return str(uuid.uuid5(ID_NAMESPACE, json.dumps([server_id, port_id, "ready"])))


def ready_data(server_id: str, project_id: str | None, nic: ReadyNic) -> dict[str, Any]:
    data: dict[str, Any] = {"server_id": server_id, "project_id": project_id}
    data.update(nic.interface.to_json())
    shown = nic.binding.to_json() if nic.binding is not None else {}
    if shown:
        data["binding"] = shown
    return data


def ready_cloudevent(
    server_id: str,
    project_id: str | None,
    nic: ReadyNic,
    source: str,
    correlation_id: str | None = None,
    traceparent: str | None = None,
) -> CloudEvent:
    attributes = {
        "id": ready_event_id(server_id, nic.interface.port_id),
        "source": source,
        "type": READY_TYPE,
        "subject": server_id,
        "datacontenttype": "application/json",
        "time": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    if correlation_id:
        attributes["correlationid"] = correlation_id
    if traceparent:
        attributes["traceparent"] = traceparent
    data = ready_data(server_id, project_id, nic)
    return CloudEvent(logs.scrub(attributes), logs.scrub(data))
