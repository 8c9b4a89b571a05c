"""Every event the function emits, in the scenarios of the integration tests, validates
against events/schemas/ and survives the CloudEvents SDK round-trip (structured and binary)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent, from_http
from jsonschema import Draft202012Validator
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app.service import Service
from function.app.wiring import build_service
from function.config import Settings

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
SCHEMAS = {
    f"nicattach.attachment.{kind}": json.loads((EVENTS / "schemas" / f"{kind}.json").read_text())
    for kind in ("completed", "skipped", "failed")
}
SERVERS = [
    "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11",
    "7b2d4c8f-1e6c-4d2f-8b68-3a8e1d3caf22",
    "8c3e5d90-2f7d-4e30-9c79-4b9f2e4db033",
    "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b",
]
BUILDING = "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b"
GONE = "00000000-0000-4000-8000-000000000001"
GHOST_POLICY = """version: 1
rules:
  - name: ghost
    when: {}
    attach:
      - net_id: 11111111-2222-4333-8444-555555555555
"""


@pytest.fixture
def service_for(emulator: EmulatorServer, admin: AdminClient) -> Iterator[Any]:
    seed = json.loads((ROOT / "examples" / "emulator-seed.json").read_text())
    seed["servers"] = [
        {"id": sid, "project_id": PROJECT, "tags": ["role=db", "env=prod"], "status": "ACTIVE"}
        for sid in SERVERS
    ]
    admin.seed(seed)
    admin.create_server(
        PROJECT, tags=["role=db", "env=prod"], id=BUILDING, status="BUILD", build_seconds=3600
    )

    def build(**env: str) -> Service:
        base = {
            "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
            "NICATTACH_ECS_ENDPOINT": emulator.url,
            "NICATTACH_TOKEN": "emulator-token",
            "NICATTACH_WAIT_ACTIVE_S": "0.3",
        }
        return build_service(Settings.from_env({**base, **env}))

    yield build


def emitted(service: Service, body: Any) -> list[CloudEvent]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return service.handle({"Content-Type": "application/json"}, raw).events


def scenarios(service_for: Any, tmp_path: Path) -> list[CloudEvent]:
    service = service_for(NICATTACH_PROJECT_ID=PROJECT)
    events: list[CloudEvent] = []
    for sample in sorted(EVENTS.glob("*.json")):
        events += emitted(service, sample.read_bytes())
        events += emitted(service, sample.read_bytes())  # already_attached on redelivery
    events += emitted(service, {"server_id": SERVERS[0], "project_id": PROJECT, "tags": ["a=b"]})
    events += emitted(service, {"server_id": GONE, "project_id": PROJECT})
    events += emitted(service, {"server_id": BUILDING, "project_id": PROJECT})
    events += emitted(
        service_for(NICATTACH_ALLOWED_PROJECTS="other"),
        {"server_id": SERVERS[0], "project_id": PROJECT},
    )
    events += emitted(service_for(), {"server_id": SERVERS[0]})  # no project anywhere
    policy = tmp_path / "ghost.yaml"
    policy.write_text(GHOST_POLICY)
    events += emitted(
        service_for(NICATTACH_POLICY=str(policy)), {"server_id": SERVERS[1], "project_id": PROJECT}
    )
    return events


def test_every_emitted_event_matches_its_schema_and_the_cloudevents_spec(
    service_for: Any, tmp_path: Path
) -> None:
    events = scenarios(service_for, tmp_path)
    seen = {
        (e["type"], e.data.get("status") or e.data.get("reason") or e.data["error"]["code"])
        for e in events
    }
    assert {t for t, _ in seen} == set(SCHEMAS)
    assert {
        "attached",
        "already_attached",
        "no_rule_matched",
        "server_gone",
        "project_not_allowed",
        "server_not_ready",
        "no_project",
        "network_not_found",
        "instance_terminating",
    } <= {detail for _, detail in seen}
    assert any("lifecycle" in e.data for e in events), "the SMN hook samples carry lifecycle"
    for event in events:
        Draft202012Validator(SCHEMAS[event["type"]]).validate(event.data)
        for encode in (to_structured, to_binary):
            headers, body = encode(event)
            back = from_http(dict(headers), body)
            assert back.get_attributes() == event.get_attributes()
            assert back.data == event.data
        assert event["specversion"] == "1.0" and event["subject"] == event.data["server_id"]


def test_the_schemas_are_valid_draft_2020_12_and_strict() -> None:
    for schema in SCHEMAS.values():
        Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False
    bad = {
        "server_id": SERVERS[0],
        "project_id": PROJECT,
        "reason": "bored",
        "trigger": {"id": "1", "source": "/s", "type": "t"},
    }
    assert not Draft202012Validator(SCHEMAS["nicattach.attachment.skipped"]).is_valid(bad)
