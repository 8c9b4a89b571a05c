"""transport.py: keep-alive, error translation, and the environment's proxy settings."""

from __future__ import annotations

import http.client
import http.server
import threading
from typing import ClassVar
from urllib.parse import urlsplit

import pytest

from emulator.server import EmulatorServer
from function.transport.session import Session, TransportError, TransportTimeout


def test_keep_alive_and_answers(emulator: EmulatorServer) -> None:
    with Session() as session:
        for _ in range(5):
            answer = session.request("GET", f"{emulator.url}/v2.1/p/servers", timeout=(2, 5))
            assert answer.status_code == 401 and "error" in answer.json()
    assert emulator.connections_accepted == 1


def test_errors_are_translated_without_the_url() -> None:
    with Session() as session, pytest.raises(TransportError) as refused:
        session.request("GET", "http://127.0.0.1:9/secret?token=abc", timeout=(2, 2))
    assert not isinstance(refused.value, TransportTimeout), "refused is not a timeout"
    assert "token" not in str(refused.value) and "secret" not in str(refused.value)
    assert "http://127.0.0.1:9" in str(refused.value)  # where, so the operator can check it


def test_proxy_from_the_environment_is_used_unless_no_proxy(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with Session() as session, pytest.raises(TransportError):
        session.request("GET", f"{emulator.url}/", timeout=(2, 2))
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with Session() as session:
        assert session.request("GET", f"{emulator.url}/", timeout=(2, 2)).status_code == 200


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A plain HTTP forward proxy: the absolute URI it is asked for, fetched and relayed."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.seen.append(self.requestline)
        target = urlsplit(self.path)
        upstream = http.client.HTTPConnection(target.netloc, timeout=5)
        sent = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        upstream.request("GET", target.path or "/", headers=sent)
        answer = upstream.getresponse()
        body = answer.read()
        self.send_response(answer.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        upstream.close()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_request_goes_through_the_environment_proxy(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    _ForwardProxy.seen.clear()
    try:
        with Session() as session:
            for _ in range(2):  # the proxy's connection kept too
                answer = session.request("GET", f"{emulator.url}/v2.1/p/servers", timeout=(2, 5))
                assert answer.status_code == 401 and "error" in answer.json()
                assert answer.headers.get("content-length") == answer.headers["Content-Length"]
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert _ForwardProxy.seen == [f"GET {emulator.url}/v2.1/p/servers HTTP/1.1"] * 2
