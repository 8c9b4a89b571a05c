"""The emulator's request log and admin API through real HTTP, and a crash's answer."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from support import PROJECT

from emulator.client import AdminClient, AdminError
from emulator.server import EmulatorServer
from emulator_http.nova_http import BUILDING, FREE_PORT, GHOST, NET, SERVER, Api, attach_path


def test_request_log_records_calls_without_the_token(api: Api, admin: AdminClient) -> None:
    admin.clear_requests()
    api("GET", f"/servers/{SERVER}", version="2.26", headers={"X-Request-Id": "trace-1"})
    api("POST", attach_path(), json={"interfaceAttachment": {"net_id": NET}})
    log = admin.requests_log()
    fields = ("method", "path", "status", "microversion", "has_body")
    assert [tuple(entry[field] for field in fields) for entry in log] == [
        ("GET", f"/v2.1/{PROJECT}/servers/{SERVER}", 200, "2.26", False),
        ("POST", f"/v2.1/{PROJECT}/servers/{SERVER}/os-interface", 200, "2.1", True),
    ]
    assert log[0]["x_request_id"] == "trace-1" and log[1]["x_request_id"] is None
    assert api.token not in str(log)
    admin.clear_requests()
    assert admin.requests_log() == []


def test_admin_server_shows_interfaces(admin: AdminClient, cloud: None) -> None:
    server = admin.server(SERVER)
    assert server["tags"] == ["role=db", "env=prod"]
    assert [i["net_id"] for i in admin.interfaces(SERVER)] == [NET]
    assert [i["net_id"] for i in admin.interfaces(BUILDING)] == []


def test_admin_state_seed_and_reset(admin: AdminClient, emulator: EmulatorServer) -> None:
    created = admin.seed(
        {
            "networks": [{"id": NET, "cidr": "10.20.0.0/24"}],
            "ports": [{"id": FREE_PORT, "net_id": NET, "fixed_ip": "10.20.0.50"}],
            "servers": [
                {"id": SERVER, "project_id": PROJECT, "interfaces": [{"port_id": FREE_PORT}]}
            ],
            "tokens": ["seeded-token", {"token": "bound", "projects": [PROJECT]}],
        }
    )
    assert created["servers"][0]["interfaces"][0]["fixed_ips"][0]["ip_address"] == "10.20.0.50"
    state = admin.state()
    assert [len(state[k]) for k in ("networks", "ports", "servers")] == [1, 1, 1]
    assert "seeded-token" not in str(state)
    with requests.Session() as http:
        url = f"{emulator.url}/v2.1/{PROJECT}/servers/{SERVER}"
        assert http.get(url, headers={"X-Auth-Token": "seeded-token"}).ok
        admin.reset()
        assert http.get(url, headers={"X-Auth-Token": "seeded-token"}).status_code == 404
    assert admin.state()["servers"] == []


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda a: a.create_network("bad"), 400),
        (lambda a: a.create_server(PROJECT, status="PAUSED"), 400),
        (lambda a: a.create_port(GHOST), 404),
        (lambda a: a.server(GHOST), 404),
        (lambda a: a.seed({"bogus": []}), 400),
        (lambda a: a.seed({"servers": [{"project_id": PROJECT, "tags": "role=db"}]}), 400),
        (lambda a: a.set_options(nova_errors="yes"), 400),
    ],
)
def test_admin_errors_raise_admin_error(admin: AdminClient, call: Any, status: int) -> None:
    with pytest.raises(AdminError) as caught:
        call(admin)
    assert caught.value.status == status


def test_unknown_admin_route_is_404(http: requests.Session, emulator: EmulatorServer) -> None:
    assert http.get(f"{emulator.url}/_admin/nothing").status_code == 404
    assert http.delete(f"{emulator.url}/_admin/state").status_code == 405


def test_handler_crash_is_a_500_without_traceback(
    api: Api, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(emulator.backend, "get_server", boom)
    response = api("GET", f"/servers/{SERVER}")
    assert response.status_code == 500
    message = response.json()["computeFault"]["message"]
    assert "builtins.RuntimeError" in message
    assert "secret internals" not in response.text and "Traceback" not in response.text
