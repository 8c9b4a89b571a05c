"""The converger and the waiter over the in-memory backend, on a virtual timeline:
the logic above the seam without HTTP (the backends themselves are tested against the
emulator). No real sleep: every pause moves ``VirtualTime``."""

from __future__ import annotations

import pytest
from memory_backend import Call, MemoryBackend, interface
from support import VirtualTime

from function.compute.base import Capabilities
from function.converge.convergence import Converger, _mark
from function.converge.waiter import Waiter
from function.domain.codes import ErrorCode
from function.domain.errors import (
    ApiPermanentError,
    DeadlineExceeded,
    PermanentError,
    ServerBusy,
    ServerGone,
    TemporaryError,
)
from function.domain.policy import NicRequest
from function.domain.timing import Deadline

P, S = "p1", "server-1"
NET, OTHER = "net-a", "net-b"
WANT = NicRequest(NET, None, None, ("storage",))


def wire(backend: MemoryBackend, time: VirtualTime) -> tuple[Converger, Deadline]:
    waiter = Waiter(backend, time.timing, wait_active_s=60.0, wait_port_active_s=10.0)
    return Converger(backend, waiter, write_reserve=lambda _: 5.0), Deadline(
        time.clock() + 30.0, time.timing
    )


def nets(backend: MemoryBackend) -> list[str]:
    return sorted(i.net_id for i in backend.servers[S].interfaces)


def test_a_missing_nic_is_attached_with_its_mark_and_read_back() -> None:
    backend, time = MemoryBackend(), VirtualTime()
    backend.add_server(S, interface("port-01", OTHER))
    converger, deadline = wire(backend, time)
    done = converger.converge(P, S, (WANT,), deadline)
    assert done.attached and nets(backend) == [NET, OTHER]
    assert backend.names() == ["list_interfaces", "attach", "list_interfaces"]
    assert backend.calls[1].mark == _mark(WANT)
    assert [i.net_id for i in done.interfaces] == [NET]


def test_nothing_is_written_when_the_nic_is_there() -> None:
    backend, time = MemoryBackend(), VirtualTime()
    backend.add_server(S, interface("port-01", NET))
    converger, deadline = wire(backend, time)
    done = converger.converge(P, S, (WANT,), deadline)
    assert not done.attached and backend.names() == ["list_interfaces"]


def test_a_racing_copy_leaves_one_nic_not_two() -> None:
    """Another copy attaches the same network while ours is in flight: the re-read sees
    two marked NICs and the one with the higher port id is detached."""

    def racing(call: Call, cloud: MemoryBackend) -> None:
        if call.name == "attach" and len(cloud.servers[S].interfaces) == 0:
            cloud.plug(S, WANT, _mark(WANT))  # the other copy's NIC lands first

    backend, time = MemoryBackend(racing), VirtualTime()
    backend.add_server(S)
    converger, deadline = wire(backend, time)
    converger.converge(P, S, (WANT,), deadline)
    assert nets(backend) == [NET]
    assert "detach" in backend.names()


def test_a_detach_of_a_nic_already_gone_is_done() -> None:
    """The duplicate disappears (its copy undid it) before our detach: no error."""

    def undone_elsewhere(call: Call, cloud: MemoryBackend) -> None:
        if call.name == "attach" and not cloud.servers[S].interfaces:
            cloud.plug(S, WANT, _mark(WANT))
        if call.name == "detach":
            cloud.servers[S].interfaces = [
                i for i in cloud.servers[S].interfaces if i.port_id != call.port_id
            ]

    backend, time = MemoryBackend(undone_elsewhere), VirtualTime()
    backend.add_server(S)
    converger, deadline = wire(backend, time)
    converger.converge(P, S, (WANT,), deadline)
    assert nets(backend) == [NET]


def test_a_busy_server_is_waited_for_on_the_virtual_clock() -> None:
    """``ServerBusy`` (a type, not a code string) makes the converger wait until the
    server is ready, then attach again."""
    state = {"busy": 1, "reads": 0}

    def busy_then_ready(call: Call, cloud: MemoryBackend) -> None:
        if call.name == "attach" and state["busy"]:
            state["busy"] -= 1
            cloud.servers[S].status = "BUILD"
            raise ServerBusy("task_state is spawning")
        if call.name == "get_server":
            state["reads"] += 1
            if state["reads"] == 3:
                cloud.servers[S].status = "ACTIVE"

    backend, time = MemoryBackend(busy_then_ready), VirtualTime()
    backend.add_server(S)
    converger, deadline = wire(backend, time)
    done = converger.converge(P, S, (WANT,), deadline)
    assert done.attached and nets(backend) == [NET]
    assert backend.names().count("get_server") == 3
    assert backend.names().count("attach") == 2
    assert time.slept > 0  # the waits were virtual


def test_a_refusal_is_believed_after_one_re_read() -> None:
    def refuse(call: Call, cloud: MemoryBackend) -> None:
        if call.name == "attach":
            raise ApiPermanentError(
                "no such network", code=ErrorCode.NETWORK_NOT_FOUND, status=404, request_id=None
            )

    backend, time = MemoryBackend(refuse), VirtualTime()
    backend.add_server(S)
    converger, deadline = wire(backend, time)
    with pytest.raises(ApiPermanentError) as caught:
        converger.converge(P, S, (WANT,), deadline)
    assert caught.value.code == ErrorCode.NETWORK_NOT_FOUND
    assert backend.names() == ["list_interfaces", "attach", "list_interfaces"]


def test_too_few_free_nic_slots_fail_before_any_write() -> None:
    backend, time = MemoryBackend(), VirtualTime()
    backend.add_server(S, free=0)
    converger, deadline = wire(backend, time)
    with pytest.raises(PermanentError) as caught:
        converger.converge(P, S, (WANT,), deadline)
    assert caught.value.code == ErrorCode.NIC_QUOTA_EXCEEDED
    assert "attach" not in backend.names()


def test_without_marks_no_mark_is_asked_for() -> None:
    caps = Capabilities(
        marks=False, security_groups=False, free_nics=False, delete_on_termination=False
    )
    backend, time = MemoryBackend(capabilities=caps), VirtualTime()
    backend.add_server(S)
    converger, deadline = wire(backend, time)
    converger.converge(P, S, (WANT,), deadline)
    assert backend.calls[1].mark is None


def test_a_server_deleted_meanwhile_is_gone() -> None:
    def deleted(call: Call, cloud: MemoryBackend) -> None:
        if call.name == "attach":
            cloud.servers[S].status = "DELETED"

    backend, time = MemoryBackend(deleted), VirtualTime()
    backend.add_server(S)
    converger, deadline = wire(backend, time)
    with pytest.raises(ServerGone):
        converger.converge(P, S, (WANT,), deadline)


def test_the_waiter_polls_a_new_port_until_active() -> None:
    def comes_up(call: Call, cloud: MemoryBackend) -> None:
        if call.name == "get_interface" and backend.names().count("get_interface") == 2:
            cloud.set_port_state(S, call.port_id or "", "ACTIVE")

    backend, time = MemoryBackend(comes_up, new_port_state="DOWN"), VirtualTime()
    backend.add_server(S)
    converger, deadline = wire(backend, time)
    done = converger.converge(P, S, (WANT,), deadline)
    assert [i.port_state for i in done.interfaces] == ["ACTIVE"]
    assert backend.names().count("get_interface") == 2
    assert time.slept > 0


def test_a_deadline_that_passes_during_an_attach_is_reported_as_the_deadline() -> None:
    """The attach answers after the event's deadline: the NICs the last read saw missing
    are missing because time ran out, so the code says so (not ``not_converged``)."""

    def slow(call: Call, cloud: MemoryBackend) -> None:
        if call.name == "attach":
            time.sleep(40.0)  # the 30 s deadline passes while the request is out

    backend, time = MemoryBackend(slow), VirtualTime()
    backend.add_server(S)
    converger, deadline = wire(backend, time)
    with pytest.raises(DeadlineExceeded) as raised:
        converger.converge(P, S, (WANT,), deadline)
    assert raised.value.code == ErrorCode.DEADLINE_EXCEEDED


def test_an_api_that_accepts_but_never_attaches_ends_not_converged_in_time() -> None:
    """Every attach is accepted and none shows on the server: the rounds run out well
    before the deadline, and the code says the NICs did not converge."""

    def lost(call: Call, cloud: MemoryBackend) -> None:
        if call.name == "list_interfaces":
            cloud.servers[S].interfaces = []

    backend, time = MemoryBackend(lost), VirtualTime()
    backend.add_server(S)
    converger, deadline = wire(backend, time)
    with pytest.raises(TemporaryError) as raised:
        converger.converge(P, S, (WANT,), deadline)
    assert raised.value.code == ErrorCode.NOT_CONVERGED and not deadline.expired
    assert backend.names().count("attach") > 1
