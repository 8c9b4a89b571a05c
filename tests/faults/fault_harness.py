"""What the fault suite does to a function copy and to its sink: a copy killed mid-flight
(as under SIGKILL) and a hostile sink."""

from __future__ import annotations

import contextlib
import http.server
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

from fault_figures import DEADLINE_S

from function.transport.session import Response, Session


class Killed(BaseException):
    """The copy is gone (SIGKILL): nothing after this point runs, no handler sees it."""


class DyingSession(Session):
    """A session whose copy dies right after its ``after``-th request was carried out."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self._left = after
        self._lock = threading.Lock()

    def request(self, *args: Any, **kwargs: Any) -> Response:
        answer = super().request(*args, **kwargs)
        with self._lock:
            self._left -= 1
            if self._left <= 0:
                raise Killed()
        return answer


class HostileSink(http.server.BaseHTTPRequestHandler):
    """A sink that sometimes never answers, sometimes fails with a garbage Retry-After."""

    protocol_version = "HTTP/1.1"
    rng = random.Random(7)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        draw = self.rng.random()
        if draw < 0.05:
            time.sleep(DEADLINE_S + 2)  # accepts and never answers in time
            return
        status, headers = (503, {"Retry-After": "soon, maybe"}) if draw < 0.25 else (202, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()


@contextlib.contextmanager
def hostile_sink() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostileSink)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
