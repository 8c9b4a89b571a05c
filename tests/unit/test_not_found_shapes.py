"""Which 404s mean "the server is gone" (issue 22, item 1): only an answer that names
the server (Nova's "Instance <id> could not be found.", Huawei's Ecs.0114). An unknown
route, an API gateway's APIGW.0101, a proxy's empty or HTML 404 are ``api_not_found``,
retryable, never ``ServerGone``."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from function.compute.huawei_v1 import errors as v1_errors
from function.compute.huawei_v1.backend import _gone
from function.compute.nova import errors as nova_errors
from function.compute.nova.backend import _gone_on_404
from function.domain.errors import ApiPermanentError, ApiTemporaryError, ServerGone
from function.transport.api import check_response
from function.transport.session import Response

READERS = {
    "nova": (nova_errors.read_fault, _gone_on_404),
    "huawei-v1": (v1_errors.read_fault, _gone),
}
ROUTE = "GET /v2.1/{project_id}/servers/{server_id}/os-interface/{port_id}"
APIGW = {
    "error_code": "APIGW.0101",
    "error_msg": "The API does not exist or has not been published in the environment",
    "request_id": "r-1",
}  # noqa: E501


def outcome(reader: str, status: int, body: bytes) -> str:
    """What a 404 of ``body`` becomes behind the backend's gone-mapping helper."""
    read_fault, helper = READERS[reader]
    try:
        with helper():
            check_response(Response(status, "", {}, body), ROUTE, read_fault)
    except ServerGone:
        return "gone"
    except ApiTemporaryError as exc:
        return f"retry:{exc.code}"
    except ApiPermanentError as exc:
        return f"fail:{exc.code}"
    return "ok"


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize(
    "body",
    [
        json.dumps(APIGW).encode(),
        json.dumps({"error": {"code": "APIGW.0101", "message": APIGW["error_msg"]}}).encode(),
        b"",
        b"<html><body><h1>404 Not Found</h1>nginx</body></html>",
        json.dumps(
            {"itemNotFound": {"code": 404, "message": "The resource could not be found."}}
        ).encode(),
    ],
)
def test_a_404_naming_no_server_is_a_retryable_api_error(reader: str, body: bytes) -> None:
    assert outcome(reader, 404, body) == "retry:api_not_found"


def test_the_server_naming_shapes_are_gone() -> None:
    server = str(uuid.uuid4())
    nova = {"itemNotFound": {"code": 404, "message": f"Instance {server} could not be found."}}
    assert outcome("nova", 404, json.dumps(nova).encode()) == "gone"
    ecs = {"error": {"code": "Ecs.0114", "message": f"Instance {server} could not be found."}}
    assert outcome("huawei-v1", 404, json.dumps(ecs).encode()) == "gone"


def test_a_port_not_found_is_not_the_server_gone() -> None:
    """Ecs.0307 is a port query failing; Nova's 404 for a port names the port."""
    ecs = {"error": {"code": "Ecs.0307", "message": "Port id p-1 could not be found."}}
    assert outcome("huawei-v1", 404, json.dumps(ecs).encode()) == "fail:port_not_found"
    nova = {"itemNotFound": {"code": 404, "message": "Port id p-1 could not be found."}}
    assert outcome("nova", 404, json.dumps(nova).encode()) == "fail:port_not_found"


SERVER_WORDS = ("instance", "server", "ecs.0114")
words = st.text(
    alphabet=st.characters(codec="ascii", categories=("L", "N", "P", "Zs")), max_size=60
)
codes = st.one_of(st.sampled_from(["APIGW.0101", "APIGW.0001", "404", "Common.0002", ""]), words)
bodies = st.one_of(
    st.binary(max_size=80),
    st.builds(lambda c, m: json.dumps({"error_code": c, "error_msg": m}).encode(), codes, words),
    st.builds(lambda c, m: json.dumps({"error": {"code": c, "message": m}}).encode(), codes, words),
    st.builds(lambda k, m: json.dumps({k: {"code": 404, "message": m}}).encode(), words, words),
    st.builds(lambda m: f"<html><title>404</title>{m}</html>".encode(), words),
)


@given(reader=st.sampled_from(sorted(READERS)), body=bodies)
def test_only_a_server_naming_404_is_gone(reader: str, body: bytes) -> None:
    """Hostile search: any 404 body that does not name the server is never ``ServerGone``."""
    if any(word in body.decode("utf-8", "replace").lower() for word in SERVER_WORDS):
        return
    assert outcome(reader, 404, body) != "gone"
