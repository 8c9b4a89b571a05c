"""The HTTP entry answers 400 (never 500, never a traceback) for any body it cannot use."""

from __future__ import annotations

import base64
import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from function.transport.session import Session, TransportTimeout

ROOT = Path(__file__).resolve().parents[2]
NOT_A_UUID = st.text(max_size=40).filter(lambda s: len(s) not in (32, 36))
SMN_TOPIC = "urn:smn:cn-north-4:0605767a5a80d5762fe6c0125d3c5b0e:as-lifecycle-hooks"


@pytest.fixture(scope="module")
def client() -> Iterator[FlaskClient]:
    mp = pytest.MonkeyPatch()
    mp.setenv("NICATTACH_POLICY", str(ROOT / "examples" / "policy.yaml"))
    mp.setenv("NICATTACH_ECS_ENDPOINT", "http://127.0.0.1:9")  # nothing may be called
    mp.setenv("NICATTACH_TOKEN", "t")
    mp.setenv("NICATTACH_SMN_TOPICS", SMN_TOPIC)  # listed: the signature check is reached
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
@given(
    st.dictionaries(
        st.sampled_from(["ce-specversion", "ce-id", "ce-source", "ce-type", "Content-Type"]),
        st.text(max_size=12),
    ),
    st.binary(max_size=50),
)
def test_arbitrary_cloudevent_headers(
    client: FlaskClient, headers: dict[str, str], body: bytes
) -> None:
    check(client, body, {k: v for k, v in headers.items() if v.isprintable()})


# -- forged SMN messages (issue 22): every one is refused, none reaches an API ----------

HOOK = json.loads(
    json.loads((ROOT / "events" / "smn-as-hook-launching.json").read_text())["record"][0]["smn"][
        "message"
    ]
)
CERT_URLS = st.sampled_from(
    [
        "https://evil.example.com/smn/c.pem",
        "http://smn.cn-north-4.myhuaweicloud.com/c.pem",
        "https://smn.cn-north-4.myhuaweicloud.com.evil.com/c.pem",
        "",
        "https://smn.cn-north-4.myhuaweicloud.com@evil.com/c.pem",
        "file:///etc/passwd",
    ]
) | st.text(max_size=30)
SMN_FIELDS = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation", "notification"]
        ),
        "topic_urn": st.sampled_from([SMN_TOPIC, "urn:smn:cn-north-4:other:t"])
        | st.text(max_size=20),
    },
    optional={
        "message": st.just(json.dumps(HOOK)) | st.text(max_size=40),
        "message_id": st.text(max_size=12),
        "subject": st.text(max_size=12),
        "timestamp": st.sampled_from(["2026-11-30T09:58:11Z", "now", ""]) | st.text(max_size=25),
        "signature": st.text(max_size=40)
        | st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
        "signature_version": st.sampled_from(["v1", "V1", "v2"]),
        "signing_cert_url": CERT_URLS,
        "subscribe_url": st.sampled_from(["https://127.0.0.1:9/confirm", "x"]),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=SUPPRESS)
@given(SMN_FIELDS, st.booleans())
def test_forged_smn_messages_are_refused(
    client: FlaskClient, message: dict[str, object], with_header: bool
) -> None:
    """Tried: every SMN message type, listed and other topics, hook and other messages,
    any timestamp, random and base64 signatures, certificate URLs off Huawei's SMN hosts
    (look-alikes, user info, http, other schemes), with and without X-SMN-MESSAGE-TYPE."""
    headers = {"Content-Type": "application/json"}
    if with_header:
        headers["X-SMN-MESSAGE-TYPE"] = str(message["type"])
    response = client.post("/", data=json.dumps(message), headers=headers)
    text = response.get_data(as_text=True)
    if response.status_code == 200:  # not an SMN message at all (e.g. type "notification")
        assert response.get_json()["outcome"] == "ignored", text
        return
    assert response.status_code in (400, 403), text
    assert "Traceback" not in text and response.get_json()["error"]["message"]


# -- slow status lines and headers (issue 22): the total bounds them too ---------------

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
PAUSE_S, TOTAL_S = 0.3, 0.2


class _Pieces(socketserver.BaseRequestHandler):
    """Sends ``HEAD`` in the pieces the test chose, ``PAUSE_S`` apart; ``hung_up`` says
    whether the client had closed before the head's last piece was due."""

    cuts: tuple[int, ...] = ()
    hung_up: bool | None = None
    done = threading.Event()

    def handle(self) -> None:
        self.request.recv(65536)
        edges = [0, *self.cuts, len(HEAD)]
        try:
            for index, (start, end) in enumerate(zip(edges, edges[1:], strict=False)):
                if index and self._closed():
                    type(self).hung_up = True
                    return
                self.request.sendall(HEAD[start:end])
                time.sleep(PAUSE_S)
            type(self).hung_up = False
        except OSError:
            type(self).hung_up = True
        finally:
            type(self).done.set()

    def _closed(self) -> bool:
        try:
            return self.request.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False


@pytest.fixture(scope="module")
def pieces() -> Iterator[tuple[str, type[_Pieces]]]:
    handler = type("Handler", (_Pieces,), {})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    server.shutdown()
    server.server_close()


HEADER_END = HEAD.index(b"\r\n\r\n") + 4


@settings(max_examples=12, deadline=None, suppress_health_check=SUPPRESS)
@given(st.lists(st.integers(1, HEADER_END - 1), min_size=1, max_size=4, unique=True))
def test_an_answer_whose_head_arrives_in_pieces_ends_at_the_total(
    pieces: tuple[str, type[_Pieces]], cuts: list[int]
) -> None:
    """Tried: the status line and headers cut at generated places (inside the status
    line, between headers, before the blank line), each piece a pause longer than the
    request's total after the last: the request always ends as a timeout."""
    url, handler = pieces
    handler.cuts, handler.hung_up = tuple(sorted(cuts)), None
    handler.done.clear()
    with Session() as session, pytest.raises(TransportTimeout):
        session.request("GET", url, timeout=(1.0, 1.0), total=TOTAL_S)
    assert handler.done.wait(30)
    assert handler.hung_up is True  # it left mid-head, not after the head was all in
