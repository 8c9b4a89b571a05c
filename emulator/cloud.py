"""A fake cloud's front door: ``FakeKeystone`` in front of the compute emulator, plus EventGrid.

Hosts, on one free port:

- ``POST /v3/auth/tokens``: Keystone authentication (``FakeKeystone.authenticate``);
- ``/compute/...``: credentials checked by ``FakeKeystone.check`` and the
  project matched, then the emulator (``EmulatorApp``) with an internal token;
- ``/v1/{project_id}/cloudservers/...``, ``/v1/{project_id}/jobs/...``: Huawei's
  native ECS API at the root (where the SDK sends it: ``ecs_url``), same checks,
  then the emulator;
- ``/autoscaling-api/v1/{project_id}/...``: Auto Scaling's lifecycle hooks, same checks;
- ``/v2.0/...``: the Neutron-compatible network API (``GET /`` lists its version),
  same checks, the project being the credential's (an ``X-Project-Id`` naming
  another is refused);
- ``POST /v1/{project_id}/channels/{channel_id}/events``: EventGrid's publish
  call, same checks; the events are kept in ``FakeKeystone.published``.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulator.app import EmulatorApp
from emulator.autoscaling.models import FakeAutoScaling
from emulator.autoscaling.responses import API_PATH as AS_PATH
from emulator.compute.models import FakeBackend
from emulator.core.http import REQUEST_QUEUE_SIZE
from emulator.core.wire import Request
from emulator.ecs_v1.models import FakeEcsV1
from emulator.ecs_v1.responses import API_PATH as ECS_V1_PATH
from emulator.identity.keystone import FakeKeystone
from emulator.network_api.responses import API_PATH as NETWORK_PATH

EVENTS_PATH = re.compile(r"^/v1/([^/]+)/channels/([^/]+)/events$")
COMPUTE_PROJECT = re.compile(r"^/v(?:1|2|2\.1)/([^/]+)")
VERSION_DOCUMENT = re.compile(r"^/compute(?:/v2(?:\.1)?)?/?$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = urlsplit(self.path).path
        keystone = self.server.keystone
        if path.rstrip("/").endswith("/v3/auth/tokens") and self.command == "POST":
            document = json.loads(body or b"{}")
            status, extra, document = keystone.authenticate(document, self.url() + "/compute")
            return self._send(status, document, extra)
        if self.command == "GET" and VERSION_DOCUMENT.match(path):  # public, as in Nova
            return self._compute(path.removeprefix("/compute"), headers, body)
        if self.command == "GET" and path == "/":  # Neutron's version list, public too
            version = {
                "id": "v2.0",
                "status": "CURRENT",
                "links": [{"href": f"{self.url()}/v2.0/", "rel": "self"}],
            }
            return self._send(200, {"versions": [version]})
        problem = keystone.check(self.command, self.path, headers, body)
        if problem is not None:
            keystone.rejected.append(problem)
            return self._send(401, {"error": {"code": "APIGW.0301", "message": problem}})
        target = (COMPUTE_PROJECT.match(path.removeprefix("/compute")) or EVENTS_PATH.match(path)
                  or AS_PATH.match(path))  # fmt: skip
        project = target.group(1) if target else None
        if NETWORK_PATH.match(path) is not None:  # the project is the credential's
            project = headers.get("x-project-id", keystone.project_id)
        if project != keystone.project_id or headers.get("x-project-id", project) != project:
            keystone.rejected.append("wrong project")
            return self._send(403, {"error": {"code": "Ecs.0023", "message": "project mismatch"}})
        if EVENTS_PATH.match(path) is not None:
            with keystone.lock:
                keystone.published.extend(json.loads(body)["events"])
            return self._send(200, {"failed_count": 0, "events": []})
        if path.startswith("/compute/"):
            return self._compute(path.removeprefix("/compute"), headers, body)
        if NETWORK_PATH.match(path) is not None:
            headers = {**headers, "x-project-id": keystone.project_id}
            return self._compute(path, headers, body)
        if ECS_V1_PATH.match(path) is not None or AS_PATH.match(path) is not None:
            return self._compute(path, headers, body)
        return self._send(404, {"error": {"code": "404", "message": "not found"}})

    def url(self) -> str:
        return "http://{}:{}".format(*self.server.server_address[:2])

    def _compute(self, path: str, headers: dict[str, str], body: bytes) -> None:
        headers = {**headers, "x-auth-token": self.server.internal_token}
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        request = Request(self.command, path, query, headers, body, self.url() + "/compute")
        response = self.server.app.handle(request)
        self._send(response.status, response.body, response.headers)

    def _send(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        payload = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = REQUEST_QUEUE_SIZE

    def __init__(
        self, keystone: FakeKeystone, backend: FakeBackend, ecs: FakeEcsV1 | None,
        autoscaling: FakeAutoScaling | None = None,
    ) -> None:  # fmt: skip
        super().__init__(("127.0.0.1", 0), _Handler)
        self.keystone = keystone
        self.internal_token = secrets.token_hex(8)
        backend.add_token(self.internal_token)
        self.app = EmulatorApp(backend, ecs=ecs, autoscaling=autoscaling)


class FakeCloudServer:
    """``FakeKeystone`` and the compute emulator behind it, on a free port."""

    def __init__(
        self, keystone: FakeKeystone, backend: FakeBackend, *, ecs: FakeEcsV1 | None = None,
        autoscaling: FakeAutoScaling | None = None,
    ) -> None:  # fmt: skip
        self.keystone = keystone
        self._httpd = _Server(keystone, backend, ecs, autoscaling)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.auth_url = f"{self.url}/v3"
        self.compute_url = f"{self.url}/compute"
        #: The endpoint for Huawei's SDK (it keeps only the scheme and host of an endpoint).
        self.ecs_url = self.url
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})  # fmt: skip

    def __enter__(self) -> FakeCloudServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
