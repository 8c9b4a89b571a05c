"""The emulator's Nova reads and detach through real HTTP: servers, interfaces, tags."""

from __future__ import annotations

from typing import Any

import pytest
from support import PROJECT

from emulator.client import AdminClient
from emulator_http.nova_http import BUILDING, FREE_PORT, GHOST, NET, SERVER, Api, attach_path, fault


def test_get_server(api: Api) -> None:
    server = api("GET", f"/servers/{SERVER}").json()["server"]
    assert server["id"] == SERVER and server["status"] == "ACTIVE"
    assert server["tenant_id"] == PROJECT and server["metadata"] == {}
    assert server["OS-EXT-STS:vm_state"] == "active" and server["OS-EXT-STS:task_state"] is None
    assert server["addresses"]["storage"][0]["addr"] == "10.20.0.4"
    assert "tags" not in server
    tagged = api("GET", f"/servers/{SERVER}", version="2.26").json()["server"]
    assert tagged["tags"] == ["role=db", "env=prod"]


@pytest.mark.parametrize(
    ("path", "version", "status", "expected"),
    [
        (
            f"/servers/{GHOST}",
            None,
            404,
            fault("itemNotFound", 404, f"Instance {GHOST} could not be found."),
        ),
        (
            f"/servers/{SERVER}/tags",
            None,
            404,
            fault("itemNotFound", 404, "The resource could not be found."),
        ),
        (f"/servers/{SERVER}/tags", "2.25", 404, None),
        (f"/servers/{SERVER}/tags", "2.26", 200, {"tags": ["role=db", "env=prod"]}),
        (f"/servers/{GHOST}/tags", "2.26", 404, None),
        (f"/servers/{BUILDING}/os-interface", None, 200, {"interfaceAttachments": []}),
        (
            f"/servers/{GHOST}/os-interface",
            None,
            404,
            fault("itemNotFound", 404, f"Instance {GHOST} could not be found."),
        ),
        (
            f"/servers/{SERVER}/os-interface/{FREE_PORT}",
            None,
            404,
            fault(
                "itemNotFound", 404, f"Instance {SERVER} does not have a port with id {FREE_PORT}"
            ),
        ),
        (
            f"/servers/{SERVER}/os-interface/{GHOST}",
            None,
            404,
            fault("itemNotFound", 404, f"Port id {GHOST} could not be found."),
        ),
        (
            "/servers/nope/nothing/here",
            None,
            404,
            fault("itemNotFound", 404, "The resource could not be found."),
        ),
        ("/flavors", None, 404, None),
    ],
)
def test_read_answers(
    api: Api, path: str, version: str | None, status: int, expected: dict[str, Any] | None
) -> None:
    response = api("GET", path, version=version)
    assert response.status_code == status, response.text
    if expected is not None:
        assert response.json() == expected


def test_other_projects_servers_are_not_found(api: Api) -> None:
    response = api("GET", f"/servers/{SERVER}", project="someone-else")
    assert response.status_code == 404


def test_build_status_and_interfaces(api: Api, admin: AdminClient) -> None:
    server = api("GET", f"/servers/{BUILDING}").json()["server"]
    assert (server["status"], server["OS-EXT-STS:vm_state"]) == ("BUILD", "building")
    admin.update_server(BUILDING, status="ACTIVE")
    assert api("GET", f"/servers/{BUILDING}").json()["server"]["status"] == "ACTIVE"


def test_interface_tag_shows_from_2_70(api: Api) -> None:
    body = {"interfaceAttachment": {"net_id": NET, "tag": "nicattach"}}
    attached = api("POST", attach_path(), json=body, version="2.70").json()["interfaceAttachment"]
    assert attached["tag"] == "nicattach"
    old = api("GET", attach_path(), version="2.69").json()["interfaceAttachments"]
    assert all("tag" not in item for item in old)
    new = api("GET", attach_path(), version="2.70").json()["interfaceAttachments"]
    assert [item["tag"] for item in new] == [None, "nicattach"]


# -- detach ---------------------------------------------------------------------------------


def test_detach_is_202_even_when_not_attached(api: Api) -> None:
    port = api("GET", attach_path()).json()["interfaceAttachments"][0]["port_id"]
    for _ in range(2):
        response = api("DELETE", f"{attach_path()}/{port}")
        assert (response.status_code, response.content) == (202, b"")
    assert api("DELETE", f"{attach_path()}/{GHOST}").status_code == 202
    assert api("GET", attach_path()).json() == {"interfaceAttachments": []}


def test_detach_errors(api: Api) -> None:
    assert api("DELETE", f"{attach_path(GHOST)}/{GHOST}").status_code == 404
    response = api("DELETE", f"{attach_path(BUILDING)}/{GHOST}")
    assert response.status_code == 409
    assert "Cannot 'detach_interface'" in response.json()["conflictingRequest"]["message"]


def test_delayed_detach(api: Api, admin: AdminClient) -> None:
    admin.set_options(detach_delay_seconds=0.3)
    port = api("GET", attach_path()).json()["interfaceAttachments"][0]["port_id"]
    assert api("DELETE", f"{attach_path()}/{port}").status_code == 202
    assert len(api("GET", attach_path()).json()["interfaceAttachments"]) == 1
    admin.set_options(detach_delay_seconds=0)  # the pending one keeps its deadline
