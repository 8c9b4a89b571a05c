"""The emulator through real HTTP: every answer the contract lists, status and body."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient, AdminError
from emulator.server import EmulatorServer

NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
OTHER_NET = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
BUILDING = "5b1f2c3d-0a4e-4f6b-9c8d-7e6f5a4b3c2d"
BROKEN = "6c2a3d4e-1b5f-4a7c-8d9e-0f1a2b3c4d5e"
OTHER = "7d3b4e5f-2c6a-4b8d-9e0f-1a2b3c4d5e6f"
FREE_PORT = "ce531f90-199f-48c0-816c-13e38010b442"
BUSY_PORT = "de642a01-2a0a-4b1d-927f-24f49121c553"
GHOST = "11111111-2222-4333-8444-555555555555"
REQUEST_ID = re.compile(r"^req-[0-9a-f-]{36}$")


@pytest.fixture
def http(emulator: EmulatorServer) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def cloud(admin: AdminClient) -> None:
    admin.create_network("10.20.0.0/24", id=NET, name="storage")
    admin.create_network("10.30.0.0/24", id=OTHER_NET, name="backup")
    admin.create_port(NET, id=FREE_PORT)  # 10.20.0.2
    admin.create_port(NET, id=BUSY_PORT)  # 10.20.0.3; SERVER's boot NIC gets .4
    admin.create_server(
        PROJECT, id=SERVER, tags=["role=db", "env=prod"], interfaces=[{"net_id": NET}]
    )
    admin.create_server(PROJECT, id=BUILDING, build_seconds=3600)
    admin.create_server(PROJECT, id=BROKEN, status="ERROR")
    admin.create_server(PROJECT, id=OTHER, interfaces=[{"port_id": BUSY_PORT}])


class Api:
    def __init__(self, http: requests.Session, url: str, token: str) -> None:
        self.http, self.url, self.token = http, url, token

    def __call__(
        self,
        method: str,
        path: str,
        *,
        version: str | None = None,
        token: str | None = None,
        project: str = PROJECT,
        api: str = "v2.1",
        **kwargs: Any,
    ) -> requests.Response:
        headers = {"X-Auth-Token": token or self.token, **kwargs.pop("headers", {})}
        if version is not None:
            headers["X-OpenStack-Nova-API-Version"] = version
        return self.http.request(
            method, f"{self.url}/{api}/{project}{path}", headers=headers, **kwargs
        )


@pytest.fixture
def api(http: requests.Session, emulator: EmulatorServer, emulator_token: str, cloud: None) -> Api:
    return Api(http, emulator.url, emulator_token)


def attach_path(server: str = SERVER) -> str:
    return f"/servers/{server}/os-interface"


def fault(kind: str, code: int, message: str) -> dict[str, Any]:
    return {kind: {"code": code, "message": message}}


# -- attach: every answer of NOVA_BEHAVIOUR.md rows 7-21 and 30 -------------------------------

ATTACH_CASES = [
    ("no body", SERVER, None, None, 400, fault("badRequest", 400, "None is not of type 'object'")),
    (
        "unknown key",
        SERVER,
        {"net_id": NET, "foo": "bar"},
        None,
        400,
        "Additional properties are not allowed ('foo' was unexpected)",
    ),
    (
        "tag before 2.49",
        SERVER,
        {"net_id": NET, "tag": "x"},
        None,
        400,
        "Additional properties are not allowed ('tag' was unexpected)",
    ),
    (
        "both ids",
        SERVER,
        {"net_id": NET, "port_id": FREE_PORT},
        None,
        400,
        fault("badRequest", 400, "Must not input both network_id and port_id"),
    ),
    (
        "ip without net",
        SERVER,
        {"fixed_ips": [{"ip_address": "10.20.0.9"}]},
        None,
        400,
        fault("badRequest", 400, "Must input network_id when request IP address"),
    ),
    (
        "two fixed ips",
        SERVER,
        {"net_id": NET, "fixed_ips": [{"ip_address": "10.20.0.80"}, {"ip_address": "10.20.0.81"}]},
        None,
        400,
        "Invalid input for field/attribute fixed_ips. Value: [{'ip_address': "
        "'10.20.0.80'}, {'ip_address': '10.20.0.81'}]. [{'ip_address': '10.20.0.80'}, "
        "{'ip_address': '10.20.0.81'}] is too long",
    ),
    (
        "bad ip",
        SERVER,
        {"net_id": NET, "fixed_ips": [{"ip_address": "not-an-ip"}]},
        None,
        400,
        "Invalid input for field/attribute ip_address. Value: not-an-ip. 'not-an-ip' is not "
        "valid under any of the given schemas",
    ),
    (
        "net not uuid",
        SERVER,
        {"net_id": "private"},
        None,
        400,
        "Invalid input for field/attribute net_id. Value: private. 'private' is not a 'uuid'",
    ),
    ("port not uuid", SERVER, {"port_id": " " + FREE_PORT}, None, 400, "is not a 'uuid'"),
    (
        "unknown network",
        SERVER,
        {"net_id": GHOST},
        None,
        404,
        fault("itemNotFound", 404, f"Network {GHOST} could not be found."),
    ),
    (
        "ip outside subnet",
        SERVER,
        {"net_id": NET, "fixed_ips": [{"ip_address": "172.16.5.5"}]},
        None,
        400,
        "IP address 172.16.5.5 is not a valid IP",
    ),
    (
        "unknown port",
        SERVER,
        {"port_id": GHOST},
        None,
        404,
        fault("itemNotFound", 404, f"Port id {GHOST} could not be found."),
    ),
    (
        "port in use",
        SERVER,
        {"port_id": BUSY_PORT},
        None,
        409,
        fault("conflictingRequest", 409, f"Port {BUSY_PORT} is still in use."),
    ),
    (
        "ambiguous network",
        SERVER,
        {},
        None,
        400,
        fault(
            "badRequest",
            400,
            "Multiple possible networks found, use a Network ID to be more specific.",
        ),
    ),
    (
        "building",
        BUILDING,
        {"net_id": NET},
        None,
        409,
        fault(
            "conflictingRequest",
            409,
            f"Cannot 'attach_interface' instance {BUILDING} while it is in vm_state building",
        ),
    ),
    (
        "error state",
        BROKEN,
        {"net_id": NET},
        None,
        409,
        fault(
            "conflictingRequest",
            409,
            f"Cannot 'attach_interface' instance {BROKEN} while it is in vm_state error",
        ),
    ),
    (
        "unknown server",
        GHOST,
        {"net_id": NET},
        None,
        404,
        fault("itemNotFound", 404, f"Instance {GHOST} could not be found."),
    ),
    ("tag at 2.49", SERVER, {"net_id": NET, "tag": "nicattach"}, "2.49", 200, None),
    ("net only", SERVER, {"net_id": NET}, None, 200, None),
    (
        "fixed ip",
        SERVER,
        {"net_id": NET, "fixed_ips": [{"ip_address": "10.20.0.77"}]},
        None,
        200,
        None,
    ),
    ("free port", SERVER, {"port_id": FREE_PORT}, None, 200, None),
]


@pytest.mark.parametrize(
    ("server", "attachment", "version", "status", "expected"),
    [case[1:] for case in ATTACH_CASES],
    ids=[case[0] for case in ATTACH_CASES],
)
def test_attach_answers(
    api: Api,
    server: str,
    attachment: dict[str, Any] | None,
    version: str | None,
    status: int,
    expected: dict[str, Any] | str | None,
) -> None:
    body = None if attachment is None else {"interfaceAttachment": attachment}
    response = api("POST", attach_path(server), version=version, json=body)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    if isinstance(expected, dict):
        assert response.json() == expected
    elif isinstance(expected, str):
        assert expected in response.json()["badRequest"]["message"]
    else:
        assert set(response.json()["interfaceAttachment"]) == {
            "port_state",
            "fixed_ips",
            "port_id",
            "net_id",
            "mac_addr",
        }


@pytest.mark.parametrize(
    ("raw", "headers", "status", "kind"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "badRequest"),
        (b"net_id=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "badMediaType"),
        (b'"text"', {"Content-Type": "application/json"}, 400, "badRequest"),
        (b'{"interfaceAttachment": {}, "x": 1}', {}, 400, "badRequest"),
    ],
)
def test_attach_rejects_bad_bodies(
    api: Api, raw: bytes, headers: dict[str, str], status: int, kind: str
) -> None:
    response = api("POST", attach_path(), data=raw, headers=headers)
    assert response.status_code == status
    assert response.json()[kind]["code"] == status


def test_attach_returns_what_get_shows(api: Api) -> None:
    body = {"interfaceAttachment": {"net_id": NET, "fixed_ips": [{"ip_address": "10.20.0.77"}]}}
    attached = api("POST", attach_path(), json=body).json()["interfaceAttachment"]
    assert attached["fixed_ips"][0]["ip_address"] == "10.20.0.77"
    assert attached["port_state"] == "ACTIVE" and attached["mac_addr"].startswith("fa:16:3e:")
    shown = api("GET", f"{attach_path()}/{attached['port_id']}").json()
    assert shown == {"interfaceAttachment": attached}
    again = api("POST", attach_path(), json=body)
    assert again.status_code == 409
    assert again.json() == fault(
        "conflictingRequest", 409, "Fixed IP 10.20.0.77 is already in use."
    )


def test_two_nics_on_one_network_are_allowed(api: Api) -> None:
    for _ in range(2):
        assert api("POST", attach_path(), json={"interfaceAttachment": {"net_id": NET}}).ok
    listed = api("GET", attach_path()).json()["interfaceAttachments"]
    assert [i["net_id"] for i in listed] == [NET, NET, NET]
    addresses = [i["fixed_ips"][0]["ip_address"] for i in listed]
    assert addresses == ["10.20.0.4", "10.20.0.5", "10.20.0.6"]


@pytest.mark.parametrize(
    ("attachment", "cls"),
    [
        ({"net_id": GHOST}, "neutronclient.common.exceptions.NetworkNotFoundClient"),
        (
            {"net_id": NET, "fixed_ips": [{"ip_address": "172.16.5.5"}]},
            "nova.exception.InvalidInput",
        ),
    ],
)
def test_nova_errors_answers_500_like_real_nova(
    api: Api, admin: AdminClient, attachment: dict[str, Any], cls: str
) -> None:
    admin.set_options(nova_errors=True)
    response = api("POST", attach_path(), json={"interfaceAttachment": attachment})
    assert response.status_code == 500
    message = f"Unexpected API Error. Please contact the administrator\n<class '{cls}'>"
    assert response.json() == fault("computeFault", 500, message)


# -- reading servers, interfaces and tags -------------------------------------------------------


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


# -- auth, microversions, protocol ----------------------------------------------------------


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
