"""The socket side: a threaded HTTP/1.1 server that hands ``Request``s to an app.

Connections are kept alive and served on a daemon thread each (a call that
sleeps its latency holds only its own thread), so a client that never hangs
up cannot keep the process from exiting; the backlog takes bursts of
hundreds of new connections. The app sees no
sockets: it maps a ``Request`` to a ``Response`` (status 0 = hang up).
"""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from emulator.core.wire import Request, Response

#: Idle keep-alive connections are closed after this many seconds.
IDLE_TIMEOUT = 60.0
#: The listen backlog. ``socketserver``'s default of 5 makes the kernel drop the SYNs of
#: a burst of new connections (16 clients at once is enough), and each dropped one is
#: retried a second later, which distorts every concurrent measurement.
REQUEST_QUEUE_SIZE = 1024


class App(Protocol):
    def handle(self, request: Request) -> Response: ...


class HTTPServer(ThreadingHTTPServer):
    """Serves ``app`` on ``address``; counts the connections it accepts."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = REQUEST_QUEUE_SIZE

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, Handler)
        self.app = app
        self.connections = 0

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hang up; anything else still goes to stderr."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1  # only the serving thread accepts, so no lock is needed
        super().process_request(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nic-autoattach-emulator"
    timeout = IDLE_TIMEOUT
    #: Headers and body go out in two writes; without this, Nagle adds 40 ms a call.
    disable_nagle_algorithm = True
    server: HTTPServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log (``GET /_admin/requests``) is the record."""

    def _read_body(self) -> bytes:
        text = self.headers.get("Content-Length") or "0"
        if not text.isdigit():
            self.close_connection = True  # the body's end is unknown: drop the connection
            return b""
        return self.rfile.read(int(text))

    def _request(self) -> Request:
        parts = urlsplit(self.path)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self._read_body(),
            base_url=f"http://{host}",
            raw_query=parts.query,
        )

    def _serve(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            response = Response(411, {"badRequest": {"code": 411, "message": "Length Required"}})
        else:
            response = self.server.app.handle(self._request())
        if response.status == 0:  # an injected dropped connection: hang up without a word
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        payload = response.payload()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
