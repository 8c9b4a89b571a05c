"""The search, in the suite: a hypothesis state machine drives the emulator through
deliveries, concurrent copies, copies killed between any two API calls, ambiguous
writes and throttling, under policies that mix port, network and fixed-IP requests on
shared networks. Invariant after a final quiet delivery: the server has exactly the
policy's NICs, one per request, and nothing else was touched.

Run three ways: Nova with device tags (the default where 2.70 is offered), and ports
first (``NICATTACH_OWNERSHIP=port``) on Nova and on huawei-v1, where the search also
has the port-first races: two copies that both found no port and both create one, a
copy killed between creating its port and attaching it, and one killed between the
attach and the end of its job. With ports first, the function's named ports are part
of the invariant: one per network request, bound to the server, none left over.

Bounded in ``make test``; ``NICATTACH_STATEFUL_EXAMPLES`` raises it (``make faults``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from support import JSON, PROJECT, service

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.transport.session import Response, Session, Timeout

EXAMPLES = int(os.environ.get("NICATTACH_STATEFUL_EXAMPLES", "0")) or None
"""``None``: the bounded, derandomized run of ``make test``; a number: a wider random search."""
POLICIES = {
    "net+port-on-same-net": "[{net_id: %(A)s}, {port_id_from_tag: port}]",
    "net+fixed-ip-elsewhere": "[{net_id: %(A)s}, {net_id: %(B)s, fixed_ip_from_tag: ip30}]",
    "all-three": "[{net_id: %(A)s}, {port_id_from_tag: port},"
    " {net_id: %(B)s, fixed_ip_from_tag: ip30}]",
    "fixed-ip+port-same-net": "[{net_id: %(A)s, fixed_ip_from_tag: ip20},"
    " {port_id_from_tag: port}]",
}
WANTED = {  # NICs on (A, B), the port request's included
    "net+port-on-same-net": (2, 0),
    "net+fixed-ip-elsewhere": (1, 1),
    "all-three": (2, 1),
    "fixed-ip+port-same-net": (2, 0),
}


class Killed(BaseException):
    """The copy is gone (SIGKILL): nothing after this point runs, no handler sees it."""


class Intercepted(Session):
    """A session that calls ``carried`` after each request was carried out (and before
    its answer reaches the function): where a test kills the copy or holds it."""

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = (3.05, 20.0),
        total: float | None = None,
    ) -> Response:
        answer = super().request(method, url, data, headers, timeout, total)
        self.carried(method, url)
        return answer

    def carried(self, method: str, url: str) -> None:
        raise NotImplementedError


class DyingSession(Intercepted):
    """A session whose copy dies right after its ``after``-th request was carried out."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self._left = after
        self._lock = threading.Lock()

    def carried(self, method: str, url: str) -> None:
        with self._lock:
            self._left -= 1
            if self._left <= 0:
                raise Killed()


class DieAfter(Intercepted):
    """A copy that dies right after its first request that ``matches`` was carried out."""

    def __init__(self, method: str, path_end: str) -> None:
        super().__init__()
        self._method, self._end = method, path_end

    def carried(self, method: str, url: str) -> None:
        if method == self._method and url.split("?", 1)[0].endswith(self._end):
            raise Killed()


class MeetAfterPortSearch(Intercepted):
    """Copies that wait for each other after their first look for ports: each has seen
    none, so each creates one (two ports for one request)."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self._barrier, self._met = barrier, False

    def carried(self, method: str, url: str) -> None:
        if not self._met and method == "GET" and "/v2.0/ports" in url:
            self._met = True
            try:
                self._barrier.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass


class Deliveries(RuleBasedStateMachine):
    emulator: EmulatorServer
    policy_dir: Path
    seen: dict[str, int]
    backend: str = "nova"
    ownership: str = "auto"
    """What the search exercised (kills, copies, faults), checked by the test."""

    def __init__(self) -> None:
        super().__init__()
        self.admin = AdminClient(self.emulator.url)

    @initialize(kind=st.sampled_from(sorted(POLICIES)))
    def new_server(self, kind: str) -> None:
        self.admin.set_faults(error_rate=0, throttle_rate=0, ambiguous_rate=0, drop_rate=0)
        # fresh networks per example: no address is held by an earlier example's server
        self.storage = self.admin.create_network("10.20.0.0/24")["id"]
        self.other = self.admin.create_network("10.30.0.0/24")["id"]
        self.boot_net = self.admin.create_network("192.168.1.0/24")["id"]
        self.port = self.admin.create_port(self.storage)["id"]
        self.ip20, self.ip30 = "10.20.0.200", "10.30.0.200"
        tags = ["role=db", f"port={self.port}", f"ip20={self.ip20}", f"ip30={self.ip30}"]
        self.server = self.admin.create_server(
            PROJECT, tags=tags, interfaces=[{"net_id": self.boot_net}]
        )["id"]
        self.boot = {i["port_id"] for i in self.admin.interfaces(self.server)}
        attach = POLICIES[kind] % {"A": self.storage, "B": self.other}
        self.policy = self.policy_dir / f"{kind}.yaml"
        self.policy.write_text(
            f"version: 1\nrules:\n  - name: r\n    when: {{role: db}}\n    attach: {attach}\n"
        )
        self.kind = kind

    def deliver(self, session: Session | None = None) -> int:
        svc = service(
            self.emulator.url,
            policy=self.policy,
            session=session,
            deadline_s=15.0,
            backend=self.backend,
            ownership=self.ownership,
        )
        body = json.dumps({"server_id": self.server, "project_id": PROJECT}).encode()
        reply = svc.handle(JSON, body)
        assert reply.status in (200, 422, 503), reply.body
        assert len(reply.outcomes) == 1
        return reply.status

    @rule()
    def one_delivery(self) -> None:
        self.deliver()

    @rule(after=st.integers(1, 8))
    def copy_killed_between_calls(self, after: int) -> None:
        try:
            self.deliver(DyingSession(after))
        except Killed:
            self.seen["killed"] = self.seen.get("killed", 0) + 1

    @rule(copies=st.integers(2, 3), kill=st.lists(st.integers(0, 7), min_size=3, max_size=3))
    def concurrent_copies(self, copies: int, kill: list[int]) -> None:
        def run(after: int) -> None:
            try:
                self.deliver(DyingSession(after) if after else None)
            except Killed:
                pass

        threads = [threading.Thread(target=run, args=(kill[n],)) for n in range(copies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.seen["concurrent"] = self.seen.get("concurrent", 0) + 1

    @rule()
    def two_copies_create_ports_at_once(self) -> None:
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=self.deliver, args=(MeetAfterPortSearch(barrier),))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.seen["port_race"] = self.seen.get("port_race", 0) + 1

    @rule()
    def copy_killed_between_port_and_attach(self) -> None:
        try:
            self.deliver(DieAfter("POST", "/v2.0/ports"))
        except Killed:
            self.seen["killed_after_port"] = self.seen.get("killed_after_port", 0) + 1

    @rule()
    def copy_killed_between_attach_and_job_end(self) -> None:
        path = "/nics" if self.backend == "huawei-v1" else "/os-interface"
        try:
            self.deliver(DieAfter("POST", path))
        except Killed:
            self.seen["killed_after_attach"] = self.seen.get("killed_after_attach", 0) + 1

    @rule(
        throttle=st.sampled_from([0, 0.3]),
        ambiguous=st.sampled_from([0, 0.3]),
        seed=st.integers(0, 1000),
    )
    def weather(self, throttle: float, ambiguous: float, seed: int) -> None:
        self.admin.set_faults(
            throttle_rate=throttle, ambiguous_rate=ambiguous, retry_after_s=0.01, seed=seed
        )
        self.seen["faults"] = self.seen.get("faults", 0) + bool(throttle or ambiguous)

    def teardown(self) -> None:
        if not hasattr(self, "server"):
            return
        self.admin.set_faults(throttle_rate=0, ambiguous_rate=0)
        assert self.deliver() == 200
        nics = self.admin.interfaces(self.server)
        by_net: dict[str, list[dict[str, Any]]] = {}
        for nic in nics:
            by_net.setdefault(nic["net_id"], []).append(nic)
        assert {i["port_id"] for i in by_net.pop(self.boot_net)} == self.boot  # untouched
        storage = by_net.pop(self.storage, [])
        wanted_storage, wanted_other = WANTED[self.kind]
        assert len(storage) == wanted_storage, (self.kind, storage)
        if "port" in POLICIES[self.kind]:
            assert self.port in {i["port_id"] for i in storage}
        if "fixed-ip+port" in self.kind:
            assert self.ip20 in {ip["ip_address"] for i in storage for ip in i["fixed_ips"]}
        other = by_net.pop(self.other, [])
        assert len(other) == wanted_other, (self.kind, other)
        if wanted_other:
            assert other[0]["fixed_ips"][0]["ip_address"] == self.ip30
        assert by_net == {}, by_net
        ours = [p for p in self.admin.ports() if p["name"].startswith(f"nicattach-{self.server}")]
        if self.ownership == "port":  # one named port per network request, all attached
            attached = {i["port_id"] for i in nics}
            assert len(ours) == len(POLICIES[self.kind].split("net_id")) - 1, ours
            assert all(p["id"] in attached for p in ours), (ours, nics)
        else:
            assert ours == []


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    ("backend", "ownership"), [("nova", "auto"), ("nova", "port"), ("huawei-v1", "port")]
)
def test_exactly_the_policys_nics_under_any_interleaving(
    emulator: EmulatorServer, admin: AdminClient, tmp_path: Path, backend: str, ownership: str
) -> None:
    seen: dict[str, int] = {}
    machine = type(
        "Machine",
        (Deliveries,),
        {
            "emulator": emulator,
            "policy_dir": tmp_path,
            "seen": seen,
            "backend": backend,
            "ownership": ownership,
        },
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES or 80,
            derandomize=EXAMPLES is None,  # make test: the same search every run
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )

    assert seen.get("killed") and seen.get("concurrent") and seen.get("faults"), seen
    if ownership == "port":
        assert seen.get("port_race") and seen.get("killed_after_port"), seen
        assert seen.get("killed_after_attach"), seen
    print("stateful search:", seen)
