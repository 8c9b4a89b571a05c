"""End to end on the real stack: Nova 34's functional environment bound to Neutron 29's own API.

The case the function's "port first" ownership rests on: a port made through
the network API (a name, a fixed IP), attached by ``port_id`` through Nova's
``os-interface``, listed, then its server deleted; the port must come back
unbound (``DOWN``, ``device_id`` and ``device_owner`` empty) and kept, while
the port Nova made for the boot network goes with the server. The same
observations are made on the emulator (``emulator`` half) and on Nova talking
to the Neutron target (``neutron`` half: ``nova_target/on_neutron.py`` in the
Nova virtualenv, a Neutron target started with ``--bind-any-host``); it needs
both ``--nova`` and ``--neutron``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import nova_wanted
from contract_targets import ROOT, nova_python
from network_targets import NetworkTarget, NeutronProcess, neutron_python, neutron_target

ON_NEUTRON = ROOT / "tests" / "contract" / "nova_target" / "on_neutron.py"
FIXED_IP = "10.20.0.78"


@pytest.fixture(scope="module")
def binding_neutron(request: pytest.FixtureRequest) -> Iterator[NetworkTarget]:
    if not nova_wanted(request.config):
        pytest.skip("Nova on Neutron: needs --nova as well as --neutron (make contract)")
    request.getfixturevalue("neutron")  # skips unless Neutron was asked for
    process = NeutronProcess(neutron_python(), "--bind-any-host")
    try:
        yield neutron_target(process.info)
    finally:
        process.stop()


def on_real_stack(target: NetworkTarget) -> dict[str, Any]:
    command = [
        nova_python(),
        "-W",
        "ignore",
        str(ON_NEUTRON),
        "--neutron-url",
        target.url,
        "--network-id",
        target.net_a.id,
        "--fixed-ip",
        FIXED_IP,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"on_neutron.py printed no result (exit {done.returncode}): {done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in result, f"{result['error']}\n{result.get('log', '')[-6000:]}"
    return result


def on_emulator(target: NetworkTarget) -> dict[str, Any]:
    admin = target.admin  # type: ignore[attr-defined]
    server = admin.create_server(target.project_id, interfaces=[{"net_id": target.net_a.id}])
    compute = f"{target.url}/v2.1/{target.project_id}/servers/{server['id']}"
    headers = {"X-Auth-Token": target.token}

    def nova(method: str, path: str = "", body: Any = None) -> Any:
        response = target.session.request(method, compute + path, json=body, headers=headers)
        return response.json() if response.content else None

    boot = [a["port_id"] for a in nova("GET", "/os-interface")["interfaceAttachments"]]
    port = {
        "network_id": target.net_a.id,
        "name": "nic-e2e-1",
        "fixed_ips": [{"ip_address": FIXED_IP}],
    }
    before = target.call("POST", "/ports", {"port": port}).json()["port"]
    attached = nova("POST", "/os-interface", {"interfaceAttachment": {"port_id": before["id"]}})
    listed = nova("GET", "/os-interface")["interfaceAttachments"]
    bound = target.call("GET", f"/ports/{before['id']}").json()["port"]
    nova("DELETE")
    after = target.call("GET", f"/ports/{before['id']}").json()["port"]
    left = target.call("GET", f"/ports?network_id={target.net_a.id}").json()["ports"]
    return {
        "server": {"id": server["id"], "status": server["status"]},
        "boot_ports": boot,
        "before": before,
        "attached": attached["interfaceAttachment"],
        "interfaces": listed,
        "bound": bound,
        "after": after,
        "ports_left": [p["id"] for p in left],
    }


@pytest.fixture(params=("emulator", "neutron"))
def observed(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "emulator":
        return on_emulator(request.getfixturevalue("emulator_network"))
    return on_real_stack(request.getfixturevalue("binding_neutron"))


def binding(port: dict[str, Any]) -> tuple[str, str, str]:
    return port["status"], port["device_id"], port["device_owner"]


def test_a_port_attached_by_id_is_unbound_and_kept_when_its_server_goes(
    observed: dict[str, Any],
) -> None:
    server, port = observed["server"]["id"], observed["before"]
    assert observed["server"]["status"] == "ACTIVE" and len(observed["boot_ports"]) == 1
    assert binding(port) == ("DOWN", "", "")
    attached = observed["attached"]
    assert (attached["port_id"], attached["net_id"], attached["mac_addr"]) == (
        port["id"],
        port["network_id"],
        port["mac_address"],
    )
    assert attached["fixed_ips"] == port["fixed_ips"] and attached["port_state"] == "ACTIVE"
    assert {i["port_id"] for i in observed["interfaces"]} == {port["id"], *observed["boot_ports"]}
    assert binding(observed["bound"]) == ("ACTIVE", server, "compute:nova")
    assert set(observed["bound"]) == set(port)  # binding adds no field a member sees
    assert binding(observed["after"]) == ("DOWN", "", "")
    assert observed["after"]["name"] == "nic-e2e-1"
    assert observed["after"]["fixed_ips"] == port["fixed_ips"]
    assert observed["ports_left"] == [port["id"]]  # Nova's boot port went with the server
