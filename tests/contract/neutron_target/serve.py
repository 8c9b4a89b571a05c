"""Real Neutron as a contract-test target: Neutron 29's own API in this process, on loopback.

Run with the Neutron virtualenv (never the function's): ``.venv-neutron/bin/python
tests/contract/neutron_target/serve.py [--port 0]``. It loads Neutron's paste
pipeline and pecan API application (``neutron.server.api.api_server``) with
the ML2 core plugin (no mechanism driver: ports stay ``DOWN`` and unbound, as
a project sees them before Nova binds them; the ``port_security`` extension
driver), the ``router`` service plugin and a fresh SQLite file, and serves it
with a serial ``wsgiref`` server (SQLite and concurrent writers give
"database is locked"). No Keystone, no agents, no message bus: ``identity.py``
stands where ``authtoken`` would, mapping ``X-Auth-Token`` to a project member
(or the admin); the real ``NeutronKeystoneContext`` builds the context.

With ``--bind-any-host`` it also loads ``binder.py``'s mechanism driver, which
binds every port on any host (for the end-to-end case, where Nova's compute
binds the ports it attaches).

At start it creates the networks the contract suite uses (VXLAN tenant networks
with one IPv4 subnet each: two as the first project's member, one as the admin,
shared with every project), then prints one
JSON line (``url``, ``tokens``, ``projects``, ``networks``, ``boot_s``) and
serves until stdin closes, SIGTERM or SIGINT.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from wsgiref.simple_server import WSGIRequestHandler, make_server  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # identity.py, for paste

import binder  # noqa: E402
import identity  # noqa: E402

#: (name, CIDR, made by the admin) of the networks made at start, in the suite's order:
#: the admin shares ``harness-shared`` with every project and makes ``harness-ext`` the
#: external network floating IPs come from; ``harness-dual`` also has an IPv6 subnet.
NETWORKS = (
    ("harness-net-a", "10.20.0.0/24", False),
    ("harness-net-b", "10.30.0.0/24", False),
    ("harness-shared", "10.60.0.0/24", True),
    ("harness-dual", "10.40.0.0/24", False),
    ("harness-ext", "172.24.4.0/24", True),
)
IPV6 = {"harness-dual": "2001:db8:40::/64"}
ADMIN_ATTRIBUTES = {"harness-shared": {"shared": True}, "harness-ext": {"router:external": True}}

PASTE = """
[composite:neutron]
use = egg:Paste#urlmap
/: neutronversions
/v2.0: neutronapi_v2_0

[composite:neutronapi_v2_0]
use = call:neutron.auth:pipeline_factory
harness = request_id catch_errors identity keystonecontext extensions neutronapiapp_v2_0

[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory

[filter:catch_errors]
paste.filter_factory = oslo_middleware:CatchErrors.factory

[filter:identity]
paste.filter_factory = identity:filter_factory

[filter:keystonecontext]
paste.filter_factory = neutron.auth:NeutronKeystoneContext.factory

[filter:extensions]
paste.filter_factory = neutron.api.extensions:plugin_aware_extension_middleware_factory

[app:neutronversions]
paste.app_factory = neutron.pecan_wsgi.app:versions_factory

[app:neutronapiapp_v2_0]
paste.app_factory = neutron.api.v2.router:APIRouter.factory
"""

CONF = """
[DEFAULT]
core_plugin = ml2
service_plugins = router
auth_strategy = harness
api_paste_config = {paste}
transport_url = fake:/
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
dhcp_agent_notification = false
state_path = {state}
lock_path = {state}
[database]
connection = sqlite:///{state}/neutron.sqlite
[oslo_messaging_notifications]
driver = noop
[oslo_concurrency]
lock_path = {state}
[ml2]
type_drivers = local,flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = {mechanism_drivers}
extension_drivers = port_security
[ml2_type_vxlan]
vni_ranges = 1:1000
"""

#: The rule templates Neutron's migration seeds (``create_all`` skips migrations'
#: data): a ``default`` group gets all four, any other group the two egress rules.
RULE_TEMPLATES = [
    ("egress", "IPv4", None, True, True, "Legacy default SG rule for egress traffic"),
    ("egress", "IPv6", None, True, True, "Legacy default SG rule for egress traffic"),
    ("ingress", "IPv4", "PARENT", True, False, "Legacy default SG rule for ingress traffic"),
    ("ingress", "IPv6", "PARENT", True, False, "Legacy default SG rule for ingress traffic"),
]


def configure(state: Path, mechanism_drivers: str = "") -> None:
    """Neutron's configuration, in the order its options must be registered."""
    from neutron.common import config
    from oslo_config import cfg
    from oslo_db import options as db_options

    (state / "api-paste.ini").write_text(PASTE)
    conf_file = state / "neutron.conf"
    conf_file.write_text(
        CONF.format(paste=state / "api-paste.ini", state=state, mechanism_drivers=mechanism_drivers)
    )
    config.register_common_config_options()
    db_options.set_defaults(cfg.CONF)
    config.init(["--config-file", str(conf_file)])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for noisy in ("stevedore", "neutron", "oslo_policy", "oslo_db", "oslo_config"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def register_binder(state: Path) -> str:
    """Make ``binder.py``'s driver loadable by name (ML2 finds drivers by entry point):
    a distribution's metadata in the state directory, put on ``sys.path``."""
    info = state / "harness_binder-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: harness-binder\nVersion: 0\n")
    entry = f"[neutron.ml2.mechanism_drivers]\n{binder.ENTRY_POINT}\n"
    (info / "entry_points.txt").write_text(entry)
    sys.path.insert(0, str(state))
    return binder.ENTRY_POINT.split(" ")[0]


def create_schema() -> None:
    """Every table Neutron's models declare (as its unit tests do; no migrations)."""
    from neutron.db.migration.models import head  # noqa: F401  (imports every model)
    from neutron_lib.db import api as db_api
    from neutron_lib.db import model_base

    engine = db_api.CONTEXT_WRITER.get_engine()
    model_base.BASEV2.metadata.create_all(engine)


def seed_rule_templates() -> None:
    from neutron_lib import context
    from neutron_lib.plugins import directory

    plugin = directory.get_plugin()
    admin = context.get_admin_context()
    for direction, ethertype, remote, in_default, in_other, description in RULE_TEMPLATES:
        rule = {
            "direction": direction,
            "ethertype": ethertype,
            "remote_group_id": remote,
            "remote_address_group_id": None,
            "protocol": None,
            "port_range_min": None,
            "port_range_max": None,
            "remote_ip_prefix": None,
            "description": description,
            "used_in_default_sg": in_default,
            "used_in_non_default_sg": in_other,
        }
        plugin.create_default_security_group_rule(admin, {"default_security_group_rule": rule})


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Silent (the contract suite reads only the JSON line on stdout)."""


def call(url: str, method: str, path: str, body: Any, token: str) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}/v2.0{path}",
        data=data,
        method=method,
        headers={"X-Auth-Token": token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def create_networks(url: str) -> list[dict[str, str]]:
    """The suite's networks, made through the API: two owned by the first project (as its
    member), then one the admin owns and shares with every project."""
    made = []
    for name, cidr, admin in NETWORKS:
        token = "neutron-admin-token" if admin else "neutron-token"
        network = {"name": name, **ADMIN_ATTRIBUTES.get(name, {})}
        net_id = call(url, "POST", "/networks", {"network": network}, token)["network"]["id"]
        subnet = {"network_id": net_id, "cidr": cidr, "ip_version": 4, "name": f"{name}-subnet"}
        subnet_id = call(url, "POST", "/subnets", {"subnet": subnet}, token)["subnet"]["id"]
        made.append({"id": net_id, "name": name, "cidr": cidr, "subnet_id": subnet_id})
        if name in IPV6:  # DHCPv6-stateful, as the emulator's IPv6 subnets
            modes = {"ipv6_ra_mode": "dhcpv6-stateful", "ipv6_address_mode": "dhcpv6-stateful"}
            v6 = {"network_id": net_id, "cidr": IPV6[name], "ip_version": 6, **modes}
            call(url, "POST", "/subnets", {"subnet": {**v6, "name": f"{name}-v6"}}, token)
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--bind-any-host",
        action="store_true",
        help="load binder.py's mechanism driver: ports bind on any host",
    )
    args = parser.parse_args()
    started = time.monotonic()
    state = Path(tempfile.mkdtemp(prefix="neutron-target-"))
    configure(state, register_binder(state) if args.bind_any_host else "")
    create_schema()
    from neutron.server import api as neutron_api

    app = neutron_api.api_server()
    seed_rule_templates()
    server = make_server("127.0.0.1", args.port, app, handler_class=QuietHandler)
    url = f"http://127.0.0.1:{server.server_address[1]}"

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=lambda: (sys.stdin.read(), stop()), daemon=True).start()
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    serving.start()
    networks = create_networks(url)
    call(url, "GET", "/ports?name=warm-up", None, "neutron-token")  # pay the lazy imports now
    info = {
        "url": url,
        "networks": networks,
        "boot_s": round(time.monotonic() - started, 2),
        "tokens": {
            "member": "neutron-token",
            "other": "neutron-other-token",
            "admin": "neutron-admin-token",
        },
        "projects": {
            "member": identity.PROJECT_A,
            "other": identity.PROJECT_B,
            "admin": identity.ADMIN_PROJECT,
        },
    }
    print(json.dumps(info), flush=True)
    serving.join()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
