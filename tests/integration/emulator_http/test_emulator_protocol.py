"""The emulator's Nova API through real HTTP: tokens, microversions, request ids, paging."""

from __future__ import annotations

import pytest
import requests
from support import PROJECT

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from emulator_http.nova_http import (
    BROKEN,
    BUILDING,
    GHOST,
    OTHER,
    REQUEST_ID,
    SERVER,
    Api,
    attach_path,
    fault,
)


def test_unknown_token_is_401(api: Api) -> None:
    response = api("GET", f"/servers/{SERVER}", token="wrong")
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": 401,
            "title": "Unauthorized",
            "message": "The request you have made requires authentication.",
        }
    }


def test_missing_token_is_401(http: requests.Session, emulator: EmulatorServer) -> None:
    response = http.get(f"{emulator.url}/v2.1/{PROJECT}/servers/{SERVER}")
    assert response.status_code == 401


def test_token_bound_to_other_projects_is_403(api: Api, admin: AdminClient) -> None:
    admin.add_token("bound-token", projects=["elsewhere"])
    response = api("GET", f"/servers/{SERVER}", token="bound-token")
    assert response.status_code == 403
    assert response.json()["forbidden"]["code"] == 403
    assert (
        api("GET", f"/servers/{SERVER}", token="bound-token", project="elsewhere").status_code
        == 404
    )


@pytest.mark.parametrize(
    ("headers", "status", "echoed"),
    [
        ({}, 200, "2.1"),
        ({"X-OpenStack-Nova-API-Version": "2.26"}, 200, "2.26"),
        ({"OpenStack-API-Version": "compute 2.70"}, 200, "2.70"),
        (
            {"OpenStack-API-Version": "compute 2.60", "X-OpenStack-Nova-API-Version": "2.3"},
            200,
            "2.60",
        ),
        ({"X-OpenStack-Nova-API-Version": "latest"}, 200, "2.96"),
        ({"OpenStack-API-Version": "compute latest"}, 200, "2.96"),
        ({"X-OpenStack-Nova-API-Version": "2.97"}, 406, None),
        ({"X-OpenStack-Nova-API-Version": "3.0"}, 406, None),
        ({"X-OpenStack-Nova-API-Version": "2.0"}, 406, None),
        ({"X-OpenStack-Nova-API-Version": "two"}, 400, None),
        ({"OpenStack-API-Version": "compute 2.x"}, 400, None),
    ],
)
def test_microversions(api: Api, headers: dict[str, str], status: int, echoed: str | None) -> None:
    response = api("GET", f"/servers/{SERVER}", headers=headers)
    assert response.status_code == status
    if echoed is None:
        assert "X-OpenStack-Nova-API-Version" not in response.headers
        kind = "badRequest" if status == 400 else "computeFault"
        assert response.json()[kind]["code"] == status
    else:
        assert response.headers["X-OpenStack-Nova-API-Version"] == echoed
        assert response.headers["OpenStack-API-Version"] == f"compute {echoed}"


def test_legacy_v2_ignores_microversions(api: Api) -> None:
    response = api("GET", f"/servers/{SERVER}", api="v2", version="2.26")
    assert response.status_code == 200
    assert "tags" not in response.json()["server"]
    assert "X-OpenStack-Nova-API-Version" not in response.headers
    assert api("GET", f"/servers/{SERVER}/tags", api="v2", version="2.26").status_code == 404


def test_request_ids_on_every_answer(api: Api) -> None:
    for response in (api("GET", f"/servers/{SERVER}"), api("GET", f"/servers/{GHOST}")):
        request_id = response.headers["x-openstack-request-id"]
        assert REQUEST_ID.match(request_id)
        assert response.headers["x-compute-request-id"] == request_id


def test_unsupported_method_is_405(api: Api) -> None:
    response = api("PUT", f"/servers/{SERVER}")
    assert response.status_code == 405
    assert response.json()["badMethod"]["code"] == 405
    assert response.headers["Allow"] == "DELETE, GET"


def test_keep_alive_reuses_one_connection(api: Api, emulator: EmulatorServer) -> None:
    before = emulator.connections_accepted
    for _ in range(3):
        assert api("GET", f"/servers/{SERVER}").ok
        assert api("GET", f"/servers/{GHOST}").status_code == 404
        assert api("POST", attach_path(), data=b"{bad").status_code == 400
    assert emulator.connections_accepted - before <= 1


@pytest.mark.parametrize("path", ["/", "/v2.1", "/v2.1/", "/v2/"])
def test_version_discovery_needs_no_token(
    http: requests.Session, emulator: EmulatorServer, path: str
) -> None:
    response = http.get(f"{emulator.url}{path}")
    assert response.status_code == 200
    body = response.json()
    if path == "/":
        current = [v for v in body["versions"] if v["status"] == "CURRENT"]
        assert [(v["id"], v["version"], v["min_version"]) for v in current] == [
            ("v2.1", "2.96", "2.1")
        ]
    elif path.startswith("/v2.1"):
        assert body["version"]["id"] == "v2.1" and body["version"]["version"] == "2.96"
    else:
        assert body["version"]["id"] == "v2.0"


# -- paging ---------------------------------------------------------------------------------


@pytest.mark.parametrize("listing", ["/servers", "/servers/detail"])
def test_paging_follows_next_links(api: Api, listing: str, http: requests.Session) -> None:
    seen: list[str] = []
    response = api("GET", f"{listing}?limit=3")
    while True:
        body = response.json()
        seen += [server["id"] for server in body["servers"]]
        links = body.get("servers_links", [])
        if not links:
            break
        assert links[0]["rel"] == "next" and "limit=3" in links[0]["href"]
        response = http.get(links[0]["href"], headers={"X-Auth-Token": api.token})
    assert seen == [OTHER, BROKEN, BUILDING, SERVER]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?marker=nope", 400),
        ("?limit=-1", 400),
        ("?limit=abc", 400),
        ("?limit=0", 200),
        ("?limit=5000", 200),
    ],
)
def test_paging_errors(api: Api, query: str, status: int) -> None:
    response = api("GET", f"/servers/detail{query}")
    assert response.status_code == status
    if query == "?marker=nope":
        assert response.json() == fault("badRequest", 400, "marker [nope] not found")


# -- request log and admin API ----------------------------------------------------------------
