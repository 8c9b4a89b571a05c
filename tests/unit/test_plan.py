"""domain/plan.py: one-to-one assignment, desired − actual, and the duplicate rule that
makes racing copies converge."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from function.domain.plan import MARK_PREFIX, FixedIp, Interface, plan
from function.domain.policy import NicRequest

NET_A = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
NET_B = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
PORT = "ce531f90-199f-48c0-816c-13e38010b442"


def nic(net: str | None = NET_A, ip: str | None = None, port: str | None = None) -> NicRequest:
    return NicRequest(net_id=None if port else net, port_id=port, fixed_ip=ip, rules=("r",))


def iface(port_id: str, net: str = NET_A, ip: str = "10.20.0.5", tag: str = "") -> Interface:
    return Interface(port_id, net, "ACTIVE", "fa:16:3e:00:00:01", (FixedIp("sub", ip),), tag)


def detached(desired: list[NicRequest], owned: list[str], actual: list[Interface]) -> list:
    return list(plan(desired, actual, owned).duplicates)


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
        # a port request and a network request on the port's network: two NICs, not one
        ([nic(port=PORT), nic()], [iface(PORT)], [nic()]),
    ],
)
def test_missing_is_what_no_interface_satisfies(
    desired: list[NicRequest], actual: list[Interface], missing: list[NicRequest]
) -> None:
    assert list(plan(desired, actual).missing) == missing


def test_detach_keeps_lowest_port_of_ours() -> None:
    actual = [iface("p3"), iface("p1"), iface("p2")]
    detach = detached([nic()], owned=["p1", "p2", "p3"], actual=actual)
    assert sorted(d.port_id for d in detach) == ["p2", "p3"]
    assert {d.keep for d in detach} == {"p1"}


def test_detach_never_touches_nics_not_ours_or_off_policy() -> None:
    actual = [iface("p0"), iface("p5"), iface("p1", net=NET_B), iface("p2", net=NET_B)]
    # p0 is not ours: the network is satisfied by it, p5 (ours) is beyond it but the kept
    # NIC is an operator's, so nothing is undone
    assert detached([nic()], owned=["p5"], actual=actual) == []
    # NET_B is not asked for by the policy: its two NICs are none of our business
    assert detached([nic()], owned=["p1", "p2"], actual=actual[2:]) == []


def test_nics_that_appeared_after_a_first_read_are_not_ours_without_a_mark() -> None:
    """Issue 20.3: timing proves nothing (boot NICs of a building server appear late)."""
    assert detached([nic()], owned=[], actual=[iface("p1"), iface("p9")]) == []


def test_single_nic_of_ours_is_kept() -> None:
    assert detached([nic()], owned=["p9"], actual=[iface("p9")]) == []


def test_marked_duplicates_from_an_earlier_delivery_are_undone() -> None:
    """Two copies POSTed and died before re-reading: at the next delivery both NICs carry
    our mark, so the lowest is kept."""
    actual = [iface("p7", tag=MARK_PREFIX + "r"), iface("p3", tag=MARK_PREFIX + "r")]
    result = plan([nic()], actual)
    assert result.missing == ()
    assert [(d.port_id, d.keep) for d in result.duplicates] == [("p7", "p3")]


def test_unmarked_duplicates_from_before_are_reported_not_touched() -> None:
    actual = [iface("p7"), iface("p3")]
    result = plan([nic()], actual)
    assert result.duplicates == ()
    assert [i.port_id for i in result.suspected] == ["p7"]


def test_a_marked_nic_no_request_wants_is_stale() -> None:
    old = iface("p1", ip="10.20.0.5", tag=MARK_PREFIX + "r")
    result = plan([nic(ip="10.20.0.9")], [old])
    assert result.missing == (nic(ip="10.20.0.9"),)
    assert result.stale == (old,)
    assert result.duplicates == ()


def test_a_nic_that_satisfies_a_port_request_is_never_a_duplicate() -> None:
    # PORT sorts after p1 and both are ours: without the one-to-one rule it would be undone
    actual = [iface("p1"), iface(PORT)]
    result = plan([nic(port=PORT), nic()], actual, owned=["p1", PORT])
    assert result.assigned == (iface(PORT), iface("p1"))
    assert result.duplicates == ()
    result = plan([nic(port=PORT), nic()], [iface(PORT)], owned=[PORT])
    assert result.missing == (nic(),) and result.duplicates == ()


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
    gone: set[str] = set()
    for seen in seen_by_copy:
        actual = [iface(p) for p in seen]
        gone |= {d.port_id for d in detached([nic()], owned=ports, actual=actual)}
    survivors = set(ports) - gone
    assert min(ports) in survivors
    full = [iface(p) for p in ports]
    for _copy in itertools.repeat(None, 2):
        gone |= {d.port_id for d in detached([nic()], owned=ports, actual=full)}
    assert set(ports) - gone == {min(ports)}


def test_assigned_prefers_a_nic_that_is_not_ours() -> None:
    """An operator's NIC counts toward the policy where it matches a request."""
    actual = [iface("p1"), iface("p9")]
    assert plan([nic()], actual, owned=["p1"]).assigned == (iface("p9"),)
    assert plan([nic()], actual, owned=["p1", "p9"]).assigned == (iface("p1"),)
    assert plan([nic(NET_B)], actual).assigned == (None,)


# ------------------------------------------------ random mixes on shared networks

NETS = [NET_A, NET_B]
PORTS = [f"port-{n}" for n in range(4)]
IPS = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


@st.composite
def requests(draw: st.DrawFn) -> list[NicRequest]:
    """What a merged policy can ask for: distinct ports; one request per network."""
    ports = draw(st.lists(st.sampled_from(PORTS), unique=True, max_size=3))
    nets = draw(st.lists(st.sampled_from(NETS), unique=True, max_size=2))
    wanted = [nic(port=p) for p in ports]
    wanted += [nic(n, ip=draw(st.sampled_from([None, *IPS]))) for n in nets]
    return draw(st.permutations(wanted))


@st.composite
def nics(draw: st.DrawFn) -> list[Interface]:
    ids = draw(st.lists(st.sampled_from(PORTS + [f"nic-{n}" for n in range(5)]), unique=True))
    return [
        iface(
            p,
            net=draw(st.sampled_from(NETS)),
            ip=draw(st.sampled_from(IPS)),
            tag=draw(st.sampled_from(["", MARK_PREFIX + "r"])),
        )
        for p in ids
    ]


@given(desired=requests(), actual=nics(), data=st.data())
def test_assignment_is_one_to_one_and_converges_in_one_round(
    desired: list[NicRequest], actual: list[Interface], data: st.DataObject
) -> None:
    owned = data.draw(st.lists(st.sampled_from([i.port_id for i in actual] or ["x"])))
    result = plan(desired, actual, owned)
    got = [i for i in result.assigned if i is not None]
    assert len({i.port_id for i in got}) == len(got)  # no NIC serves two requests
    for request, interface in zip(desired, result.assigned, strict=True):
        if request.port_id is not None:  # a port request: only that port
            assert interface is None or interface.port_id == request.port_id
        elif interface is not None:
            assert interface.net_id == request.net_id
            assert request.fixed_ip is None or request.fixed_ip in interface.ip_addresses
            assert interface.port_id not in {r.port_id for r in desired}
    undone = {d.port_id for d in result.duplicates}
    assert not undone & {i.port_id for i in got}  # the duplicate rule never undoes a kept NIC
    # Simulate the attaches (new ports, sorting after every existing one) and the detaches:
    after = [i for i in actual if i.port_id not in undone]
    for n, request in enumerate(result.missing):
        if request.port_id is not None:
            after.append(iface(request.port_id, net=NET_A))
        else:
            ip = request.fixed_ip or "9.9.9.9"
            after.append(iface(f"zz-{n}", net=request.net_id or "", ip=ip, tag=MARK_PREFIX + "r"))
    settled = plan(desired, after, owned)
    assert settled.missing == ()
    assert settled.duplicates == ()
