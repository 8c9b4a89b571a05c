"""cts.py and nova.py on the shipped samples and on the variations real platforms send."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from support import PROJECT  # the sample project, defined once (tests/support.py)

from function.domain.errors import InputError
from function.domain.model import ParsedEvent, Trigger
from function.domain.tags import parse_tags
from function.sources.inbound import decode_request
from function.sources.parse import parse_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
ONE = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
BATCH = ["7b2d4c8f-1e6c-4d2f-8b68-3a8e1d3caf22", "8c3e5d90-2f7d-4e30-9c79-4b9f2e4db033"]
GENERIC = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
HUAWEI_TAGS = [{"key": "role", "value": "db"}, {"key": "env", "value": "prod"}]
T = Trigger("e", "s", "t")


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def parse_file(name: str) -> ParsedEvent:
    trigger, data = decode_request({}, (EVENTS / name).read_bytes())
    return parse_event(trigger, data)


@pytest.mark.parametrize(
    ("name", "servers", "tags"),
    [
        ("cts-create-server.json", [ONE], HUAWEI_TAGS),
        ("cts-create-servers-batch.json", BATCH, HUAWEI_TAGS),
        ("cts-create-servers-batch-job.json", BATCH, HUAWEI_TAGS),
        ("cts-server-tags-changed.json", [ONE], None),
        ("eventgrid-cts-create-server.json", [ONE], HUAWEI_TAGS),
        ("nova-instance-create-end.json", [ONE], ["role=db", "env=prod"]),
        ("nova-instance-create-end-oslo.json", [ONE], ["role=db", "env=prod"]),
        ("nova-instance-update-tags.json", [ONE], ["role=db", "env=prod"]),
        ("server-created.json", [GENERIC], ["role=db", "env=prod", "team=payments"]),
        ("generic-object-tags.json", [GENERIC], {"role": "db", "env": "prod"}),
        ("generic-no-tags.json", [GENERIC], None),
    ],
)
def test_each_sample_names_its_servers(name: str, servers: list[str], tags: object) -> None:
    parsed = parse_file(name)
    assert parsed.ignored_reason is None
    assert [s.server_id for s in parsed.servers] == servers
    assert {s.project_id for s in parsed.servers} == {PROJECT}
    expected = None if tags is None else parse_tags(tags)  # parsed once, at the edge
    assert all(s.tags == expected for s in parsed.servers)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ignored-cts-create-failed.json", "failed"),
        ("ignored-cts-other-service.json", "not an ECS trace"),
    ],
)
def test_ignored_samples_say_why(name: str, reason: str) -> None:
    parsed = parse_file(name)
    assert parsed.servers == ()
    assert parsed.ignored_reason is not None and reason in parsed.ignored_reason


def trace(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(load("cts-create-server.json")["cts"])
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({"code": "201"}, [ONE]),
        ({"code": None, "trace_rating": "normal"}, [ONE]),
        ({"code": None, "trace_rating": "incident"}, "failed"),
        ({"code": 403}, "failed"),
        ({"request": "not json", "response": None}, [ONE]),
        ({"request": {"server": {"server_tags": HUAWEI_TAGS}}}, [ONE]),
        ({"trace_name": "createServerV21"}, [ONE]),
        ({"trace_name": "rebootServer"}, "rebootServer"),
    ],
)
def test_cts_variations(changes: dict[str, Any], outcome: object) -> None:
    parsed = parse_event(T, {"cts": trace(**changes)})
    if isinstance(outcome, list):
        assert [s.server_id for s in parsed.servers] == outcome
    else:
        assert parsed.ignored_reason is not None and str(outcome) in parsed.ignored_reason


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"resource_id": None, "response": None}, "cts.resource_id"),
        ({"resource_id": "x; DROP", "response": None}, "not a UUID"),
        ({"response": {"serverIds": ["nope"]}}, "not a UUID"),
        ({"project_id": "../other"}, "cts.project_id"),
        ({"code": "abc"}, "not a number"),
    ],
)
def test_cts_bad_ids_are_input_errors(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        parse_event(T, {"cts": trace(**changes)})


def nova(event_type: str = "instance.create.end", **fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(load("nova-instance-create-end.json"))
    body["event_type"] = event_type
    body["payload"]["nova_object.data"].update(fields)
    return body


def test_nova_state_becomes_a_status_and_missing_tags_are_read_later() -> None:
    data = nova(state="building")
    del data["payload"]["nova_object.data"]["tags"]
    (ref,) = parse_event(T, data).servers
    assert (ref.status, ref.tags) == ("BUILD", None)


def test_nova_update_that_changes_state_is_not_a_tag_change() -> None:
    state_update = {"nova_object.data": {"old_state": "building", "state": "active"}}
    parsed = parse_event(T, nova("instance.update", state_update=state_update))
    assert parsed.ignored_reason == "instance.update without a tag change"
    (deleted,) = parse_event(T, nova("instance.delete.end")).servers
    assert deleted.deleted and deleted.tags is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"oslo.version": "2.0", "oslo.message": "{bad"}, "not valid JSON"),
        ({"oslo.version": "2.0", "oslo.message": {"event_type": "x"}}, "JSON string"),
        ({"oslo.version": "1.0", "oslo.message": "{}"}, "oslo.version"),
        ({"event_type": "instance.create.end", "payload": {"uuid": ONE}}, "versioned"),
    ],
)
def test_nova_malformed(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        parse_event(T, data)
