"""Session's public contract over TLS (a throwaway trustme CA), and under threads.

Verification is always on: a server whose certificate the session's CAs do not vouch
for, or that names another host, or that has expired, is a ``TransportError`` whose
message starts with ``SSLError``; with the right CA, keep-alive holds over TLS as over
plain TCP. Sixteen threads share one session and each gets its own answer.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import traceback

import pytest
import trustme
from wire_support import Scripted, answers, bodies, head_of, hold, ok, serving

from function.transport.session import Session, TransportError, TransportTimeout

TIMEOUT = (2.0, 2.0)
SECRET = "s3cr3t-canary-token"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_pem(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


@pytest.fixture(scope="module")
def good(ca: trustme.CA) -> ssl.SSLContext:
    return _context(ca.issue_cert("127.0.0.1", "localhost"))


def test_https_with_the_servers_ca(good: ssl.SSLContext, ca_pem: str) -> None:
    with serving(answers(ok(b"secure")), tls=good) as server, Session(ca_certs=ca_pem) as session:
        answer = session.request("GET", server.url + "/a?b=1", timeout=TIMEOUT)
        by_name = session.request("GET", f"https://localhost:{server.port}/", timeout=TIMEOUT)
    assert (answer.status_code, answer.content, by_name.content) == (200, b"secure", b"secure")
    assert head_of(server.requests[0])[0] == "GET /a?b=1 HTTP/1.1"


def test_keep_alive_over_tls(good: ssl.SSLContext, ca_pem: str) -> None:
    script = answers(ok(b"1"), ok(b"2"), ok(b"3"))
    with serving(script, tls=good) as server, Session(ca_certs=ca_pem) as session:
        assert bodies(server, 3, session) == [b"1", b"2", b"3"]
    assert server.accepted == 1


def test_a_closed_idle_tls_connection_is_not_reused(good: ssl.SSLContext, ca_pem: str) -> None:
    script = answers(ok(b"first"), ok(b"second"), close=True)
    with serving(script, tls=good) as server, Session(ca_certs=ca_pem) as session:
        assert bodies(server, 1, session) == [b"first"]
        assert server.wait_finished(1)
        assert bodies(server, 1, session) == [b"second"]
    assert server.accepted == 2


def _refused_tls(server: Scripted, session: Session) -> TransportError:
    with pytest.raises(TransportError) as refused:
        session.request(
            "GET", server.url + "/x?token=q", headers={"X-Auth-Token": SECRET}, timeout=TIMEOUT
        )
    assert str(refused.value).startswith("SSLError"), str(refused.value)
    assert not isinstance(refused.value, TransportTimeout)
    assert SECRET not in "".join(traceback.format_exception(refused.value))
    assert server.requests == [], "no request is sent before the server is verified"
    return refused.value


def test_a_server_the_default_cas_do_not_vouch_for(good: ssl.SSLContext) -> None:
    with serving(answers(ok()), tls=good) as server, Session() as session:
        refused = _refused_tls(server, session)
    assert f"https://127.0.0.1:{server.port}" in str(refused)


def test_a_certificate_for_another_host(ca: trustme.CA, ca_pem: str) -> None:
    other = _context(ca.issue_cert("other.example", "10.9.8.7"))
    with serving(answers(ok()), tls=other) as server, Session(ca_certs=ca_pem) as session:
        _refused_tls(server, session)


def test_an_expired_certificate(ca: trustme.CA, ca_pem: str) -> None:
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    expired = ca.issue_cert(
        "127.0.0.1", not_before=past, not_after=past + datetime.timedelta(days=1)
    )
    with serving(answers(ok()), tls=_context(expired)) as server:
        with Session(ca_certs=ca_pem) as session:
            _refused_tls(server, session)


def _no_tls(sock: socket.socket, request: bytes, number: int) -> bool:
    return False  # never called: a ClientHello is no HTTP request; the server stays mute


def test_a_server_that_never_completes_the_handshake(ca_pem: str) -> None:
    with serving(_no_tls) as server, Session(ca_certs=ca_pem) as session:
        with pytest.raises(TransportError):
            url = f"https://127.0.0.1:{server.port}/"
            session.request("GET", url, timeout=(0.5, 0.5), total=1.0)


def test_plain_http_on_an_https_url(ca_pem: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def speak_plain() -> None:  # answers the ClientHello in clear text
            sock, _ = listener.accept()
            with sock:
                sock.recv(65536)
                sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                hold(sock, 2.0)

        thread = threading.Thread(target=speak_plain, daemon=True)
        thread.start()
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/"
        with Session(ca_certs=ca_pem) as session, pytest.raises(TransportError) as refused:
            session.request("GET", url, timeout=TIMEOUT)
        thread.join(5)
    assert str(refused.value).startswith("SSLError"), str(refused.value)


# -- 7. one session, many threads ------------------------------------------------------


def _echo(sock: socket.socket, request: bytes, number: int) -> bool:
    path = head_of(request)[0].split(" ")[1].encode()
    sock.sendall(ok(path))
    return True


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_sixteen_threads_share_one_session(good: ssl.SSLContext, ca_pem: str, tls: bool) -> None:
    results: dict[str, bytes] = {}
    errors: list[BaseException] = []

    def worker(session: Session, url: str, thread: int) -> None:
        for index in range(20):
            path = f"/t{thread}/r{index}?q={thread * 100 + index}"
            try:
                results[path] = session.request("GET", url + path, timeout=TIMEOUT).content
            except BaseException as exc:  # reported below, with its path
                errors.append(exc)

    with serving(_echo, tls=good if tls else None) as server, Session(ca_certs=ca_pem) as session:
        threads = [
            threading.Thread(target=worker, args=(session, server.url, n)) for n in range(16)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert errors == [] and len(results) == 16 * 20
    assert all(body == path.encode() for path, body in results.items())
    assert server.accepted <= 32, "connections are kept alive and reused"
