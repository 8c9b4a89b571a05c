"""Completion event ids: the same trigger delivered again gives the same id (consumers drop the
repeat); another server or another trigger gives another id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app.service import Service
from function.app.wiring import build_service
from function.config import Settings
from function.delivery.emit import event_id
from function.domain.model import Trigger

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
SERVERS = [
    "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11",
    "7b2d4c8f-1e6c-4d2f-8b68-3a8e1d3caf22",
    "8c3e5d90-2f7d-4e30-9c79-4b9f2e4db033",
    "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b",
]
SAMPLES = [
    "cts-create-server.json",
    "cts-create-servers-batch.json",
    "eventgrid-cts-create-server.json",
    "nova-instance-create-end.json",
    "nova-instance-create-end-oslo.json",
    "server-created.json",
    "generic-object-tags.json",
]


@pytest.fixture
def service(emulator: EmulatorServer, admin: AdminClient) -> Service:
    seed = json.loads((ROOT / "examples" / "emulator-seed.json").read_text())
    seed["servers"] = [
        {"id": sid, "project_id": PROJECT, "tags": ["role=db", "env=prod"], "status": "ACTIVE"}
        for sid in SERVERS
    ]
    admin.seed(seed)
    env = {
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": emulator.url,
        "NICATTACH_TOKEN": "emulator-token",
        "NICATTACH_PROJECT_ID": PROJECT,
    }
    return build_service(Settings.from_env(env))


def ids(service: Service, body: bytes) -> list[tuple[str, str]]:
    reply = service.handle({"Content-Type": "application/json"}, body)
    return [(e["subject"], e["id"]) for e in reply.events]


@pytest.mark.parametrize("name", SAMPLES)
def test_redelivery_gives_the_same_ids(service: Service, name: str) -> None:
    body = (EVENTS / name).read_bytes()
    first, second = ids(service, body), ids(service, body)
    assert first and first == second
    assert len({i for _, i in first}) == len(first)  # several servers: several ids


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("cts-create-server.json", "cts", None),  # another trace id
        ("nova-instance-create-end.json", "publisher_id", "nova-compute:other-host"),
        ("server-created.json", "id", "another-cloudevent-id"),
    ],
)
def test_another_trigger_gives_other_ids(
    service: Service, name: str, key: str, value: str | None
) -> None:
    sample: dict[str, Any] = json.loads((EVENTS / name).read_text())
    other = json.loads(json.dumps(sample))
    if value is None:
        other["cts"]["trace_id"] = "another-trace-id"
    else:
        other[key] = value
    first = ids(service, json.dumps(sample).encode())
    again = ids(service, json.dumps(other).encode())
    assert [s for s, _ in first] == [s for s, _ in again]
    assert {i for _, i in first}.isdisjoint(i for _, i in again)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((Trigger("1", "/s", "t"), SERVERS[0]), (Trigger("1", "/s", "t"), SERVERS[1])),
        ((Trigger("1", "/s", "t"), SERVERS[0]), (Trigger("2", "/s", "t"), SERVERS[0])),
        ((Trigger("1", "/s", "t"), SERVERS[0]), (Trigger("1", "/other", "t"), SERVERS[0])),
        ((Trigger("c", "a\nb", "t"), SERVERS[0]), (Trigger("b\nc", "a", "t"), SERVERS[0])),
    ],
)
def test_ids_differ_per_server_and_trigger(a: tuple[Trigger, str], b: tuple[Trigger, str]) -> None:
    assert event_id(*a) == event_id(*a)
    assert event_id(*a) != event_id(*b)
