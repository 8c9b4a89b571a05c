"""Session's public contract on the wire: framing, keep-alive, headers, limits, requests.

Each test runs a small real server (``wire_support.Scripted``) that writes scripted raw
bytes and records what it read, so the same tests hold whatever ``Session`` is built
on. Where the client of the day does something a production HTTP client should not,
the test asserts the right behaviour (the urllib3-based client failed seven of them:
1xx other than 100, padded values, a '²' length, the timeout pair, three header checks).
"""

from __future__ import annotations

import socket

import pytest
from wire_support import HOLD_S, Script, answers, bodies, fetch, hold, ok, serving

from function.transport.session import Session, TooLarge, TransportError, TransportTimeout

# -- 1. framing ------------------------------------------------------------------------

CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b'5;name=value\r\nhello\r\n1\r\n,\r\n6;x;y="q"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n'
)


def test_a_content_length_body_is_read_whole() -> None:
    with serving(answers(ok(b'{"servers": []}', "Content-Type: application/json"))) as server:
        answer = fetch(server)
    assert (answer.status_code, answer.reason) == (200, "OK")
    assert answer.json() == {"servers": []} and answer.text == '{"servers": []}'


def test_a_chunked_body_with_extensions_and_trailers_then_the_next_answer() -> None:
    with serving(answers(CHUNKED, ok(b"next"))) as server:
        assert bodies(server, 2) == [b"hello, world", b"next"]
    assert server.accepted == 1, "the trailers were consumed and the connection kept"


def test_a_body_delimited_by_the_connection_close() -> None:
    body = bytes(range(256)) * 12
    reply = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body
    with serving(answers(reply, close=True)) as server:
        assert bodies(server, 2) == [body, body]
    assert server.accepted == 2


@pytest.mark.parametrize(
    ("method", "reply"),
    [
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
        ("GET", b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 10\r\n\r\n'),
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
        # a length past the session's limit announces a body that never comes: not too large
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 999999999\r\n\r\n"),
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n"),
    ],
    ids=["204", "304-with-length", "HEAD-with-length", "304-huge-length", "HEAD-huge-length"],
)
def test_answers_without_a_body_leave_the_connection_usable(method: str, reply: bytes) -> None:
    with serving(answers(reply, ok(b"next"))) as server, Session() as session:
        first = fetch(server, "/", session, method=method)
        assert first.content == b""
        assert fetch(server, "/", session).content == b"next"
    assert server.accepted == 1


@pytest.mark.parametrize(
    "interim",
    [
        b"HTTP/1.1 100 Continue\r\n\r\n",
        # urllib3's http.client skipped only 100 (a 103 was the answer, the real one lost);
        # RFC 9110 15.2: a client parses any 1xx before the final answer
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
    ],
    ids=["100", "103"],
)
def test_an_interim_answer_before_the_real_one(interim: bytes) -> None:
    with serving(answers(interim + ok(b"real"), ok(b"next"))) as server:
        with Session() as session:
            answer = fetch(server, "/", session)
            assert (answer.status_code, answer.content) == (200, b"real")
            assert fetch(server, "/", session).content == b"next"


@pytest.mark.parametrize(
    ("reply", "close"),
    [
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", False),
        (b"HTTP/1.0 200 OK\r\n\r\nok", True),
    ],
    ids=["length", "until-close"],
)
def test_an_http_1_0_answer_is_read_and_its_connection_not_reused(
    reply: bytes, close: bool
) -> None:
    with serving(answers(reply, close=close)) as server:
        assert bodies(server, 2) == [b"ok", b"ok"]
    assert server.accepted == 2, "HTTP/1.0 without keep-alive: one answer per connection"


def test_a_status_line_without_a_reason() -> None:
    with serving(answers(b"HTTP/1.1 503\r\nContent-Length: 4\r\n\r\nbusy")) as server:
        answer = fetch(server)
    assert (answer.status_code, answer.reason, answer.content) == (503, "", b"busy")


def test_transfer_encoding_wins_over_content_length_or_the_answer_is_refused() -> None:
    both = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
    with serving(answers(both + b"3\r\nabc\r\n0\r\n\r\n", ok(b"next"))) as server:
        with Session() as session:
            try:
                assert fetch(server, "/", session).content == b"abc"
            except TransportError:
                pass  # refusing it is allowed too (RFC 9112 6.3); a desync is not
            assert fetch(server, "/", session).content == b"next"


# -- 2. keep-alive -------------------------------------------------------------------------


def test_several_requests_share_one_connection() -> None:
    with serving(answers(ok(b"1"), ok(b"2"), ok(b"3"), ok(b"4"))) as server:
        assert bodies(server, 4) == [b"1", b"2", b"3", b"4"]
    assert server.accepted == 1 and len(server.requests) == 4


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    with serving(answers(ok(b"first"), ok(b"second"), close=True)) as server:
        with Session() as session:
            assert fetch(server, "/", session).content == b"first"
            assert server.wait_finished(1)  # it hung up after a keep-alive answer
            assert fetch(server, "/", session).content == b"second"
    assert server.accepted == 2


def test_an_answer_with_connection_close_is_not_reused() -> None:
    with serving(answers(ok(b"a", "Connection: close"), ok(b"b"))) as server:
        assert bodies(server, 2) == [b"a", b"b"]  # the server would have answered on it
    assert server.accepted == 2


def test_bytes_after_a_complete_answer_are_never_the_next_answer() -> None:
    with serving(answers(ok(b"one") + ok(b"stale"), ok(b"two"))) as server:
        assert bodies(server, 2) == [b"one", b"two"]


# -- 3. answer headers -------------------------------------------------------------------


def test_answer_headers_are_read_case_insensitively() -> None:
    reply = ok(b"{}", "Content-Type: application/json", "X-Openstack-Request-Id: req-1")
    with serving(answers(reply)) as server:
        headers = fetch(server).headers
    assert headers.get("content-length") == headers.get("Content-Length") == "2"
    assert headers.get("CONTENT-TYPE") == "application/json"
    assert headers.get("x-openstack-request-id") == "req-1" and "X-OPENSTACK-REQUEST-ID" in headers
    assert headers.get("X-Absent") is None


def test_a_repeated_header_is_joined_with_commas() -> None:
    with serving(answers(ok(b"", "Vary: Accept", "Vary: X-Auth-Token"))) as server:
        assert fetch(server).headers.get("vary") == "Accept, X-Auth-Token"


def test_header_values_lose_surrounding_whitespace() -> None:
    with serving(answers(ok(b"", "X-Padded: \t value \t"))) as server:
        assert fetch(server).headers.get("X-Padded") == "value"


def test_retry_after_of_a_429() -> None:
    reply = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n"
    with serving(answers(reply)) as server:
        answer = fetch(server)
    assert answer.status_code == 429
    assert answer.headers.get("Retry-After") == answer.headers.get("retry-after") == "7"


# -- 4. limits and errors ------------------------------------------------------------------


def _sized(size: int, framing: str) -> bytes:
    body = b"x" * size
    if framing == "length":
        return ok(body)
    if framing == "chunked":
        chunks = b"".join(b"64\r\n" + body[i : i + 100] + b"\r\n" for i in range(0, size, 100))
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_an_answer_over_max_answer_bytes_is_too_large(framing: str) -> None:
    script = answers(_sized(5000, framing), ok(b"next"), close=framing == "close")
    with serving(script) as server, Session(max_answer_bytes=1000) as session:
        with pytest.raises(TooLarge):
            fetch(server, "/", session)
        assert fetch(server, "/", session).content == b"next"  # no leftover taken as an answer


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_an_answer_of_exactly_max_answer_bytes_is_read(framing: str) -> None:
    with serving(answers(_sized(1000, framing), close=framing == "close")) as server:
        with Session(max_answer_bytes=1000) as session:
            assert fetch(server, "/", session).content == b"x" * 1000


@pytest.mark.parametrize(
    "reply",
    [
        b"HELLO\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
        b"\x00\xff\xfe garbage \x80\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk",
        b"HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 2\r\n\r\nok",
        # '²'.isdigit() is True: urllib3's path let int()'s ValueError escape untranslated
        b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\nok",
    ],
    ids=[
        "hello",
        "status-not-a-number",
        "status-two-digits",
        "binary",
        "two-lengths",
        "header-without-colon",
        "superscript-length",
    ],
)
def test_a_malformed_answer_is_a_transport_error(reply: bytes) -> None:
    with serving(answers(reply)) as server, pytest.raises(TransportError):
        with Session() as session:
            session.request("GET", server.url + "/", timeout=(0.5, 0.5))


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
    ],
    ids=["length", "inside-a-chunk", "before-the-last-chunk"],
)
def test_a_server_that_hangs_up_mid_body_is_a_transport_error(reply: bytes) -> None:
    with serving(answers(reply, close=True)) as server, pytest.raises(TransportError):
        fetch(server)


def _silent(sock: socket.socket, request: bytes, number: int) -> bool:
    hold(sock)  # then hang up: a client without a read timeout sees a reset, not a timeout
    return False


def _trickle(sock: socket.socket, request: bytes, number: int) -> bool:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    for _ in range(int(HOLD_S / 0.05)):  # every byte well within the read timeout
        sock.sendall(b"x")
        hold(sock, 0.05)
    return False


def test_a_server_that_never_answers_is_a_timeout() -> None:
    with serving(_silent) as server, Session() as session, pytest.raises(TransportTimeout):
        session.request("GET", server.url + "/", timeout=(0.5, 0.5))


def test_the_read_timeout_is_the_second_of_the_pair() -> None:
    """urllib3.Timeout(*timeout) was Timeout(total=connect, connect=read): every read was
    bounded by the connect timeout."""

    def slow(sock: socket.socket, request: bytes, number: int) -> bool:
        hold(sock, 0.6)  # longer than the connect timeout, well within the read timeout
        sock.sendall(ok(b"late"))
        return True

    with serving(slow) as server, Session() as session:
        assert session.request("GET", server.url + "/", timeout=(0.2, 5.0)).content == b"late"


def test_total_bounds_an_answer_that_trickles_in() -> None:
    with serving(_trickle) as server, Session() as session, pytest.raises(TransportTimeout):
        session.request("GET", server.url + "/", timeout=(2.0, 2.0), total=0.5)


def _endless_head(sock: socket.socket, request: bytes, number: int) -> bool:
    sock.sendall(b"HTTP/1.1 200 OK\r\n")
    for index in range(100_000):  # 8 MB of header lines, unless the client gives up
        sock.sendall(b"X-Header-%06d: %s\r\n" % (index, b"v" * 64))
    return False


@pytest.mark.parametrize(
    "script",
    [
        answers(ok(b"ok", "X-Long: " + "a" * 100_000)),
        answers(ok(b"ok", *(f"X-Many-{i}: v" for i in range(20_000)))),
        _endless_head,
    ],
    ids=["one-100k-line", "20k-lines", "endless"],
)
def test_an_oversized_head_is_a_transport_error(script: Script) -> None:
    with serving(script) as server, pytest.raises(TransportError):
        fetch(server)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_refused_connection_names_the_origin_only() -> None:
    port = _free_port()
    with Session() as session, pytest.raises(TransportError) as refused:
        session.request("GET", f"http://127.0.0.1:{port}/v2.1/secret-path?token=abc")
    message = str(refused.value)
    assert f"http://127.0.0.1:{port}" in message and not isinstance(refused.value, TransportTimeout)
    assert "secret-path" not in message and "token" not in message and "abc" not in message
