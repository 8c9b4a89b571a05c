"""The W3C traceparent parser (function/domain/tracecontext.py): valid values kept,
malformed ones ignored (None), never an error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from function.domain import tracecontext
from function.domain.tracecontext import TraceParent
from function.telemetry import route_of

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
VALID = f"00-{TRACE}-{SPAN}-01"


def test_a_valid_traceparent_is_read() -> None:
    parent = tracecontext.parse(VALID)
    assert parent == TraceParent(TRACE, SPAN, "01")
    assert parent is not None and parent.sampled and str(parent) == VALID
    assert tracecontext.parse(f"  {VALID} ") == parent  # surrounding blanks are tolerated


def test_a_later_version_may_append_fields_and_is_read_as_version_00() -> None:
    parent = tracecontext.parse(f"cc-{TRACE}-{SPAN}-00-what-comes-next")
    assert parent == TraceParent(TRACE, SPAN, "00")
    assert parent is not None and not parent.sampled
    assert str(parent) == f"00-{TRACE}-{SPAN}-00"


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        "",
        "garbage",
        f"00-{TRACE}-{SPAN}",  # three fields
        f"00-{TRACE}-{SPAN}-01-extra",  # version 00 has exactly four
        f"ff-{TRACE}-{SPAN}-01",  # version ff is invalid
        f"0-{TRACE}-{SPAN}-01",
        f"00-{TRACE.upper()}-{SPAN}-01",  # lowercase only
        f"00-{'0' * 32}-{SPAN}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero span id
        f"00-{TRACE[:-1]}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}1-01",
        f"00-{TRACE}-{SPAN}-1",
        f"00-{TRACE}-{SPAN}-zz",
        f"00-{TRACE[:-1]}g-{SPAN}-01",
        VALID + "-" + "x" * 600,  # far too long
    ],
)
def test_a_malformed_traceparent_is_ignored(value: object) -> None:
    assert tracecontext.parse(value) is None


@given(st.text(max_size=80))
def test_any_text_parses_or_is_ignored_without_raising(value: str) -> None:
    parent = tracecontext.parse(value)
    assert parent is None or tracecontext.parse(str(parent)) == parent


def test_a_child_keeps_the_trace_and_flags_with_a_new_span() -> None:
    parent = tracecontext.parse(VALID)
    assert parent is not None
    child = parent.child("b7ad6b7169203331")
    assert (child.trace_id, child.span_id, child.flags) == (TRACE, "b7ad6b7169203331", "01")
    with pytest.raises(ValueError):
        parent.child("0" * 16)


def test_routes_lose_their_ids_for_metric_attributes() -> None:
    what = "GET /v2.1/0123456789abcdef0123456789abcdef/servers/6f1c1d2e-5c1a-4a8e-9d0e-6e1c4b0a7a11"
    assert route_of(what + "/os-interface?all=1") == "GET /v2.1/{id}/servers/{id}/os-interface"
    assert route_of("POST /v1/project1/cloudservers/nics") == "POST /v1/{id}/cloudservers/nics"
