"""inbound.py + events.py: every way an event arrives, and every way it can be wrong."""

from __future__ import annotations

import json

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from function.domain.errors import InputError
from function.domain.model import Trigger
from function.domain.tags import parse_tags
from function.sources.inbound import decode_request
from function.sources.parse import parse_event

SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
DATA = {"server_id": SERVER, "project_id": "p1", "tags": ["role=db"]}
JSON = {"Content-Type": "application/json"}


def cloudevent() -> CloudEvent:
    return CloudEvent({"id": "e1", "source": "/test", "type": "server.created"}, DATA)


@pytest.mark.parametrize("encode", [to_structured, to_binary], ids=["structured", "binary"])
def test_cloudevents_from_the_sdk_decode(encode: object) -> None:
    headers, body = encode(cloudevent())  # type: ignore[operator]
    trigger, data = decode_request(dict(headers), body)
    assert trigger == Trigger("e1", "/test", "server.created")
    assert data == DATA


def test_structured_without_content_type_and_bare_json() -> None:
    structured = json.loads(to_structured(cloudevent())[1])
    trigger, data = decode_request(JSON, json.dumps(structured).encode())
    assert (trigger.id, data) == ("e1", DATA)
    trigger, data = decode_request(JSON, json.dumps(DATA).encode())
    assert trigger.source == "urn:nic-autoattach:bare-json" and data == DATA
    again, _ = decode_request({}, json.dumps(DATA).encode())
    assert again.id == trigger.id, "a redelivered bare body must keep its identity"


@pytest.mark.parametrize(
    ("headers", "body", "problem"),
    [
        (JSON, b"{not json", "not valid JSON"),
        (JSON, b"\xff\xfe", "not UTF-8"),
        (JSON, b"", "not valid JSON"),
        ({"ce-specversion": "1.0", "ce-source": "/s", "ce-type": "t"}, b"{}", "'id'"),
        ({"ce-specversion": "2.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}, b"{}", "2.0"),
        (
            JSON,
            json.dumps({"specversion": "1.0", "id": "", "source": "s", "type": "t"}).encode(),
            "'id'",
        ),
        ({"Content-Type": "application/cloudevents+json"}, b"{}", "specversion"),
        ({"Content-Type": "application/cloudevents-batch+json"}, b"[]", "batch"),
        (JSON, b"[" * 100000 + b"]" * 100000, "nested"),
    ],
)
def test_malformed_requests_name_the_problem(
    headers: dict[str, str], body: bytes, problem: str
) -> None:
    with pytest.raises(InputError, match=problem):
        decode_request(headers, body)


TRIGGER = Trigger("e1", "/s", "t")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([1, 2], "must be a JSON object"),
        (None, "must be a JSON object"),
        ({"hello": 1}, "unknown event shape"),
        ({"server_id": "not-a-uuid"}, "not a UUID"),
        ({"server_id": 42}, "must be a string"),
        ({"server_id": f"{SERVER}/../../x"}, "not a UUID"),
        ({"server_id": SERVER, "project_id": "a/b"}, "project_id"),
        ({"server_id": SERVER, "project_id": "x" * 65}, "project_id"),
        ({"server_id": SERVER, "tags": "role=db"}, "tags must be"),
    ],
)
def test_bad_generic_events_are_input_errors(data: object, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        parse_event(TRIGGER, data)


@pytest.mark.parametrize("tags", [["role=db", "env=prod"], {"role": "db"}, None])
def test_generic_event_yields_one_server(tags: object) -> None:
    parsed = parse_event(TRIGGER, {"server_id": SERVER.upper(), "project_id": "p-1", "tags": tags})
    assert [(s.server_id, s.project_id, s.tags) for s in parsed.servers] == [
        (SERVER, "p-1", None if tags is None else parse_tags(tags))
    ]
    assert parsed.ignored_reason is None
