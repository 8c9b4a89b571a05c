"""The two places the contract suite runs: the bundled emulator and real Nova.

A ``Target`` is what a test needs to know about where it is talking: the
compute endpoint, a token and project, three networks with the same ids and
CIDRs on both sides, and a small control surface (make a server, hold it in
BUILD, make a free port, read the target's own view). The compute API itself
is only ever driven over HTTP, through ``function.compute.nova.client.NovaClient`` or
``requests``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.transport.session import Session

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "tests" / "contract" / "nova_target" / "serve.py"
NOVA_PYTHON = "NICATTACH_NOVA_PYTHON"
"""Interpreter of the Nova virtualenv (default ``.venv-nova/bin/python``)."""
NOVA_URL = "NICATTACH_NOVA_URL"
"""URL of an already running Nova target (``serve.py``); skips starting one."""
BOOT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    cidr: str
    subnet_id: str


@dataclass
class Target:
    """Where a contract test talks to; subclasses implement the control surface."""

    name: str
    url: str
    token: str
    project_id: str
    networks: tuple[Network, ...]
    session: requests.Session = field(default_factory=requests.Session)
    """For raw calls (the test's own requests)."""
    client_session: Session = field(default_factory=Session)
    """For our ``NovaClient``: the transport the function really uses."""

    @property
    def boot(self) -> Network:
        return self.networks[0]

    @property
    def net_a(self) -> Network:
        return self.networks[1]

    @property
    def net_b(self) -> Network:
        return self.networks[2]

    def api(self, path: str) -> str:
        return f"{self.url}/v2.1/{self.project_id}{path}"

    def create_server(self, tags: list[str], *, hold: bool = False) -> str:
        """A server on the boot network; ACTIVE on return unless ``hold`` (then BUILD)."""
        raise NotImplementedError

    def release(self, server_id: str) -> None:
        """End a held BUILD: the server is ACTIVE on return."""
        raise NotImplementedError

    def free_port(self, net_id: str) -> str:
        """A port on ``net_id`` that no server uses."""
        raise NotImplementedError

    def own_view(self, server_id: str) -> list[dict[str, Any]]:
        """The interfaces the target itself holds for the server (not via os-interface)."""
        raise NotImplementedError

    def close(self) -> None:
        self.session.close()
        self.client_session.close()


NETWORKS = (
    # The same ids and CIDRs as the Nova target's Neutron fixture (network_1 and two more).
    Network(
        "3cb9bc59-5699-4588-a4b1-b87f96708bc6",
        "private",
        "192.168.1.0/24",
        "f8a6e8f8-c2ec-497c-9f23-da9616de54ef",
    ),
    Network(
        "a7d3f1c2-5b4e-4d6a-9c8b-1e2f3a4b5c6d",
        "harness-net-a",
        "10.20.0.0/24",
        "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
    ),
    Network(
        "c4e5f6a7-b8c9-4dae-8f01-23456789abcd",
        "harness-net-b",
        "10.30.0.0/24",
        "d5e6f7a8-b9c0-4d1e-9f2a-3b4c5d6e7f80",
    ),
)
PROJECT_ID = "6f70656e737461636b20342065766572"  # Nova's functional-test project


class EmulatorTarget(Target):
    """A fresh bundled emulator, seeded with the Nova target's networks."""

    def __init__(self, server: EmulatorServer, token: str) -> None:
        super().__init__("emulator", server.url, token, PROJECT_ID, NETWORKS)
        self.admin = AdminClient(server.url)
        for net in NETWORKS:
            self.admin.create_network(net.cidr, id=net.id, name=net.name, subnet_id=net.subnet_id)

    def create_server(self, tags: list[str], *, hold: bool = False) -> str:
        server = self.admin.create_server(
            self.project_id,
            tags=tags,
            status="BUILD" if hold else "ACTIVE",
            interfaces=[{"net_id": self.boot.id}],
        )
        return str(server["id"])

    def release(self, server_id: str) -> None:
        self.admin.update_server(server_id, status="ACTIVE")

    def free_port(self, net_id: str) -> str:
        return str(self.admin.create_port(net_id)["id"])

    def own_view(self, server_id: str) -> list[dict[str, Any]]:
        return self.admin.interfaces(server_id)

    def set_nova_errors(self, on: bool) -> None:
        self.admin.set_options(nova_errors=on)


class NovaTarget(Target):
    """Nova's functional environment (``serve.py``), reached over HTTP."""

    def __init__(self, url: str, info: dict[str, Any]) -> None:
        networks = tuple(Network(**n) for n in info["networks"])
        super().__init__("nova", url, info["token"], info["project_id"], networks)
        self.info = info

    def _harness(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_harness/{path}", json=body, timeout=60)
        assert response.status_code < 300, f"harness {method} {path}: {response.text[:2000]}"
        return response.json()

    def create_server(self, tags: list[str], *, hold: bool = False) -> str:
        server = self._harness("POST", "servers", {"tags": tags, "hold": hold})["server"]
        assert hold or server["status"] == "ACTIVE", server
        return str(server["id"])

    def release(self, server_id: str) -> None:
        server = self._harness("POST", f"servers/{server_id}/release")["server"]
        assert server["status"] == "ACTIVE", server

    def free_port(self, net_id: str) -> str:
        return str(self._harness("POST", "ports", {"net_id": net_id})["port"]["id"])

    def own_view(self, server_id: str) -> list[dict[str, Any]]:
        """Neutron's ports bound to the server, as os-interface would show them."""
        ports = self._harness("GET", f"servers/{server_id}")["ports"]
        return [
            {
                "port_id": p["id"],
                "net_id": p["network_id"],
                "mac_addr": p["mac_address"],
                "fixed_ips": p["fixed_ips"],
                "port_state": p["status"],
            }
            for p in ports
        ]

    def nova_view(self, server_id: str) -> dict[str, Any]:
        """``{"server", "interfaces", "ports"}`` as Nova's admin API and Neutron see them."""
        view: dict[str, Any] = self._harness("GET", f"servers/{server_id}")
        return view

    def notifications(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._harness("GET", "notifications")["notifications"]
        return found

    def log(self) -> str:
        return str(self._harness("GET", "log")["log"])


class NovaProcess:
    """``serve.py`` in the Nova virtualenv, for one test session."""

    def __init__(self, python: str) -> None:
        self.process = subprocess.Popen(
            [python, "-W", "ignore", str(SERVE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
            text=True,
            cwd=ROOT,
        )
        self.info = self._first_line()

    def _first_line(self) -> dict[str, Any]:
        lines: list[str] = []
        assert self.process.stdout is not None
        reader = threading.Thread(target=lambda: lines.append(self.process.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(BOOT_TIMEOUT_S)
        if not lines or not lines[0].strip():
            self.stop()
            raise RuntimeError(f"Nova target did not start (exit code {self.process.returncode})")
        info: dict[str, Any] = json.loads(lines[0])
        return info

    def stop(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def nova_python() -> str:
    return os.environ.get(NOVA_PYTHON) or str(ROOT / ".venv-nova" / "bin" / "python")


def running_nova_info(url: str) -> dict[str, Any]:
    info: dict[str, Any] = requests.get(f"{url}/_harness/info", timeout=10).json()
    return info
