"""Property tests: the parser never crashes on any input and never invents a server."""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from function.domain.errors import InputError
from function.sources.inbound import decode_request
from function.sources.parse import parse_event

UUIDS = st.uuids().map(str)
KEYS = st.sampled_from(
    (
        "cts server_id project_id tags trace_name service_type resource_id code request response "
        "serverIds event_type payload nova_object.data uuid tenant_id oslo.version oslo.message "
        "specversion id source type data server server_tags entities state"
    ).split()
)
WORDS = "ECS createServer dealUnifiedTags instance.create.end instance.update 2.0 1.0 200 role=db"
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    UUIDS,
    st.sampled_from(WORDS.split()),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=30,
)


def _hex(text: str) -> str:
    return text.lower().replace("-", "")


def check(body: bytes) -> None:
    try:
        trigger, data = decode_request({"Content-Type": "application/json"}, body)
        parsed = parse_event(trigger, data)
    except InputError:
        return
    haystack = _hex(body.decode("utf-8", "replace"))
    for ref in parsed.servers:
        uuid.UUID(ref.server_id)
        assert _hex(ref.server_id) in haystack, "a server id that is not in the input"


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_arbitrary_json_never_crashes_or_invents_servers(value: Any) -> None:
    check(json.dumps(value).encode())


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_oslo_wrapped_json(value: Any) -> None:
    check(json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(value)}).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(body: bytes) -> None:
    check(body)
