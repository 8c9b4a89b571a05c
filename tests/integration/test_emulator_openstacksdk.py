"""The real openstacksdk against the emulator: proof that it speaks the compute API.

No Keystone: a keystoneauth ``token_endpoint.Token`` gives the token, and
``compute_endpoint_override`` points the SDK at the emulator, so the SDK runs
its own version discovery and microversion negotiation against it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from openstack import connection, exceptions
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.server import EmulatorServer

# openstacksdk 4.x warns about its own internals (Resource._compute_attributes,
# Proxy._extract_name's service_type) on every call; these are not about our usage.
pytestmark = pytest.mark.filterwarnings("ignore::openstack.warnings.RemovedInSDK50Warning")

NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
OTHER_NET = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
BUILDING = "5b1f2c3d-0a4e-4f6b-9c8d-7e6f5a4b3c2d"
FREE_PORT = "ce531f90-199f-48c0-816c-13e38010b442"
GHOST = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def conn(
    emulator: EmulatorServer, admin: AdminClient, emulator_token: str
) -> Iterator[connection.Connection]:
    admin.create_network("10.20.0.0/24", id=NET, name="storage")
    admin.create_network("10.30.0.0/24", id=OTHER_NET, name="backup")
    admin.create_port(NET, id=FREE_PORT, fixed_ip="10.20.0.50")
    admin.create_server(
        PROJECT, id=SERVER, tags=["role=db", "env=prod"], interfaces=[{"net_id": NET}]
    )
    admin.create_server(PROJECT, id=BUILDING, build_seconds=3600)
    endpoint = f"{emulator.url}/v2.1/{PROJECT}"
    session = ks_session.Session(auth=token_endpoint.Token(endpoint, emulator_token))
    conn = connection.Connection(session=session, compute_endpoint_override=endpoint)
    yield conn
    conn.close()
    session.session.close()


def test_get_server_with_tags(conn: connection.Connection) -> None:
    server = conn.compute.get_server(SERVER)
    assert (server.id, server.status, server.project_id) == (SERVER, "ACTIVE", PROJECT)
    assert server.tags == ["role=db", "env=prod"]
    assert server.vm_state == "active"
    assert server.addresses["storage"][0]["addr"] == "10.20.0.2"


def test_sdk_negotiates_a_microversion(conn: connection.Connection, admin: AdminClient) -> None:
    conn.compute.get_server(SERVER)
    calls = [e for e in admin.requests_log() if e["path"].endswith(SERVER)]
    assert calls and calls[-1]["microversion"] not in (None, "2.1")


def test_list_create_get_delete_interfaces(conn: connection.Connection) -> None:
    before = list(conn.compute.server_interfaces(SERVER))
    assert [(i.net_id, i.port_state) for i in before] == [(NET, "ACTIVE")]
    created = conn.compute.create_server_interface(SERVER, net_id=NET)
    assert created.net_id == NET and created.mac_addr.startswith("fa:16:3e:")
    assert created.fixed_ips[0]["ip_address"] == "10.20.0.3"
    fetched = conn.compute.get_server_interface(created.port_id, server=SERVER)
    assert fetched.fixed_ips == created.fixed_ips
    conn.compute.delete_server_interface(created.port_id, server=SERVER)
    assert [i.port_id for i in conn.compute.server_interfaces(SERVER)] == [before[0].port_id]


def test_create_with_fixed_ip_and_by_port(conn: connection.Connection) -> None:
    fixed = conn.compute.create_server_interface(
        SERVER, net_id=OTHER_NET, fixed_ips=[{"ip_address": "10.30.0.77"}]
    )
    assert fixed.fixed_ips[0]["ip_address"] == "10.30.0.77"
    by_port = conn.compute.create_server_interface(SERVER, port_id=FREE_PORT)
    assert (by_port.port_id, by_port.fixed_ips[0]["ip_address"]) == (FREE_PORT, "10.20.0.50")
    assert len(list(conn.compute.server_interfaces(SERVER))) == 3


def test_interface_tag_round_trip(conn: connection.Connection) -> None:
    created = conn.compute.create_server_interface(SERVER, net_id=NET, tag="nicattach")
    assert created.tag == "nicattach"


def test_build_server_lists_no_interfaces(conn: connection.Connection) -> None:
    assert conn.compute.get_server(BUILDING).status == "BUILD"
    assert list(conn.compute.server_interfaces(BUILDING)) == []


def test_list_servers_pages(conn: connection.Connection, admin: AdminClient) -> None:
    for _ in range(5):
        admin.create_server(PROJECT)
    servers = list(conn.compute.servers(details=True, limit=2))
    assert len(servers) == 7 and servers[-1].id == SERVER


@pytest.mark.parametrize(
    ("server", "attrs", "error"),
    [
        (GHOST, {"net_id": NET}, exceptions.NotFoundException),
        (SERVER, {"net_id": GHOST}, exceptions.NotFoundException),
        (SERVER, {"net_id": NET, "port_id": FREE_PORT}, exceptions.BadRequestException),
        (SERVER, {"net_id": "private"}, exceptions.BadRequestException),
        (
            SERVER,
            {"net_id": NET, "fixed_ips": [{"ip_address": "10.20.0.2"}]},
            exceptions.ConflictException,
        ),
        (BUILDING, {"net_id": NET}, exceptions.ConflictException),
    ],
)
def test_errors_become_sdk_exceptions(
    conn: connection.Connection, server: str, attrs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        conn.compute.create_server_interface(server, **attrs)


def test_missing_server_is_resource_not_found(conn: connection.Connection) -> None:
    with pytest.raises(exceptions.ResourceNotFound):
        conn.compute.get_server(GHOST)
    with pytest.raises(exceptions.ResourceNotFound):
        conn.compute.get_server_interface(GHOST, server=SERVER)


def test_error_message_reaches_the_sdk(conn: connection.Connection) -> None:
    with pytest.raises(exceptions.ConflictException) as caught:
        conn.compute.create_server_interface(
            SERVER, net_id=NET, fixed_ips=[{"ip_address": "10.20.0.2"}]
        )
    assert "Fixed IP 10.20.0.2 is already in use." in str(caught.value)
    assert caught.value.request_id and caught.value.request_id.startswith("req-")
