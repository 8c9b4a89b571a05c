"""The gate (function/gate.py): one throttle answer pauses every sender; width bounds flight.

The answers are made up here (no network); time is ``VirtualTime`` (no real sleeps). A
batch's servers are admitted by the same gate: as many run as it is wide."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

import pytest
from support import VirtualTime

from function.domain.adaptive import Tuning
from function.domain.errors import TemporaryError
from function.gate import Gate
from function.pool import map_in_context


@dataclass
class FakeAnswer:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)


def test_one_429_with_retry_after_pauses_the_next_request_of_every_other_worker() -> None:
    virtual = VirtualTime()
    gate = Gate(8, virtual.timing)
    throttled = FakeAnswer(429, {"Retry-After": "5"})
    assert gate.call("GET", None, lambda: throttled) is throttled  # worker A is told to wait
    sent: list[float] = []

    def worker_b() -> None:
        gate.call("GET", None, lambda: sent.append(virtual.clock()) or FakeAnswer(200))

    thread = threading.Thread(target=worker_b)
    thread.start()
    thread.join()
    assert sent[0] >= 5.0 and virtual.slept > 4.0  # B waited too, though it got no 429


def test_a_503_halves_the_width_and_an_exception_releases_the_slot() -> None:
    gate = Gate(32, VirtualTime().timing, Tuning(start=16))
    gate.call("GET", None, lambda: FakeAnswer(503))
    assert gate.width == 8
    with pytest.raises(OSError):
        gate.call("GET", None, _broken)
    for _ in range(8):  # the slot came back: eight more calls fit, none blocks
        gate.call("GET", None, lambda: FakeAnswer(200))


def test_no_more_requests_in_flight_than_the_width() -> None:
    gate = Gate(32, VirtualTime().timing, Tuning(start=2))
    lock, flight, most = threading.Lock(), [0], [0]
    release = threading.Event()

    def send() -> FakeAnswer:
        with lock:
            flight[0] += 1
            most[0] = max(most[0], flight[0])
        release.wait(5)
        with lock:
            flight[0] -= 1
        return FakeAnswer(200)

    threads = [threading.Thread(target=gate.call, args=("GET", None, send)) for _ in range(6)]
    for thread in threads:
        thread.start()
    while True:  # two in flight, the rest waiting at the gate
        with lock:
            if flight[0] == 2:
                break
    release.set()
    for thread in threads:
        thread.join()
    assert most[0] <= 4  # two, plus the two the first answers let in (slow start)


def test_a_worker_waiting_for_a_slot_gives_up_at_its_deadline() -> None:
    virtual = VirtualTime()
    gate = Gate(1, virtual.timing)
    entered, release = threading.Event(), threading.Event()

    def hold() -> FakeAnswer:
        entered.set()
        release.wait(5)
        return FakeAnswer(200)

    holder = threading.Thread(target=gate.call, args=("GET", None, hold))
    holder.start()
    entered.wait(5)
    with pytest.raises(TemporaryError) as raised:
        gate.call("GET", virtual.timing.deadline(0.0), lambda: FakeAnswer(200))
    assert raised.value.code == "deadline_exceeded"
    release.set()
    holder.join()


def _broken() -> FakeAnswer:
    raise OSError("connection reset")


def test_a_batch_runs_as_many_servers_at_once_as_the_gate_is_wide() -> None:
    gate = Gate(32, VirtualTime().timing, Tuning(start=2))
    together = threading.Barrier(2, timeout=10)  # two are admitted side by side…
    lock, seen = threading.Lock(), []

    def server(_: int) -> None:
        together.wait()
        with lock:
            seen.append(gate.running)

    list(map_in_context(server, range(6), concurrency=32, admit=gate.admitted))
    assert max(seen) == 2  # …and never a third, though the pool has 6 threads for them
    assert gate.running == 0


def test_the_batch_widens_with_clean_answers_and_narrows_with_a_503() -> None:
    gate = Gate(32, VirtualTime().timing, Tuning(start=2))
    with contextlib.ExitStack() as held:
        for _ in range(2):
            held.enter_context(gate.admitted())
        assert gate.width - gate.running == 0  # the next server waits to start
        started = threading.Event()

        def third() -> None:
            with gate.admitted():
                started.set()

        waiting = threading.Thread(target=third)
        waiting.start()
        gate.call("GET", None, lambda: FakeAnswer(200))  # a clean answer: one more fits
        assert started.wait(10)
        waiting.join()
        gate.call("GET", None, lambda: FakeAnswer(503))
        assert gate.width - gate.running < 0  # narrower than what runs: none starts now
    assert gate.running == 0
