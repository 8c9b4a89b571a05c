"""Latency over real HTTP: the profile per call kind, set at run time, and concurrency.

No test waits for a delay: the emulator's sleep is a recorder (or a barrier), so
these check which delays were asked for, when, and that calls overlap.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.app import EmulatorApp
from emulator.client import AdminClient, AdminError
from emulator.compute.models import FakeBackend
from emulator.control.latency import PROFILES, Latency
from emulator.core.http import HTTPServer
from emulator.server import EmulatorServer

SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
TOKEN = {"X-Auth-Token": "emulator-token"}
INTERFACES = f"/v2.1/{PROJECT}/servers/{SERVER}/os-interface"


class Recorder:
    """The emulator's sleep: records each delay, and runs ``during`` instead of waiting."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self.during: Callable[[], None] = lambda: None

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.during()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def slow(recorder: Recorder) -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=Latency(sleep=recorder)) as server:
        admin = AdminClient(server.url)
        admin.create_network("10.20.0.0/24", id=NET)
        admin.create_server(PROJECT, id=SERVER)
        yield server


def test_each_call_kind_sleeps_its_own_delay(slow: EmulatorServer, recorder: Recorder) -> None:
    admin = AdminClient(slow.url)
    admin.set_latency("cloud", seed=5)
    with requests.Session() as http:
        assert http.get(slow.url + INTERFACES, headers=TOKEN).status_code == 200
        attach = http.post(
            slow.url + INTERFACES, headers=TOKEN, json={"interfaceAttachment": {"net_id": NET}}
        )
        port = attach.json()["interfaceAttachment"]["port_id"]
        assert http.delete(f"{slow.url}{INTERFACES}/{port}", headers=TOKEN).status_code == 202
        http.get(f"{slow.url}/v2.1/")  # discovery and the admin API are never slowed
    admin.state()
    read, attached, detached = recorder.slept
    assert 0.08 <= read <= 0.12 and 0.8 <= attached <= 3.6 and 0.8 <= detached <= 1.2


def test_an_attach_shows_when_its_post_answers_not_before(
    slow: EmulatorServer, recorder: Recorder
) -> None:
    admin = AdminClient(slow.url)
    admin.set_latency(attach_ms=2000)
    seen_while_sleeping: list[int] = []
    recorder.during = lambda: seen_while_sleeping.append(len(admin.interfaces(SERVER)))
    answer = requests.post(
        slow.url + INTERFACES,
        headers=TOKEN,
        timeout=10,
        json={"interfaceAttachment": {"net_id": NET}},
    )
    assert answer.status_code == 200 and recorder.slept == [2.0]
    assert seen_while_sleeping == [0]
    assert len(admin.interfaces(SERVER)) == 1


def test_a_faulted_answer_takes_a_read_s_time(slow: EmulatorServer, recorder: Recorder) -> None:
    admin = AdminClient(slow.url)
    admin.set_latency(read_ms=50, attach_ms=2000)
    admin.set_faults(busy_rate=1)
    answer = requests.post(
        slow.url + INTERFACES,
        headers=TOKEN,
        timeout=10,
        json={"interfaceAttachment": {"net_id": NET}},
    )
    assert answer.status_code == 409 and recorder.slept == [0.05]


def test_put_replaces_patch_changes_and_bad_bodies_change_nothing(admin: AdminClient) -> None:
    assert admin.latency() == PROFILES["none"].as_dict()
    assert admin.set_latency("cloud") == PROFILES["cloud"].as_dict()
    changed = admin.update_latency(read_ms=250)
    assert (changed["profile"], changed["read_ms"], changed["attach_ms"]) == (
        "custom",
        250.0,
        [1000.0, 3000.0],
    )
    assert admin.set_latency(detach_ms=5)["attach_ms"] == [0.0, 0.0]  # PUT starts from none
    for bad in ({"jitter": 2}, {"attach_ms": [3000, 1000]}, {"profile": "slow"}, {"x": 1}):
        with pytest.raises(AdminError) as refused:
            admin.update_latency(**bad)
        assert refused.value.status == 400
    assert admin.latency()["detach_ms"] == 5.0


def test_64_calls_sleep_at_the_same_time() -> None:
    """Each call's sleep waits for all 64: this only passes if all 64 overlap."""
    everyone = threading.Barrier(64, timeout=30)
    latency = Latency(PROFILES["flat100"], sleep=lambda _: everyone.wait())
    with EmulatorServer(latency=latency) as server:

        def call(_: int) -> int:
            url = f"{server.url}/v2.1/{PROJECT}/servers"
            return requests.get(url, headers=TOKEN, timeout=60).status_code

        with ThreadPoolExecutor(64) as pool:
            statuses = list(pool.map(call, range(64)))
    assert statuses == [200] * 64 and not everyone.broken


def test_a_burst_of_64_connections_is_queued_not_dropped() -> None:
    """All 64 connect while the server is not accepting yet (with the old backlog of 5,
    the kernel dropped the rest and each client retried a second later), then all 64
    get an answer."""
    httpd = HTTPServer(("127.0.0.1", 0), EmulatorApp(FakeBackend()))
    sockets: list[socket.socket] = []
    serving = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    try:
        for _ in range(64):
            sockets.append(socket.create_connection(httpd.server_address[:2], timeout=0.5))
        serving.start()
        for sock in sockets:
            sock.settimeout(10)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: emulator\r\nConnection: close\r\n\r\n")
        answers = [sock.makefile("rb").readline() for sock in sockets]
        assert answers == [b"HTTP/1.1 200 OK\r\n"] * 64
    finally:
        for sock in sockets:
            sock.close()
        if serving.is_alive():
            httpd.shutdown()
        httpd.server_close()
