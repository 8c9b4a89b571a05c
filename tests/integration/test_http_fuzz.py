"""The HTTP entry answers 400 (never 500, never a traceback) for any body it cannot use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
NOT_A_UUID = st.text(max_size=40).filter(lambda s: len(s) not in (32, 36))


@pytest.fixture(scope="module")
def client() -> Iterator[FlaskClient]:
    mp = pytest.MonkeyPatch()
    mp.setenv("NICATTACH_POLICY", str(ROOT / "examples" / "policy.yaml"))
    mp.setenv("NICATTACH_ECS_ENDPOINT", "http://127.0.0.1:9")  # nothing may be called
    mp.setenv("NICATTACH_TOKEN", "t")
    yield create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()
    mp.undo()


def check(client: FlaskClient, body: bytes, headers: dict[str, str]) -> None:
    response = client.post("/", data=body, headers=headers)
    if response.status_code == 200:
        assert response.get_json()["outcome"] == "ignored"
        return
    assert response.status_code in (400, 413), response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert response.get_json()["error"]["message"]


SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=150, deadline=None, suppress_health_check=SUPPRESS)
@given(st.binary(max_size=300))
def test_arbitrary_bytes(client: FlaskClient, body: bytes) -> None:
    check(client, body, {"Content-Type": "application/json"})


@settings(max_examples=150, deadline=None, suppress_health_check=SUPPRESS)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10) | NOT_A_UUID,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["server_id", "cts", "tags", "event_type", "payload", "x"]),
                inner,
                max_size=4,
            )
        ),
        max_leaves=15,
    )
)
def test_arbitrary_json_without_a_valid_server(client: FlaskClient, value: object) -> None:
    check(client, json.dumps(value).encode(), {"Content-Type": "application/json"})


@settings(max_examples=60, deadline=None, suppress_health_check=SUPPRESS)
@given(st.dictionaries(st.sampled_from(["ce-specversion", "ce-id", "ce-source", "ce-type",
                                        "Content-Type"]), st.text(max_size=12)),
       st.binary(max_size=50))  # fmt: skip
def test_arbitrary_cloudevent_headers(
    client: FlaskClient, headers: dict[str, str], body: bytes
) -> None:
    check(client, body, {k: v for k, v in headers.items() if v.isprintable()})
