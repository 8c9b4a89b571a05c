"""Nova's functional environment with its Neutron calls going to the real Neutron target.

Run with the Nova virtualenv: ``.venv-nova/bin/python
tests/contract/nova_target/on_neutron.py --neutron-url URL --network-id ID``
(a Neutron target started with ``--bind-any-host``). Nova's ``NeutronFixture``
is replaced by nothing: Nova's own python-neutronclient code talks HTTP to
Neutron (``[neutron] endpoint_override``), with the target's member token for
a user's calls and its admin token (roles admin and service, as Nova's own
credentials have) for Nova's privileged ones; the functional API's requests
carry no token, so the auth plugin is chosen here. The compute host binds
ports through the target's ``anyhost`` mechanism driver.

It runs the end-to-end case once and prints one JSON line of observations:
a port made through Neutron (by name, with a fixed IP), attached by
``port_id`` through Nova, the interfaces Nova lists, the port as Neutron
shows it while attached, then after the server is deleted, and the ports
left in the project. ``tests/contract/test_nova_on_neutron.py`` judges them.
"""

from __future__ import annotations

import os

os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import fixtures  # noqa: E402
import nova  # noqa: E402
import nova.tests.functional  # noqa: E402, F401  (first: picks threading before eventlet loads)
from keystoneauth1 import token_endpoint  # noqa: E402
from nova.network import neutron as nova_neutron  # noqa: E402
from nova.tests import fixtures as nova_fixtures  # noqa: E402
from nova.tests.functional import integrated_helpers  # noqa: E402

#: The compute host's name (any name binds: the Neutron target's driver binds on any host).
HOST = "compute-on-neutron"
OUT = os.fdopen(os.dup(1), "w", buffering=1)  # Nova's test base captures stdout


class NoNeutronFixture(fixtures.Fixture):  # type: ignore[misc]
    """In place of Nova's NeutronFixture: nothing is faked, Neutron is real."""

    def __init__(self, test: Any) -> None:
        super().__init__()


class OnNeutron(integrated_helpers._IntegratedTestBase):  # type: ignore[misc]
    microversion = "latest"
    neutron_url = ""

    def _setup_services(self) -> None:
        venv = Path(nova.__file__).resolve().parents[4]
        self.flags(api_paste_config=str(venv / "etc" / "nova" / "api-paste.ini"), group="wsgi")
        self.flags(endpoint_override=self.neutron_url, group="neutron")
        super()._setup_services()

    def _setup_compute_service(self) -> Any:
        return self._start_compute(HOST)

    def runTest(self) -> None:  # noqa: N802  (unittest's name)
        """Driven by ``main``."""


def use_tokens(url: str, member: str, admin_token: str) -> None:
    def auth(context: Any, admin: bool = False) -> Any:  # nova.network.neutron's signature
        privileged = admin or context.is_admin
        return token_endpoint.Token(url, admin_token if privileged else member)

    nova_neutron._get_auth_plugin = auth


def neutron(url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"X-Auth-Token": token, "Content-Type": "application/json"}
    request = urllib.request.Request(f"{url}/v2.0{path}", data, headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def wait(api: Any, server_id: str, done: Any) -> Any:
    for _ in range(150):
        try:
            server = api.get_server(server_id)
        except Exception:  # noqa: BLE001 - 404: the server is gone
            return None
        if done(server):
            return server
        time.sleep(0.1)
    raise RuntimeError(f"server {server_id} did not settle")


def run(test: OnNeutron, args: argparse.Namespace) -> dict[str, Any]:
    api, url, token = test.api, args.neutron_url, args.member_token
    image = nova_fixtures.GlanceFixture.image1["id"]
    body = {
        "server": {
            "name": "e2e",
            "imageRef": image,
            "flavorRef": "1",
            "networks": [{"uuid": args.network_id}],
        }
    }
    server_id = api.post_server(body)["id"]
    server = wait(api, server_id, lambda s: s["status"] != "BUILD")
    boot = [
        a["port_id"]
        for a in api.api_get(f"/servers/{server_id}/os-interface").body["interfaceAttachments"]
    ]
    port = {
        "network_id": args.network_id,
        "name": "nic-e2e-1",
        "fixed_ips": [{"ip_address": args.fixed_ip}],
    }
    before = neutron(url, token, "POST", "/ports", {"port": port})["port"]
    attach = {"interfaceAttachment": {"port_id": before["id"]}}
    attached = api.api_post(f"/servers/{server_id}/os-interface", attach).body
    listed = api.api_get(f"/servers/{server_id}/os-interface").body["interfaceAttachments"]
    bound = neutron(url, token, "GET", f"/ports/{before['id']}")["port"]
    api.api_delete(f"/servers/{server_id}")
    wait(api, server_id, lambda s: False)
    after = neutron(url, token, "GET", f"/ports/{before['id']}")["port"]
    left = neutron(url, token, "GET", f"/ports?network_id={args.network_id}")["ports"]
    return {
        "server": {"id": server_id, "status": server["status"] if server else None},
        "boot_ports": boot,
        "before": before,
        "attached": attached["interfaceAttachment"],
        "interfaces": listed,
        "bound": bound,
        "after": after,
        "ports_left": [p["id"] for p in left],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neutron-url", required=True)
    parser.add_argument("--network-id", required=True)
    parser.add_argument("--fixed-ip", required=True)
    parser.add_argument("--member-token", default="neutron-token")
    parser.add_argument("--admin-token", default="neutron-admin-token")
    args = parser.parse_args()
    nova_fixtures.NeutronFixture = NoNeutronFixture  # _IntegratedTestBase.setUp looks it up here
    use_tokens(args.neutron_url, args.member_token, args.admin_token)
    OnNeutron.neutron_url = args.neutron_url
    test = OnNeutron()
    started = time.monotonic()
    test.setUp()
    try:
        result = run(test, args)
    except Exception as exc:  # noqa: BLE001 - reported to the test, with Nova's log
        result = {
            "error": f"{type(exc).__name__}: {exc}",
            "log": test.stdlog.logger.output[-20000:],
        }
    finally:
        test.doCleanups()
    result["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(result), file=OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
