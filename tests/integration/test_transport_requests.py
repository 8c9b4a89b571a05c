"""Session's public contract, the request side: what reaches the server, what never does,
and what an error may say; then any answer bytes at all (hypothesis).

The server records the raw bytes it read (``wire_support.Scripted``); the assertions are
on those bytes, so they hold whatever ``Session`` is built on.
"""

from __future__ import annotations

import socket
import string
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wire_support import Script, Scripted, answers, head_of, hold, ok, serving

from function.transport.session import Response, Session, TransportError

SECRET = "s3cr3t-canary-token"
QUERY_SECRET = "q5ecret-canary"
TIMEOUT = (2.0, 2.0)


def _send(
    server: Scripted,
    path: str = "/",
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """One request; the raw bytes the server read for it."""
    with Session() as session:
        session.request(method, server.url + path, data, headers, timeout=TIMEOUT)
    assert len(server.requests) == 1
    return server.requests[0]


# -- 5. the request as sent ------------------------------------------------------------


def test_a_get_reaches_the_server_as_sent() -> None:
    headers = {"Accept": "application/json", "X-Custom": "value 1", "X-Auth-Token": "t"}
    with serving(answers(ok())) as server:
        raw = _send(server, "/v2.1/p/servers/detail?name=a&limit=2", headers=headers)
    line, sent, body = head_of(raw)
    assert line == "GET /v2.1/p/servers/detail?name=a&limit=2 HTTP/1.1"
    assert sent["host"] == [f"127.0.0.1:{server.port}"]
    assert sent["accept"] == ["application/json"] and sent["x-custom"] == ["value 1"]
    assert sent["x-auth-token"] == ["t"]
    assert "content-length" not in sent and "transfer-encoding" not in sent and body == b""


@pytest.mark.parametrize(
    ("method", "data", "length"),
    [
        ("POST", b'{"interfaceAttachment": {}}', "27"),
        ("PUT", b"\x00\xffbinary", "8"),
        ("POST", None, "0"),
        ("POST", b"", "0"),
        ("DELETE", None, None),
        ("HEAD", None, None),
    ],
)
def test_a_body_is_sent_with_its_length(
    method: str, data: bytes | None, length: str | None
) -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    with serving(answers(reply)) as server:
        raw = _send(server, "/x", method=method, data=data, headers={"Content-Type": "a/b"})
    line, sent, body = head_of(raw)
    assert line == f"{method} /x HTTP/1.1"
    assert sent.get("content-length") == (None if length is None else [length])
    assert body == (data or b"") and "transfer-encoding" not in sent


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/a b", "/a%20b"),
        ("/caf\u00e9", "/caf%C3%A9"),
        ("/a%20b", "/a%20b"),  # already encoded: not encoded twice
        ("/s?q=a b&x=\u00e9", "/s?q=a%20b&x=%C3%A9"),
        ("/s?q=%2F", "/s?q=%2F"),
        ("/a#fragment", "/a"),
        ("/a\r\nX-Injected: 1", "/a%0D%0AX-Injected:%201"),
    ],
    ids=["space", "non-ascii", "encoded", "query", "encoded-query", "fragment", "crlf"],
)
def test_a_path_is_sent_percent_encoded(path: str, target: str) -> None:
    with serving(answers(ok())) as server:
        line, sent, _ = head_of(_send(server, path))
    assert line == f"GET {target} HTTP/1.1" and "x-injected" not in sent


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Evil": "a\r\nX-Injected: 1"},
        {"X-Evil": "a\nX-Injected: 1"},
        {"X-Evil": "a\rX-Injected: 1"},
        {"X-Evil\r\nX-Injected": "1"},
        {"X-Evil: 1\r\nX-Injected": "1"},
        {"X-Evil:X-Injected": "1"},
        {"X-Evil": "a\x00b"},  # RFC 9110 5.5: NUL is invalid (urllib3 sent it as is)
        {"X-Evil": "a\r\n X-Injected: 1"},  # RFC 9112 5.2: no folds (urllib3 sent it)
        {"X-Evil X-Injected": "1"},  # a name is a token (urllib3 sent it)
    ],
    ids=["crlf", "lf", "cr", "name-crlf", "name-colon-crlf", "name-colon", "nul", "fold", "space"],
)
def test_a_header_injection_is_refused_and_nothing_is_sent(headers: dict[str, str]) -> None:
    with serving(answers(ok())) as server, Session() as session:
        with pytest.raises(TransportError) as refused:
            session.request("GET", server.url + "/", headers=headers, timeout=TIMEOUT)
        server.wait_finished(server.accepted)  # a connection opened before the check: closed
    assert bytes(server.received) == b"" and server.requests == []
    assert "X-Injected" not in str(refused.value)


# -- no secret in an error ---------------------------------------------------------------


def _silent(sock: socket.socket, request: bytes, number: int) -> bool:
    hold(sock)
    return False


SCENARIOS: dict[str, tuple[Script | None, dict[str, str]]] = {
    "refused": (None, {}),
    "timeout": (_silent, {}),
    "garbage": (answers(b"HELLO\r\n\r\n"), {}),
    "mid-body": (answers(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab", close=True), {}),
    "too-large": (answers(ok(b"x" * 2000)), {}),
    "bad-header": (answers(ok()), {"X-Other": "a\r\nb"}),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_error_carries_a_header_value_or_the_query(scenario: str) -> None:
    script, extra = SCENARIOS[scenario]
    headers = {"X-Auth-Token": SECRET, "Authorization": f"Bearer {SECRET}", **extra}
    with _origin(script) as port, Session(max_answer_bytes=1000) as session:
        url = f"http://127.0.0.1:{port}/v2.1/servers?token={QUERY_SECRET}"
        with pytest.raises(TransportError) as failed:
            session.request("GET", url, headers=headers, timeout=(0.5, 0.5))
    told = "".join(traceback.format_exception(failed.value))  # what a log would show
    assert SECRET not in told and QUERY_SECRET not in told and "/v2.1" not in str(failed.value)


@contextmanager
def _origin(script: Script | None) -> Iterator[int]:
    """The port of a server running ``script``, or of nothing at all (refused)."""
    if script is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        yield port
        return
    with serving(script) as server:
        yield server.port


# -- 8. any answer bytes: a Response or a TransportError, within the total -------------


class _Fuzzed:
    reply = b""
    close = True


def _fuzzed(sock: socket.socket, request: bytes, number: int) -> bool:
    sock.sendall(_Fuzzed.reply)
    if not _Fuzzed.close:
        hold(sock)
    return False


TOKEN = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=12)
VALUE = st.text(string.ascii_letters + string.digits + " -/;=,.\t", max_size=20)
LENGTHS = st.sampled_from(["-1", "1, 1", "1,2", " 5", "0x10", "+5", "1e3", "", "9" * 20])


@st.composite
def near_valid(draw: st.DrawFn) -> bytes:
    """A status line, headers and a body that are almost right: any status, lengths that
    lie, chunk sizes that lie, a cut anywhere."""
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b"http/1.1", b"HTTP/9"]))
    status = draw(st.integers(0, 1000) | st.sampled_from([100, 103, 200, 204, 304, 429, 503]))
    head = [b"%s %d %s" % (version, status, draw(VALUE).encode())]
    head += [
        f"{name}: {value}".encode()
        for name, value in draw(st.lists(st.tuples(TOKEN, VALUE), max_size=4))
    ]
    body = draw(st.binary(max_size=200))
    framing = draw(st.sampled_from(["length", "chunked", "none"]))
    if framing == "length":
        declared = draw(st.integers(0, 300).map(str) | st.just(str(len(body))) | LENGTHS)
        head.append(b"Content-Length: " + declared.encode())
    elif framing == "chunked":
        head.append(b"Transfer-Encoding: chunked")
        sizes = draw(st.lists(st.integers(0, 40), max_size=5))
        chunks = [
            b"%x\r\n%s\r\n" % (draw(st.sampled_from([s, s + 1, max(0, s - 1)])), b"y" * s)
            for s in sizes
        ]
        body = b"".join(chunks) + draw(st.sampled_from([b"0\r\n\r\n", b"0\r\nT: v\r\n\r\n", b""]))
    raw = b"\r\n".join(head) + b"\r\n\r\n" + body
    return raw[: draw(st.integers(0, len(raw)))] if draw(st.booleans()) else raw


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Scripted]:
    with serving(_fuzzed) as server:
        yield server


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300) | near_valid(), st.booleans())
def test_any_answer_is_a_response_or_a_transport_error(
    fuzzed: Scripted, reply: bytes, close: bool
) -> None:
    _Fuzzed.reply, _Fuzzed.close = reply, close
    started = time.monotonic()
    with Session(max_answer_bytes=1000) as session:
        try:
            answer = session.request("GET", fuzzed.url + "/", timeout=(0.25, 0.25), total=2.0)
        except TransportError:
            pass
        else:
            assert isinstance(answer, Response) and isinstance(answer.status_code, int)
            assert len(answer.content) <= 1000
    assert time.monotonic() - started < 5.0, "did not hang past the total"
