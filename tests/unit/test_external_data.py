"""Hypothesis on every parser of data from outside: API answers, headers, tags from the
API. Whatever arrives, the result is a value or one of the project's own errors; never
an exception that would end in HTTP 500."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from function.app.service import correlation_id_of
from function.compute.nova.client import _next_marker
from function.compute.nova.errors import read_fault
from function.compute.parsing import interface_from_api
from function.domain.errors import ApiPermanentError, ApiTemporaryError
from function.domain.tags import salvage_tags
from function.domain.timing import parse_retry_after
from function.transport.api import check_response
from function.transport.session import Response

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),  # fmt: skip
    max_leaves=30,
)


@given(st.dictionaries(st.sampled_from(["port_id", "net_id", "fixed_ips", "mac_addr",
                                        "port_state", "tag", "x"]), JSON))  # fmt: skip
def test_any_interface_object_reads_as_an_interface(raw: dict[str, object]) -> None:
    interface = interface_from_api(raw)
    assert isinstance(interface.port_id, str) and isinstance(interface.fixed_ips, tuple)
    json.dumps(interface.to_json())


@given(
    status=st.integers(100, 599),
    body=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()),
    retry_after=st.none() | st.text(max_size=20),
)
def test_any_answer_is_a_value_or_an_api_error(
    status: int, body: bytes, retry_after: str | None
) -> None:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    try:
        check_response(Response(status, "", headers, body), "GET /x", read_fault)
    except ApiTemporaryError as exc:
        assert exc.delay is None or 0 <= exc.delay <= 3600
    except ApiPermanentError as exc:
        assert exc.code and len(exc.message) < 500


def test_an_answer_nested_beyond_any_parser_is_a_bad_answer() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    try:
        check_response(Response(200, "", {}, deep), "GET /x", read_fault)
    except ApiTemporaryError as exc:
        assert exc.code == "bad_answer"


@given(st.text(max_size=40))
def test_retry_after_is_seconds_or_nothing(raw: str) -> None:
    value = parse_retry_after(raw)
    assert value is None or (math.isfinite(value) and 0 <= value <= 3600)


def test_retry_after_refuses_what_is_not_delta_seconds() -> None:
    for raw in ("nan", "inf", "-1", "1e309", "Wed, 21 Oct 2015 07:28:00 GMT", "", "99999"):
        assert parse_retry_after(raw) is None
    assert parse_retry_after(" 2 ") == 2.0


@given(JSON)
def test_tags_from_the_api_never_raise(raw: object) -> None:
    tags, ignored = salvage_tags(raw)
    assert all(isinstance(item, str) for item in ignored)
    assert all(key.strip() for key in tags.values)


@given(body=JSON, page=st.lists(st.dictionaries(st.sampled_from(["id", "x"]), JSON), max_size=3))
def test_a_next_marker_is_a_string_or_nothing(body: object, page: list[dict[str, object]]) -> None:
    marker = _next_marker(body if isinstance(body, dict) else {}, page)  # type: ignore[arg-type]
    assert marker is None or isinstance(marker, str)


@given(st.dictionaries(st.text(max_size=20), st.text(max_size=200)))
def test_a_correlation_id_is_always_a_plain_token(headers: dict[str, str]) -> None:
    value = correlation_id_of(headers)
    assert 1 <= len(value) <= 128 and value.isprintable() and " " not in value
