"""plan.py: desired − actual, and the duplicate rule that makes racing copies converge."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from function.domain.plan import FixedIp, Interface, attach_body, kept, plan_attach, plan_detach
from function.domain.policy import NicRequest

NET_A = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
NET_B = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
PORT = "ce531f90-199f-48c0-816c-13e38010b442"


def nic(net: str | None = NET_A, ip: str | None = None, port: str | None = None) -> NicRequest:
    return NicRequest(net_id=None if port else net, port_id=port, fixed_ip=ip, rules=("r",))


def iface(port_id: str, net: str = NET_A, ip: str = "10.20.0.5") -> Interface:
    return Interface(port_id, net, "ACTIVE", "fa:16:3e:00:00:01", (FixedIp("sub", ip),))


@pytest.mark.parametrize(
    ("desired", "actual", "missing"),
    [
        ([nic()], [], [nic()]),
        ([nic()], [iface("p1")], []),
        ([nic()], [iface("p1", net=NET_B)], [nic()]),
        ([nic(ip="10.20.0.9")], [iface("p1", ip="10.20.0.5")], [nic(ip="10.20.0.9")]),
        ([nic(ip="10.20.0.5")], [iface("p1", ip="10.20.0.5")], []),
        ([nic(port=PORT)], [iface("p1")], [nic(port=PORT)]),
        ([nic(port=PORT)], [iface(PORT, net=NET_B)], []),
        ([nic(), nic(NET_B)], [iface("p1")], [nic(NET_B)]),
    ],
)
def test_plan_attach_lists_what_no_interface_satisfies(
    desired: list[NicRequest], actual: list[Interface], missing: list[NicRequest]
) -> None:
    assert plan_attach(desired, actual) == missing


def test_detach_keeps_lowest_new_port() -> None:
    actual = [iface("p3"), iface("p1"), iface("p2")]
    detach = plan_detach([nic()], first_read=[], actual=actual)
    assert sorted(d.port_id for d in detach) == ["p2", "p3"]
    assert {d.keep for d in detach} == {"p1"}


def test_detach_never_touches_nics_from_before_or_off_policy() -> None:
    actual = [iface("p0"), iface("p5"), iface("p1", net=NET_B), iface("p2", net=NET_B)]
    # p0 was there at the first read: the network is satisfied, nothing of ours to undo
    assert plan_detach([nic()], first_read=["p0"], actual=actual) == []
    # NET_B is not asked for by the policy: its two NICs are none of our business
    assert plan_detach([nic()], first_read=[], actual=actual[2:]) == []


def test_single_new_nic_is_kept() -> None:
    assert plan_detach([nic()], first_read=["boot"], actual=[iface("p9")]) == []


@given(
    ports=st.lists(st.uuids().map(str), min_size=1, max_size=6, unique=True),
    data=st.data(),
)
def test_racing_copies_converge_on_exactly_one(ports: list[str], data: st.DataObject) -> None:
    """Each copy sees some subset of the new NICs (always its own); all detach per the rule.
    The survivor set is never empty, and if every copy saw every NIC it has one element."""
    seen_by_copy = [
        data.draw(st.lists(st.sampled_from(ports), min_size=1, unique=True)) for _ in ports
    ]
    detached: set[str] = set()
    for seen in seen_by_copy:
        actual = [iface(p) for p in seen]
        detached |= {d.port_id for d in plan_detach([nic()], first_read=[], actual=actual)}
    survivors = set(ports) - detached
    assert min(ports) in survivors
    full = [iface(p) for p in ports]
    for _copy in itertools.repeat(None, 2):
        detached |= {d.port_id for d in plan_detach([nic()], first_read=[], actual=full)}
    assert set(ports) - detached == {min(ports)}


def test_kept_prefers_the_nic_that_was_there_before() -> None:
    actual = [iface("p1"), iface("p9")]
    assert kept(nic(), actual, first_read=["p9"]) == iface("p9")
    assert kept(nic(), actual, first_read=[]) == iface("p1")
    assert kept(nic(NET_B), actual, first_read=[]) is None


@pytest.mark.parametrize(
    ("request_", "body"),
    [
        (nic(), {"net_id": NET_A}),
        (nic(ip="10.20.0.7"), {"net_id": NET_A, "fixed_ips": [{"ip_address": "10.20.0.7"}]}),
        (nic(port=PORT), {"port_id": PORT}),
    ],
)
def test_attach_body_is_exactly_what_the_api_allows(
    request_: NicRequest, body: dict[str, object]
) -> None:
    assert attach_body(request_) == {"interfaceAttachment": body}


def test_interface_from_api_strips_ids_and_survives_missing_fields() -> None:
    raw = {"port_id": " ce531f90-199f-48c0-816c-13e38010b442", "net_id": NET_A, "fixed_ips": None}
    parsed = Interface.from_api(raw)
    assert parsed.port_id == PORT
    assert parsed.fixed_ips == ()
    assert parsed.to_json()["port_state"] == ""
