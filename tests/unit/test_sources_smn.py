"""SMN hook notifications: the shapes a lifecycle hook's message may take, read defensively,
and property tests that no message crashes the parser or invents a server or a group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import PROJECT  # the sample project, defined once (tests/support.py)

from function.domain.errors import InputError
from function.domain.lifecycle import LAUNCHING, TERMINATING, Lifecycle
from function.domain.model import Trigger
from function.sources.parse import parse_event

ROOT = Path(__file__).resolve().parents[2]
SERVER = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
GROUP = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"
TRIGGER = Trigger("t-1", "urn:test", "test")


def smn(message: object, subject: str | None = None, topic: str | None = None) -> dict[str, Any]:
    return {
        "record": [
            {
                "event_version": "1.0",
                "event_source": "smn",
                "smn": {
                    "topic_urn": topic or f"urn:smn:cn-north-4:{PROJECT}:hooks",
                    "message": message,
                    "subject": subject,
                    "type": "notification",
                    "message_id": "m1",
                    "message_attributes": None,
                    "timestamp": "2026-11-30T10:00:00Z",
                },
            }
        ]
    }


def parse(data: dict[str, Any]) -> Any:
    return parse_event(TRIGGER, data)


@pytest.mark.parametrize(
    ("message", "lifecycle"),
    [
        (
            json.dumps(
                {
                    "instance_id": SERVER,
                    "scaling_group_id": GROUP,
                    "lifecycle_hook_name": "nic-attach",
                    "lifecycle_action_key": "k-1",
                    "lifecycle_hook_type": "INSTANCE_LAUNCHING",
                }
            ),
            Lifecycle(GROUP, "nic-attach", "k-1", LAUNCHING),
        ),
        (
            json.dumps(
                {
                    "instanceId": SERVER,
                    "scalingGroupId": GROUP,
                    "lifecycleActionKey": "k",
                    "lifecycleHookType": "instance_terminating",
                }
            ),
            Lifecycle(GROUP, None, "k", TERMINATING),
        ),
        (
            json.dumps(
                {
                    "instance": {"server_id": SERVER},
                    "notification_metadata": json.dumps(
                        {"scaling_group_id": GROUP, "lifecycle_hook_name": "h"}
                    ),
                }
            ),
            Lifecycle(GROUP, "h", None, None),
        ),
        (
            f"Instance {SERVER} is pending. instance_id={SERVER}, scaling_group_id: {GROUP}, "
            "lifecycle_hook_name=nic-attach lifecycle_action_key=abc INSTANCE_LAUNCHING",
            Lifecycle(GROUP, "nic-attach", "abc", LAUNCHING),
        ),
        ({"instance_id": SERVER, "scaling_group_id": GROUP}, Lifecycle(GROUP)),
    ],
)
def test_hook_messages_name_the_server_and_the_hook(message: object, lifecycle: Lifecycle) -> None:
    [ref] = parse(smn(message)).servers
    assert (ref.server_id, ref.project_id, ref.lifecycle) == (SERVER, PROJECT, lifecycle)
    assert ref.tags is None  # read from the API


def test_the_hook_type_may_come_from_the_subject_and_the_project_from_the_message() -> None:
    message = json.dumps({"instance_id": SERVER, "scaling_group_id": GROUP, "project_id": "p2"})
    [ref] = parse(smn(message, subject="INSTANCE_TERMINATING: db-tier")).servers
    assert ref.lifecycle is not None and ref.lifecycle.terminating
    assert ref.project_id == "p2"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("CPU usage is 93% on db-tier-4kq2", "not an Auto Scaling lifecycle hook notification"),
        (json.dumps({"alarm": "x", "instance_id": SERVER}), "not an Auto Scaling lifecycle hook"),
        (None, "not an Auto Scaling lifecycle hook notification"),
        ("{not json", "not an Auto Scaling lifecycle hook notification"),
        (json.dumps({"scaling_group_id": GROUP, "instance_id": "db-4kq2"}), "no instance id"),
        (json.dumps({"lifecycle_action_key": "k", "instance_id": SERVER}), "no scaling group"),
        (
            json.dumps(
                {
                    "scaling_group_id": "not/a group",
                    "lifecycle_hook_name": "h",
                    "instance_id": SERVER,
                }
            ),
            "notification_metadata",
        ),
    ],
)
def test_other_messages_are_ignored_with_a_reason(message: object, reason: str) -> None:
    parsed = parse(smn(message))
    assert parsed.servers == () and parsed.ignored_reason is not None
    assert reason in parsed.ignored_reason


def test_several_records_give_several_servers_and_ignored_ones_are_dropped() -> None:
    other = "7b2d4c8f-1e6c-4d2f-8b68-3a8e1d3caf22"
    event = smn(json.dumps({"instance_id": SERVER, "scaling_group_id": GROUP}))
    event["record"] += smn("an alarm")["record"]
    event["record"] += smn(json.dumps({"instance_id": other, "scaling_group_id": GROUP}))["record"]
    assert [ref.server_id for ref in parse(event).servers] == [SERVER, other]


def test_a_record_without_an_smn_object_is_bad_input() -> None:
    with pytest.raises(InputError):
        parse({"record": [{"event_source": "smn", "smn": "text"}]})


def test_the_samples() -> None:
    launching = json.loads((ROOT / "events" / "smn-as-hook-launching.json").read_text())
    [ref] = parse(launching).servers
    assert ref.lifecycle == Lifecycle(
        GROUP, "nic-attach", "5d7c6e21-8f3a-4b9c-9d1e-2f4a6b8c0d13", LAUNCHING
    )
    other = json.loads((ROOT / "events" / "ignored-smn-other-message.json").read_text())
    assert "ops-alarms" in (parse(other).ignored_reason or "")


KEYS = st.sampled_from(
    (
        "instance_id instanceId server_id scaling_group_id groupId lifecycle_hook_name "
        "lifecycle_action_key lifecycle_hook_type notification_metadata project_id x"
    ).split()
)
VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=40),
    st.uuids().map(str),
    st.sampled_from(
        [SERVER, GROUP, "INSTANCE_LAUNCHING", "nic-attach", "{", "INSTANCE_TERMINATING"]
    ),
)
MESSAGES = st.recursive(
    VALUES,
    lambda inner: (
        st.dictionaries(KEYS, inner, max_size=6)
        | st.lists(inner, max_size=3)
        | inner.map(json.dumps)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(MESSAGES, st.one_of(st.none(), st.text(max_size=30)))
def test_no_message_crashes_the_parser_or_invents_a_server(message: Any, subject: Any) -> None:
    text = message if isinstance(message, str) else json.dumps(message)
    try:
        parsed = parse(smn(text, subject))
    except InputError:
        return
    for ref in parsed.servers:
        assert ref.server_id in text and ref.lifecycle is not None
        assert ref.lifecycle.scaling_group_id in text
        assert ref.lifecycle.hook_type in (None, LAUNCHING, TERMINATING)
