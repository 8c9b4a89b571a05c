"""The emulator's backend without HTTP: IP allocation, time, Nova's errors, tokens."""

from __future__ import annotations

import random
import threading

import pytest

from emulator.app import EmulatorApp
from emulator.compute.models import FakeBackend
from emulator.compute.records import AttachRequest
from emulator.core.errors import (
    BadRequest,
    ComputeFault,
    Conflict,
    FakeApiError,
    Forbidden,
    ItemNotFound,
    Unauthorized,
)
from emulator.core.wire import Request
from emulator.identity.tokens import TokenStore

PROJECT = "p1"
NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
OTHER_NET = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
PORT = "ce531f90-199f-48c0-816c-13e38010b442"
GHOST = "11111111-2222-4333-8444-555555555555"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(clock: FakeClock) -> FakeBackend:
    backend = FakeBackend(clock=clock, rng=random.Random(7))
    backend.create_network("10.20.0.0/24", id=NET, name="storage")
    backend.create_server(PROJECT, id=SERVER, tags=["role=db"])
    return backend


def attach(backend: FakeBackend, **fields: str) -> str:
    return backend.attach_interface(PROJECT, SERVER, AttachRequest(**fields)).ip_address


def test_new_ports_get_the_first_free_address_from_2_upwards(backend: FakeBackend) -> None:
    assert [attach(backend, net_id=NET) for _ in range(3)] == [
        "10.20.0.2",
        "10.20.0.3",
        "10.20.0.4",
    ]


def test_allocation_skips_fixed_addresses_in_use(backend: FakeBackend) -> None:
    assert attach(backend, net_id=NET, ip_address="10.20.0.3") == "10.20.0.3"
    assert [attach(backend, net_id=NET) for _ in range(2)] == ["10.20.0.2", "10.20.0.4"]


def test_a_detached_auto_port_frees_its_address(backend: FakeBackend) -> None:
    port = backend.attach_interface(PROJECT, SERVER, AttachRequest(net_id=NET))
    backend.detach_interface(PROJECT, SERVER, port.port_id)
    assert attach(backend, net_id=NET) == "10.20.0.2"
    assert port.port_id not in {p["id"] for p in backend.state()["ports"]}


def test_interface_fields_match_nova(backend: FakeBackend) -> None:
    found = backend.attach_interface(PROJECT, SERVER, AttachRequest(net_id=NET))
    view = found.to_dict()
    assert view["net_id"] == NET and view["port_state"] == "ACTIVE"
    assert view["fixed_ips"] == [{"subnet_id": found.subnet_id, "ip_address": "10.20.0.2"}]
    assert str(view["mac_addr"]).startswith("fa:16:3e:")


def test_macs_are_unique(backend: FakeBackend) -> None:
    found = [
        backend.attach_interface(PROJECT, SERVER, AttachRequest(net_id=NET)) for _ in range(50)
    ]
    assert len({interface.mac_addr for interface in found}) == 50


def test_duplicate_nics_on_one_network_are_allowed_like_nova(backend: FakeBackend) -> None:
    attach(backend, net_id=NET)
    attach(backend, net_id=NET)
    interfaces = backend.list_interfaces(PROJECT, SERVER)
    assert [interface.net_id for interface in interfaces] == [NET, NET]


def test_server_builds_then_becomes_active(backend: FakeBackend, clock: FakeClock) -> None:
    backend.create_server(PROJECT, id=GHOST, build_seconds=5)
    assert backend.get_server(PROJECT, GHOST).status == "BUILD"
    with pytest.raises(Conflict, match="while it is in vm_state building"):
        backend.attach_interface(PROJECT, GHOST, AttachRequest(net_id=NET))
    clock.advance(5)
    assert backend.get_server(PROJECT, GHOST).status == "ACTIVE"
    assert backend.attach_interface(PROJECT, GHOST, AttachRequest(net_id=NET))


def test_boot_interfaces_are_hidden_while_building(backend: FakeBackend, clock: FakeClock) -> None:
    backend.create_server(PROJECT, id=GHOST, build_seconds=3, interfaces=[AttachRequest(NET)])
    assert backend.list_interfaces(PROJECT, GHOST) == []
    assert len(backend.admin_server(GHOST).interfaces) == 1
    clock.advance(3)
    assert [i.net_id for i in backend.list_interfaces(PROJECT, GHOST)] == [NET]


@pytest.mark.parametrize(
    ("status", "build_seconds", "after"),
    [
        ("BUILD", 2, "ACTIVE"),
        ("BUILD", 0, "BUILD"),
        ("ERROR", 2, "ERROR"),
        ("SHUTOFF", 2, "SHUTOFF"),
    ],
)
def test_status_after_the_build(
    backend: FakeBackend, clock: FakeClock, status: str, build_seconds: float, after: str
) -> None:
    backend.create_server(PROJECT, id=GHOST, status=status, build_seconds=build_seconds)
    assert backend.get_server(PROJECT, GHOST).status == ("BUILD" if build_seconds else status)
    clock.advance(2)
    assert backend.get_server(PROJECT, GHOST).status == after


def test_backend_default_build_seconds(clock: FakeClock) -> None:
    backend = FakeBackend(clock=clock, build_seconds=2)
    server = backend.create_server(PROJECT)
    assert server.status == "BUILD"
    clock.advance(2)
    assert backend.get_server(PROJECT, server.id).status == "ACTIVE"


@pytest.mark.parametrize(
    ("status", "vm_state", "attachable"),
    [
        ("ACTIVE", "active", True),
        ("SHUTOFF", "stopped", True),
        ("ERROR", "error", False),
        ("BUILD", "building", False),
    ],
)
def test_statuses(backend: FakeBackend, status: str, vm_state: str, attachable: bool) -> None:
    server = backend.create_server(PROJECT, id=GHOST, status=status)
    assert (server.status, server.vm_state) == (status, vm_state)
    if attachable:
        backend.attach_interface(PROJECT, GHOST, AttachRequest(net_id=NET))
    else:
        message = f"Cannot 'attach_interface' instance {GHOST} while it is in vm_state {vm_state}"
        with pytest.raises(Conflict) as caught:
            backend.attach_interface(PROJECT, GHOST, AttachRequest(net_id=NET))
        assert caught.value.message == message


def test_port_is_down_for_port_down_seconds(backend: FakeBackend, clock: FakeClock) -> None:
    backend.port_down_seconds = 2
    port = backend.attach_interface(PROJECT, SERVER, AttachRequest(net_id=NET))
    assert port.port_state == "DOWN"
    clock.advance(2)
    assert backend.get_interface(PROJECT, SERVER, port.port_id).port_state == "ACTIVE"


def test_detach_with_delay_is_asynchronous(backend: FakeBackend, clock: FakeClock) -> None:
    backend.detach_delay_seconds = 1.5
    port = backend.attach_interface(PROJECT, SERVER, AttachRequest(net_id=NET))
    backend.detach_interface(PROJECT, SERVER, port.port_id)
    assert len(backend.list_interfaces(PROJECT, SERVER)) == 1
    backend.detach_interface(PROJECT, SERVER, port.port_id)  # again: still accepted
    clock.advance(1.5)
    assert backend.list_interfaces(PROJECT, SERVER) == []


def test_detach_of_a_port_that_is_not_attached_is_ignored(backend: FakeBackend) -> None:
    backend.detach_interface(PROJECT, SERVER, GHOST)
    assert backend.list_interfaces(PROJECT, SERVER) == []


def test_attach_by_free_port_and_detach_keeps_the_port(backend: FakeBackend) -> None:
    backend.create_port(NET, id=PORT, fixed_ip="10.20.0.50")
    found = backend.attach_interface(PROJECT, SERVER, AttachRequest(port_id=PORT))
    assert (found.port_id, found.ip_address) == (PORT, "10.20.0.50")
    backend.detach_interface(PROJECT, SERVER, PORT)
    ports = {p["id"]: p for p in backend.state()["ports"]}
    assert ports[PORT]["server_id"] is None


def _errors() -> list[tuple[AttachRequest, type[FakeApiError], str]]:
    return [
        (
            AttachRequest(net_id=NET, port_id=PORT),
            BadRequest,
            "Must not input both network_id and port_id",
        ),
        (
            AttachRequest(port_id=PORT, ip_address="10.20.0.9"),
            BadRequest,
            "Must input network_id when request IP address",
        ),
        (AttachRequest(net_id=GHOST), ItemNotFound, f"Network {GHOST} could not be found."),
        (AttachRequest(port_id=GHOST), ItemNotFound, f"Port id {GHOST} could not be found."),
        (
            AttachRequest(net_id=NET, ip_address="10.20.0.1"),
            Conflict,
            "Fixed IP 10.20.0.1 is already in use.",
        ),
        (
            AttachRequest(net_id=NET, ip_address="172.16.5.5"),
            BadRequest,
            "Invalid input received: IP address 172.16.5.5 is not a valid IP for the subnet",
        ),
    ]


@pytest.mark.parametrize(("request_", "error", "message"), _errors())
def test_attach_errors(
    backend: FakeBackend, request_: AttachRequest, error: type[FakeApiError], message: str
) -> None:
    with pytest.raises(error) as caught:
        backend.attach_interface(PROJECT, SERVER, request_)
    assert caught.value.message.startswith(message)


def test_fixed_ip_in_use_is_409(backend: FakeBackend) -> None:
    attach(backend, net_id=NET, ip_address="10.20.0.77")
    with pytest.raises(Conflict) as caught:
        attach(backend, net_id=NET, ip_address="10.20.0.77")
    assert caught.value.body() == {
        "conflictingRequest": {"code": 409, "message": "Fixed IP 10.20.0.77 is already in use."}
    }


def test_port_attached_elsewhere_is_409(backend: FakeBackend) -> None:
    backend.create_port(NET, id=PORT)
    backend.create_server(PROJECT, id=GHOST, interfaces=[AttachRequest(port_id=PORT)])
    with pytest.raises(Conflict, match=f"Port {PORT} is still in use."):
        backend.attach_interface(PROJECT, SERVER, AttachRequest(port_id=PORT))


@pytest.mark.parametrize(
    "request_", [AttachRequest(net_id=GHOST), AttachRequest(net_id=NET, ip_address="1.2.3.4")]
)
def test_nova_errors_turn_network_problems_into_500(
    backend: FakeBackend, request_: AttachRequest
) -> None:
    backend.nova_errors = True
    with pytest.raises(ComputeFault) as caught:
        backend.attach_interface(PROJECT, SERVER, request_)
    assert caught.value.message.startswith("Unexpected API Error. Please contact the administrator")


def test_auto_pick_network(backend: FakeBackend) -> None:
    assert backend.attach_interface(PROJECT, SERVER, AttachRequest()).net_id == NET
    backend.create_network("10.30.0.0/24", id=OTHER_NET)
    with pytest.raises(BadRequest, match="Multiple possible networks found"):
        backend.attach_interface(PROJECT, SERVER, AttachRequest())


def test_network_exhaustion_is_400(clock: FakeClock) -> None:
    backend = FakeBackend(clock=clock)
    backend.create_network("10.9.0.0/29", id=NET)  # hosts .1 (gateway) to .6
    backend.create_server(PROJECT, id=SERVER)
    assert [attach(backend, net_id=NET) for _ in range(5)][-1] == "10.9.0.6"
    with pytest.raises(BadRequest, match="No fixed IP addresses available"):
        attach(backend, net_id=NET)


def test_servers_are_per_project(backend: FakeBackend) -> None:
    with pytest.raises(ItemNotFound, match=f"Instance {SERVER} could not be found."):
        backend.get_server("p2", SERVER)
    assert backend.list_servers("p2") == []


def test_list_servers_pages_newest_first(backend: FakeBackend) -> None:
    ids = [backend.create_server(PROJECT).id for _ in range(4)][::-1] + [SERVER]
    first = backend.list_servers(PROJECT, limit=2)
    rest = backend.list_servers(PROJECT, limit=10, marker=first[-1].id)
    assert [s.id for s in first + rest] == ids
    with pytest.raises(BadRequest, match=r"marker \[nope\] not found"):
        backend.list_servers(PROJECT, marker="nope")


def test_failed_boot_interfaces_leave_nothing_behind(backend: FakeBackend) -> None:
    with pytest.raises(ItemNotFound):
        backend.create_server(
            PROJECT, id=GHOST, interfaces=[AttachRequest(NET), AttachRequest(GHOST)]
        )
    assert backend.state()["ports"] == []
    with pytest.raises(ItemNotFound):
        backend.admin_server(GHOST)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda b: b.create_network("not-a-cidr"), BadRequest),
        (lambda b: b.create_network("10.0.0.0/24", id=NET), Conflict),
        (lambda b: b.create_server(PROJECT, id=SERVER), Conflict),
        (lambda b: b.create_server(PROJECT, status="PAUSED"), BadRequest),
        (lambda b: b.create_server(""), BadRequest),
        (lambda b: b.create_port(GHOST), ItemNotFound),
        (lambda b: b.update_server(GHOST, status="ACTIVE"), ItemNotFound),
    ],
)
def test_admin_errors(backend: FakeBackend, call: object, error: type[FakeApiError]) -> None:
    with pytest.raises(error):
        call(backend)  # type: ignore[operator]


def test_update_server_ends_build_and_changes_tags(backend: FakeBackend) -> None:
    backend.create_server(PROJECT, id=GHOST, build_seconds=100)
    server = backend.update_server(GHOST, status="ACTIVE", tags=["a=b"])
    assert (server.status, server.tags) == ("ACTIVE", ("a=b",))


def test_tokens_unknown_bound_and_free() -> None:
    tokens = TokenStore()
    tokens.add("free")
    tokens.add("bound", projects=["p1"])
    tokens.authorize("free", "anything")
    tokens.authorize("bound", "p1")
    with pytest.raises(Unauthorized):
        tokens.authorize("nope", "p1")
    with pytest.raises(Unauthorized):
        tokens.authorize(None, "p1")
    with pytest.raises(Forbidden):
        tokens.authorize("bound", "p2")


def test_reset_keeps_tokens_and_options(backend: FakeBackend) -> None:
    app = EmulatorApp(backend)  # tokens and the request log are the front door's
    app.tokens.add("secret-token-value")
    backend.nova_errors = True
    app.requests.record({"method": "GET"})
    reset = Request("POST", "/_admin/reset", {}, {}, b"", "http://emulator")
    assert app.handle(reset).status == 200
    state = backend.state()
    assert (state["networks"], state["servers"], state["ports"]) == ([], [], [])
    assert app.requests.entries() == []
    assert state["options"]["nova_errors"] is True
    app.tokens.authorize("secret-token-value", "p1")
    assert "secret-token-value" not in str(state)


def test_concurrent_attaches_get_distinct_addresses(backend: FakeBackend) -> None:
    results: list[str] = []

    def work() -> None:
        for _ in range(20):
            results.append(attach(backend, net_id=NET))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(set(results)) == 160
