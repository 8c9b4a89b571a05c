"""What the guarantee tests share: the example seed, delivering an event to a service, and a
real HTTP server that misbehaves (echoes headers, trickles its answer, or never answers)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from support import JSON, PROJECT, ROOT, SERVER

from emulator.client import AdminClient


def seed_example(admin: AdminClient) -> AdminClient:
    """The cloud of ``examples/emulator-seed.json``."""
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    return admin


def deliver(svc: Any, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The reply's status and its event's data (binary mode: the body is the data)."""
    reply = svc.handle(JSON, json.dumps(data).encode())
    return reply.status, json.loads(reply.body)


def batch_trace(ids: list[str]) -> dict[str, Any]:
    """A CTS trace of a batch create (``events/cts-create-servers-batch.json``) for ``ids``."""
    trace = json.loads((ROOT / "events" / "cts-create-servers-batch.json").read_text())
    trace["cts"]["response"] = {"job_id": "job-1", "serverIds": ids}
    return trace


def event(server: str = SERVER, tags: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"server_id": server, "project_id": PROJECT}
    if tags is not None:
        data["tags"] = tags
    return data


def on(admin: AdminClient, server: str, net: str) -> list[dict[str, Any]]:
    return [i for i in admin.interfaces(server) if i["net_id"] == net]


class Hostile(http.server.BaseHTTPRequestHandler):
    """A real server that misbehaves as configured on the class."""

    protocol_version = "HTTP/1.1"
    mode = "echo"

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.mode == "hang":
            time.sleep(30)
            return
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        if self.mode == "trickle":
            body = json.dumps({"interfaceAttachments": []}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.2)
            return
        # echo: an error message that repeats the request's headers
        echoed = " ".join(f"{k}={v}" for k, v in self.headers.items())
        body = json.dumps({"badRequest": {"code": 400, "message": echoed}}).encode()
        self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve_hostile() -> Iterator[tuple[str, type[Hostile]]]:
    """A running ``Hostile`` server (its own handler class, so its mode is this test's)."""
    handler = type("Handler", (Hostile,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
