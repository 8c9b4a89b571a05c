"""Every API the function calls passes an adaptive gate (``function/gate.py``), and a batch's
servers are admitted by the compute API's: the wiring, checked by sending a real event.

Each API has a gate of its own (the network API and Auto Scaling throttle apart from the
compute API); a gate that answers passed through it widens (slow start), so a gate wider
than it started is one the event's requests went through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support import PROJECT, VirtualTime, service

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.domain.adaptive import Tuning
from function.gate import Gate

ROOT = Path(__file__).resolve().parents[2]
START = Tuning().start


def test_the_compute_and_network_requests_of_an_event_pass_their_own_gates(
    emulator: EmulatorServer, admin: AdminClient
) -> None:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    built = service(
        emulator.url, timing=VirtualTime().timing, ownership="port", as_endpoint=emulator.url
    )
    body = (ROOT / "events" / "cts-create-server.json").read_bytes()
    reply = built.handle({"Content-Type": "application/json"}, body)
    assert reply.status == 200, reply.body
    ports = built.flow.ports
    assert ports is not None
    network = ports.client.limiter
    compute = getattr(built.admit, "__self__", None)  # Gate.admitted, bound to the gate
    assert isinstance(network, Gate) and isinstance(compute, Gate)
    assert network is not compute
    assert network.width > START and compute.width > START  # both saw clean answers
    assert compute.running == 0  # the batch's servers were admitted by it, and left
    assert built.releaser is not None
    releaser = built.releaser()  # made when a hook first needs an answer; the same after
    assert releaser is built.releaser() and releaser.client is not None
    hooks = releaser.client.limiter
    assert isinstance(hooks, Gate) and hooks not in (network, compute)


def test_a_sweeps_servers_are_admitted_by_the_compute_gate(
    emulator: EmulatorServer, admin: AdminClient
) -> None:
    """The sweep runs its servers as the batch does: each one is admitted by the compute
    gate before it starts (so a narrowed gate leaves the rest of a page unstarted)."""
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    built = service(emulator.url, timing=VirtualTime().timing)
    compute = getattr(built.admit, "__self__", None)
    assert isinstance(compute, Gate)
    admitted: list[int] = []

    @contextmanager
    def counted() -> Iterator[None]:
        admitted.append(compute.running)
        with compute.admitted():
            yield

    built.admit = counted
    summary = built.reconcile(PROJECT, full=True)
    assert summary.checked >= 2 and not summary.incomplete, summary
    assert len(admitted) == summary.checked - summary.pending - summary.skipped
    assert compute.running == 0


def test_huaweis_eip_and_bandwidth_apis_each_pass_a_gate_of_their_own(
    emulator: EmulatorServer,
) -> None:
    built = service(emulator.url, timing=VirtualTime().timing, backend="huawei-v1")
    ports = built.flow.ports
    assert ports is not None and ports.bandwidths is not None
    clients = (ports.eips, ports.bandwidths)
    gates = [[api.limiter for api in (c._v1, c._v2)] for c in clients]  # type: ignore[union-attr]
    assert all(isinstance(g, Gate) for pair in gates for g in pair)
    assert [a is b for a, b in gates] == [True, True]  # one limit per API, both versions
    assert gates[0][0] is not gates[1][0] and ports.client.limiter not in (gates[0][0], gates[1][0])
