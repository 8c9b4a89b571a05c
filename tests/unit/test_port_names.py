"""domain/ownership.py: the port name the function writes before a NIC exists, and which
named port is a request's."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from function.domain.ownership import Port, State, claim, description, port_name, server_of
from function.domain.policy import NicRequest

SERVER = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"


def nic(ip: str | None = None, rules: tuple[str, ...] = ("db",), net: str = NET) -> NicRequest:
    return NicRequest(net, None, ip, rules)


def port(pid: str, name: str, device: str = "") -> Port:
    return Port(pid, name, NET, device, "DOWN" if not device else "ACTIVE")


def test_the_name_is_deterministic_and_within_the_apis_limits() -> None:
    name = port_name(SERVER, nic("10.20.0.9"))
    assert name == port_name(SERVER, nic("10.20.0.9"))
    assert re.fullmatch(rf"nicattach-{SERVER}-[0-9a-f]{{12}}", name)
    assert len(name) == 59 <= 255
    assert server_of(name) == SERVER
    assert server_of("my-port") is None and server_of("nicattach-x") is None


def test_rules_are_not_the_identity_the_request_is() -> None:
    """A rule renamed, or the same network asked by several rules: the same port."""
    assert port_name(SERVER, nic(rules=("db",))) == port_name(SERVER, nic(rules=("a", "b")))
    assert port_name(SERVER, nic()) != port_name(SERVER, nic("10.20.0.9"))
    assert port_name(SERVER, nic()) != port_name(
        SERVER, nic(net="0dc714fa-9022-4a03-bb22-9821a396bb9d")
    )
    assert "a,b" in description(nic(rules=("a", "b")))


def test_claim_states() -> None:
    name = port_name(SERVER, nic())
    assert claim(SERVER, nic(), []).state is State.NONE
    assert claim(SERVER, nic(), [port("p1", "other")]).state is State.NONE
    assert claim(SERVER, nic(), [port("p1", name)]).state is State.FREE
    assert claim(SERVER, nic(), [port("p1", name, SERVER)]).state is State.ON_SERVER
    assert claim(SERVER, nic(), [port("p1", name, "elsewhere")]).state is State.ELSEWHERE


@given(ids=st.lists(st.uuids().map(str), min_size=1, max_size=5, unique=True), data=st.data())
def test_every_copy_keeps_the_same_lowest_port(ids: list[str], data: st.DataObject) -> None:
    """Whatever order the list comes in and whichever are bound, the kept port is the
    lowest id and every other one is an extra: copies agree, one port stays."""
    name = port_name(SERVER, nic())
    ports = [port(i, name, data.draw(st.sampled_from(["", SERVER]))) for i in ids]
    got = claim(SERVER, nic(), data.draw(st.permutations(ports)))
    assert got.port is not None and got.port.id == min(ids)
    assert sorted(p.id for p in got.extras) == sorted(ids)[1:]
