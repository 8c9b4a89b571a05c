"""FunctionGraph's handler hands the service the event the platform parsed
(``Service.handle_parsed``): no bytes in between, and the same answers as a JSON body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_reliability import PROJECT, ROOT, SERVER, event, make_service

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app.functiongraph import invoke
from function.app.service import Service
from function.delivery import emit

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def service(emulator: EmulatorServer, admin: AdminClient) -> Iterator[Service]:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    svc = make_service(emulator, max_body_bytes=2048)
    yield svc
    svc.session.close()


def cyclic() -> dict[str, Any]:
    loop: dict[str, Any] = {"server_id": SERVER, "project_id": PROJECT}
    loop["self"] = loop
    return loop


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (cyclic(), "bad_input"),
        ({"server_id": SERVER, "project_id": PROJECT, "weight": float("nan")}, "bad_input"),
        ({"server_id": SERVER, "project_id": PROJECT, "blob": b"bytes"}, "bad_input"),
        ({"server_id": SERVER, "project_id": PROJECT, "pad": "x" * 4096}, "body_too_large"),
        ([], "bad_input"),
    ],
)
def test_an_event_no_json_body_could_be_is_refused_with_its_code_and_no_call(
    service: Service, admin: AdminClient, bad: Any, code: str
) -> None:
    before = len(admin.requests_log())
    answer = invoke(service, bad, None)
    assert answer["error"]["code"] == code, answer
    assert answer["error"]["message"], answer
    assert len(admin.requests_log()) == before  # nothing was asked of the cloud


def test_a_parsed_event_gets_the_ids_and_outcome_the_same_json_body_gets(
    service: Service, admin: AdminClient
) -> None:
    data = event()
    parsed = service.handle_parsed(data, JSON)
    body = service.handle(JSON, json.dumps(data).encode())  # a redelivery, as bytes
    assert parsed.status == body.status == 200
    assert [emit.structured_json(e)["id"] for e in parsed.events] == [
        emit.structured_json(e)["id"] for e in body.events
    ]
    assert parsed.outcomes[0].status == "attached"
    assert body.outcomes[0].status == "already_attached"


def test_a_reply_without_an_event_hands_over_its_document(service: Service) -> None:
    ignored = {"specversion": "1.0", "id": "e-1", "source": "s", "type": "com.example.other"}
    reply = service.handle_parsed(ignored, JSON)
    assert reply.events == [] and reply.document is not None
    assert json.loads(reply.body) == reply.document
    assert invoke(service, ignored, None) == reply.document
