"""Hypothesis on every parser of data from outside: API answers, headers, tags from the
API. Whatever arrives, the result is a value or one of the project's own errors; never
an exception that would end in HTTP 500."""

from __future__ import annotations

import base64
import json
import math

from hypothesis import given
from hypothesis import strategies as st

from function.app.service import correlation_id_of
from function.compute.huawei_v1.backend import HuaweiV1Backend
from function.compute.nova.client import _next_marker
from function.compute.nova.errors import read_fault
from function.compute.parsing import interface_from_api
from function.domain.errors import ApiPermanentError, ApiTemporaryError
from function.domain.tags import salvage_tags
from function.domain.timing import Deadline, Timing, parse_retry_after
from function.sources.smn_signature import (
    SIGNED_FIELDS,
    BadSignature,
    SigningKey,
    signing_key,
    string_to_sign,
)
from function.transport.api import check_response
from function.transport.session import Response

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(
    st.dictionaries(
        st.sampled_from(["port_id", "net_id", "fixed_ips", "mac_addr", "port_state", "tag", "x"]),
        JSON,
    )
)
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


TIMES = (
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda t: t.isoformat())
    | st.text(max_size=30)
    | st.sampled_from(["2026-01-01T00:00:00", "2026-01-01T00:00:00Z", "2026-01-01", "Z", " "])
)


@given(
    page=st.lists(
        st.fixed_dictionaries(
            {
                "id": st.text(max_size=8),
                "status": st.text(max_size=8),
                "updated": TIMES | JSON,
                "tags": JSON,
            }
        ),
        max_size=4,
    ),
    since=st.none() | TIMES,
)
def test_a_v1_server_list_with_any_dates_never_raises(
    page: list[dict[str, object]], since: str | None
) -> None:
    """Tried: aware and naive datetimes, dates only, text, JSON of any type, in `updated`
    and in `changes_since`."""
    backend = HuaweiV1Backend(_Page(page))  # type: ignore[arg-type]
    deadline = Deadline(60.0, Timing(lambda: 0.0, lambda _: None, lambda: 0.5))
    listed = backend.list_servers("p", deadline, changes_since=since)
    assert len(listed.servers) <= len(page)


class _Page:
    """A v1 client seam that answers one page (the data, not the HTTP, is under test)."""

    calls = 0

    def __init__(self, page: list[dict[str, object]]) -> None:
        self.page = page

    def list_servers(self, *args: object) -> list[dict[str, object]]:
        return self.page


PEM = st.binary(max_size=300).map(
    lambda b: (
        b"-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b) + b"\n-----END CERTIFICATE-----\n"
    )
)


@given(st.binary(max_size=300) | PEM)
def test_any_bytes_as_a_signing_certificate_are_a_key_or_bad_signature(raw: bytes) -> None:
    """Tried: arbitrary bytes, and arbitrary DER inside PEM markers."""
    try:
        signing_key(raw)
    except BadSignature:
        pass


@given(
    st.dictionaries(
        st.sampled_from(
            ["type", "message", "message_id", "subject", "timestamp", "topic_urn", "subscribe_url"]
        ),
        st.text(max_size=10) | st.sampled_from(sorted(SIGNED_FIELDS)) | JSON,
    ),
    st.text(max_size=40) | st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()),
)
def test_any_smn_message_and_signature_verify_or_raise_bad_signature(
    message: dict[str, object], signature: str
) -> None:
    """Tried: every message type and field with text or any JSON, random signatures of
    any length, base64 or not, against a real 2048-bit key."""
    try:
        KEY.verify(string_to_sign(message), signature, now=KEY.not_before + 1)
    except BadSignature:
        return
    raise AssertionError("a random signature verified")


KEY = SigningKey(
    modulus=int(
        "c4f1d5b1e0f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
        "091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4"
        "c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"
        "8192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
        "4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
        "091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4"
        "c5d6e7f8091a2b3c4d5e6f708192a3b5",
        16,
    ),
    exponent=65537,
    hash_name="sha256",
    digest_info=bytes.fromhex("3031300d060960864801650304020105000420"),
    not_before=0.0,
    not_after=4e9,
)
"""A 2240-bit odd modulus (not a real key: verifying only needs n and e)."""
