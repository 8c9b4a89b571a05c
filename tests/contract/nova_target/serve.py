"""Real OpenStack Nova as a contract-test target: Nova's functional environment on a loopback port.

Run with the Nova virtualenv (never the function's): ``.venv-nova/bin/python
tests/contract/nova_target/serve.py [--port 0]``. It boots Nova 34's own
functional-test environment in this process (API, conductor, scheduler, one
compute with the fake virt driver, Placement, a Neutron fixture that honours
``net_id`` and ``fixed_ips`` and knows several networks), serves the compute
API over real HTTP in a thread, prints one JSON line (URL, token, project,
networks) on stdout and serves until stdin closes or SIGTERM.

``X-Auth-Token`` is mapped to Nova's test identity headers by
``TokenMiddleware``; a small control API under ``/_harness`` creates servers
(optionally held in BUILD), shows Nova's own view of a server, lists the
versioned notifications Nova emitted, and creates free ports.

Nova's base class is driven the ``unittest`` way (instantiate, ``setUp()``),
because pytest trips over Nova's TestCase teardown. RPC casts stay casts
(``CAST_AS_CALL = False``: detach is asynchronous, as in production) and the
new policy defaults are enforced.
"""

from __future__ import annotations

import os

# Native threads, not eventlet: the WSGI server's threads must be able to call
# into Nova, and eventlet's fake notifier rejects senders it did not spawn.
os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from pathlib import Path  # noqa: E402
from socketserver import ThreadingMixIn  # noqa: E402
from typing import Any  # noqa: E402
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server  # noqa: E402

import nova.tests.functional  # noqa: E402, F401  (first: picks threading before eventlet loads)
import webob.dec  # noqa: E402, F401  (nova.api.wsgi uses it without importing it)
from honest_neutron import EXTRA_NETWORKS, HonestNeutronFixture  # noqa: E402  (after nova)
from nova import conf as nova_conf  # noqa: E402
from nova import policy as nova_policy  # noqa: E402
from nova.api import wsgi as nova_wsgi  # noqa: E402
from nova.api.openstack import wsgi_app  # noqa: E402, F401  (registers the API's options)
from nova.tests import fixtures as nova_fixtures  # noqa: E402
from nova.tests.functional import integrated_helpers  # noqa: E402

PROJECT_ID = nova_fixtures.PROJECT_ID
TOKEN = "nova-token"
READER_TOKEN = "nova-reader-token"
ADMIN_TOKEN = "nova-admin-token"
#: token → (user, project, roles); any other token gets 401 as from keystonemiddleware.
IDENTITIES = {
    TOKEN: ("harness-user", PROJECT_ID, "reader,member"),
    READER_TOKEN: ("harness-reader", PROJECT_ID, "reader"),
    ADMIN_TOKEN: ("admin", PROJECT_ID, "admin,reader,member"),
}
IMAGE_ID = nova_fixtures.GlanceFixture.image1["id"]
HOLD_PREFIX = "hold-"
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Wsgi = Callable[[Environ, StartResponse], Iterable[bytes]]


nova_fixtures.NeutronFixture = HonestNeutronFixture  # _IntegratedTestBase.setUp looks it up here


# -- Nova ---------------------------------------------------------------------------


class NovaEnvironment(integrated_helpers._IntegratedTestBase):  # type: ignore[misc]
    """API + conductor + scheduler + one fake compute + Placement, as Nova's own tests run them."""

    CAST_AS_CALL = False
    USE_PROJECT_ID = True
    microversion = "latest"

    def runTest(self) -> None:  # unittest wants one; the harness only uses setUp
        """Not a test."""

    def _setup_services(self) -> None:
        paste = Path(sys.prefix) / "etc" / "nova" / "api-paste.ini"
        self.flags(api_paste_config=str(paste), group="wsgi")
        self.flags(compute_driver="fake.FakeDriver")  # SmallFakeDriver fills up after a few servers
        self.flags(instances=-1, cores=-1, ram=-1, group="quota")
        self.flags(enforce_new_defaults=True, group="oslo_policy")
        nova_policy.reset()
        nova_policy.init(suppress_deprecation_warnings=True)
        self.holds: dict[str, threading.Event] = {}
        super()._setup_services()
        self._hold_spawns(self.compute.manager.driver)

    def _hold_spawns(self, driver: Any) -> None:
        """A server named ``hold-…`` stays BUILD (spawning) until released."""
        spawn = driver.spawn

        def held_spawn(context: Any, instance: Any, *args: Any, **kwargs: Any) -> Any:
            if instance.display_name.startswith(HOLD_PREFIX):
                gate = self.holds.setdefault(instance.display_name, threading.Event())
                gate.wait(timeout=300)
            return spawn(context, instance, *args, **kwargs)

        driver.spawn = held_spawn

    def compute_app(self) -> Wsgi:
        app: Wsgi = nova_wsgi.Loader().load_app("osapi_compute")
        return app


# -- HTTP ---------------------------------------------------------------------------


class TokenMiddleware:
    """``X-Auth-Token`` → Nova's test identity headers (what keystonemiddleware would set)."""

    IDENTITY_HEADERS = ("HTTP_X_AUTH_USER", "HTTP_X_AUTH_PROJECT_ID", "HTTP_X_ROLES")

    def __init__(self, app: Wsgi, identities: dict[str, tuple[str, str, str]]) -> None:
        self.app = app
        self.identities = identities

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        for name in self.IDENTITY_HEADERS:  # never trust a client's own identity headers
            environ.pop(name, None)
        path = environ.get("PATH_INFO", "")
        if path.rstrip("/") in ("", "/v2", "/v2.1"):  # version discovery needs no token
            return self.app(environ, start_response)
        identity = self.identities.get(environ.get("HTTP_X_AUTH_TOKEN", ""))
        if identity is None:
            message = "The request you have made requires authentication."
            body = {"error": {"code": 401, "title": "Unauthorized", "message": message}}
            return _json(start_response, 401, body)
        user, project, roles = identity
        environ.update(HTTP_X_AUTH_USER=user, HTTP_X_AUTH_PROJECT_ID=project, HTTP_X_ROLES=roles)
        return self.app(environ, start_response)


def _json(start_response: StartResponse, status: int, body: Any) -> list[bytes]:
    data = json.dumps(body).encode()
    reason = {
        200: "OK",
        201: "Created",
        204: "No Content",
        401: "Unauthorized",
        404: "Not Found",
        400: "Bad Request",
        500: "Internal Server Error",
    }
    start_response(
        f"{status} {reason.get(status, 'Status')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


class HarnessApp:
    """The control API under ``/_harness``; everything else goes to Nova."""

    def __init__(self, env: NovaEnvironment, compute: Wsgi) -> None:
        self.env = env
        self.compute = TokenMiddleware(compute, IDENTITIES)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_harness/"):
            return self.compute(environ, start_response)
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(size) if size else b""
            body = json.loads(raw) if raw else {}
            status, answer = self.route(environ["REQUEST_METHOD"], path[len("/_harness/") :], body)
        except Exception as exc:  # a harness bug must show up in the test, not hang it
            status, answer = 500, {"error": f"{type(exc).__name__}: {exc}"}
        return _json(start_response, status, answer)

    def route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if (method, parts[0]) == ("GET", "info"):
            return 200, info()
        if (method, parts[0]) == ("POST", "ports"):
            port = self.env.neutron.new_free_port(body["net_id"], body.get("fixed_ip"))
            return 201, {"port": port}
        if (method, parts[0]) == ("GET", "notifications"):
            return 200, {"notifications": self.notifications()}
        if (method, parts[0]) == ("GET", "log"):
            return 200, {"log": self.env.stdlog.logger.output[-200_000:]}
        if parts[0] == "servers":
            return self.servers(method, parts[1:], body)
        return 404, {"error": f"no harness route {method} /{path}"}

    def servers(self, method: str, parts: list[str], body: dict[str, Any]) -> tuple[int, Any]:
        if method == "POST" and not parts:
            return 201, {"server": self.create_server(body)}
        if method == "GET" and len(parts) == 1:
            return 200, self.nova_view(parts[0])
        if method == "POST" and parts[1:] == ["release"]:
            return 200, {"server": self.release(parts[0])}
        return 404, {"error": f"no harness route {method} servers/{'/'.join(parts)}"}

    def create_server(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /servers as the project's member (tags at boot); wait for ACTIVE unless held."""
        hold = bool(body.get("hold"))
        name = (HOLD_PREFIX if hold else "srv-") + uuid.uuid4().hex[:8]
        if hold:
            self.env.holds[name] = threading.Event()
        networks = body.get("networks") or [{"uuid": nova_fixtures.NeutronFixture.network_1["id"]}]
        request = {
            "name": name,
            "imageRef": IMAGE_ID,
            "flavorRef": "1",
            "networks": networks,
            "tags": list(body.get("tags", [])),
        }
        server: dict[str, Any] = self.env.api.post_server({"server": request})
        if hold:
            return server
        return self.wait_status(server["id"], "ACTIVE")

    def release(self, server_id: str) -> dict[str, Any]:
        name = self.env.api.get_server(server_id)["name"]
        self.env.holds.setdefault(name, threading.Event()).set()
        return self.wait_status(server_id, "ACTIVE")

    def wait_status(self, server_id: str, status: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            server: dict[str, Any] = self.env.api.get_server(server_id)
            if server["status"] == status or time.monotonic() > deadline:
                return server
            time.sleep(0.05)

    def nova_view(self, server_id: str) -> dict[str, Any]:
        """Nova's own view: the server (admin, latest), its os-interface list, its Neutron ports."""
        api = self.env.admin_api
        server = api.get_server(server_id)
        interfaces = api.api_get(f"/servers/{server_id}/os-interface").body
        return {
            "server": server,
            "interfaces": interfaces["interfaceAttachments"],
            "ports": self.env.neutron.ports_of(server_id),
        }

    def notifications(self) -> list[dict[str, Any]]:
        found = list(self.env.notifier.versioned_notifications)
        return [copy.deepcopy(n) for n in found]


def info() -> dict[str, Any]:
    base = nova_fixtures.NeutronFixture
    networks = [(base.network_1, base.subnet_1)] + [(n, s) for n, s in EXTRA_NETWORKS]
    return {
        "enforce_new_defaults": nova_conf.CONF.oslo_policy.enforce_new_defaults,
        "project_id": PROJECT_ID,
        "token": TOKEN,
        "reader_token": READER_TOKEN,
        "free_port_id": base.port_1["id"],
        "networks": [
            {"id": n["id"], "name": n["name"], "cidr": s["cidr"], "subnet_id": s["id"]}
            for n, s in networks
        ],
    }


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Nova logs every request already."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.monotonic()
    env = NovaEnvironment()
    try:
        env.setUp()
    except BaseException:  # Nova's fixtures capture stderr: write to the real one
        os.write(2, traceback.format_exc().encode())
        os._exit(1)
    server = make_server(
        args.host, args.port, HarnessApp(env, env.compute_app()), _Server, _QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://{args.host}:{server.server_address[1]}"
    print(
        json.dumps({"url": url, "boot_seconds": round(time.monotonic() - started, 2), **info()}),
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    server.shutdown()
    os._exit(0)  # Nova's cleanups join service threads; nothing here outlives the process


if __name__ == "__main__":
    sys.exit(main())
