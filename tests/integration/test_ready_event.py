"""``NICATTACH_READY_EVENT``: one ``nicattach.nic.ready`` per ready policy NIC, through the
sink, after the completion event; end to end on both backends over the emulator.

Each delivery runs on a fresh ``Service``. The emulator keeps a new attachment's port DOWN
for ``port_down_seconds`` (its control option), on an adjustable clock: a port that stays
DOWN gets no ready event, and a later delivery, once the port is up, sends it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent, from_http
from jsonschema import Draft202012Validator
from support import PROJECT, VirtualTime
from test_ownership import BOOT, ROOT, TOKEN, Cloud
from test_sink import FakeSink

from emulator.compute.models import FakeBackend
from emulator.core.clock import AdjustableClock
from emulator.server import EmulatorServer
from function.app.ready import ReadyEvents
from function.auth import TokenAuth
from function.delivery.emit import Sink
from function.delivery.ready import READY_TYPE, ready_event_id
from function.domain.outcome import completed
from function.domain.plan import Interface
from function.network.client import NetworkClient
from function.transport.session import Session

NET = "5e6f7a8b-0000-4000-8000-00000000ead1"
BACKENDS = [("huawei-v1", "auto"), ("nova", "port"), ("nova", "device-tag")]
SCHEMA = json.loads((ROOT / "events" / "schemas" / "ready.json").read_text())


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    clock = AdjustableClock()
    with EmulatorServer(backend=FakeBackend(clock=clock), tokens=(TOKEN,)) as server:
        made = Cloud(server, clock)
        made.admin.create_network("10.91.0.0/24", id=NET, name="ready")
        yield made


@pytest.fixture
def sink() -> Iterator[FakeSink]:
    with FakeSink() as server:
        yield server


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "ready.yaml"
    path.write_text(
        "version: 1\nrules:\n  - name: app\n    when: {role: db}\n"
        f"    attach:\n      - net_id: {NET}\n"
    )
    return path


def received(sink: FakeSink) -> list[CloudEvent]:
    events = [from_http(headers, body) for headers, body in sink.received]
    sink.received.clear()
    return events


def deliver(
    cloud: Cloud, policy: Path, sink: FakeSink, server_id: str, ownership: str, **values: Any
) -> tuple[dict[str, Any], list[CloudEvent]]:
    """One delivery on a fresh instance: the reply's data and the ready events the sink got."""
    status, body = cloud.deliver(policy, server_id, ownership=ownership, sink=sink.url, **values)
    assert status == 200, body
    events = received(sink)
    assert events[0]["type"] == "nicattach.attachment.completed", "the completion event first"
    return body, [e for e in events[1:] if e["type"] == READY_TYPE]


@pytest.mark.parametrize(("backend", "ownership"), BACKENDS)
def test_a_ready_event_per_active_nic_with_an_id_stable_across_redeliveries(
    cloud: Cloud,
    policy: Path,
    sink: FakeSink,
    backend: str,
    ownership: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NICATTACH_BACKEND", backend)
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])
    body, ready = deliver(cloud, policy, sink, server["id"], ownership, ready_event=True)
    [nic] = body["interfaces"]
    assert body["status"] == "attached" and nic["port_state"] == "ACTIVE"
    [event] = ready
    assert event["id"] == ready_event_id(server["id"], nic["port_id"])
    assert event["subject"] == server["id"]
    Draft202012Validator(SCHEMA).validate(event.data)
    assert {k: event.data[k] for k in nic} == nic, "the NIC as the completion event has it"
    assert "binding" not in event.data, "a member sees no binding:* fields"
    if ownership != "device-tag":  # the network API confirmed it: one read by id
        reads = [
            r["query"]
            for r in cloud.admin.requests_log()
            if r["method"] == "GET" and r["path"] == "/v2.0/ports" and "id" in r["query"]
        ]
        assert reads and reads[-1]["id"] == [nic["port_id"]], "read through the network API"
        assert "binding:host_id" in reads[-1]["fields"]
    again, repeat = deliver(cloud, policy, sink, server["id"], ownership, ready_event=True)
    assert again["status"] == "already_attached"
    assert [e["id"] for e in repeat] == [event["id"]], "a redelivery sends the same id"


@pytest.mark.parametrize(("backend", "ownership"), BACKENDS)
def test_a_port_that_stays_down_gets_no_ready_event_until_it_is_up(
    cloud: Cloud,
    policy: Path,
    sink: FakeSink,
    backend: str,
    ownership: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NICATTACH_BACKEND", backend)
    cloud.admin.set_options(port_down_seconds=600)
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])
    body, ready = deliver(cloud, policy, sink, server["id"], ownership, ready_event=True)
    assert [i["port_state"] for i in body["interfaces"]] == ["DOWN"]
    assert ready == []
    cloud.clock.advance(601)
    body, ready = deliver(cloud, policy, sink, server["id"], ownership, ready_event=True)
    assert [i["port_state"] for i in body["interfaces"]] == ["ACTIVE"]
    assert [e["id"] for e in ready] == [
        ready_event_id(server["id"], body["interfaces"][0]["port_id"])
    ]


def test_no_ready_event_unless_asked(
    cloud: Cloud, policy: Path, sink: FakeSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NICATTACH_BACKEND", "huawei-v1")
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": BOOT}])
    _, ready = deliver(cloud, policy, sink, server["id"], "auto")
    assert ready == []


def test_ports_the_network_api_did_not_confirm_get_no_ready_event(
    cloud: Cloud, sink: FakeSink, caplog: pytest.LogCaptureFixture
) -> None:
    """A read the network API refuses (here: credentials it does not accept) confirms
    nothing: no ready event, a warning; a port it does not show gets none either."""
    server = cloud.admin.create_server(PROJECT, tags=["role=db"], interfaces=[{"net_id": NET}])
    [nic] = [i for i in cloud.admin.interfaces(server["id"])]
    interface = Interface(nic["port_id"], NET, "ACTIVE", nic["mac_addr"], ())
    outcome = completed(server["id"], PROJECT, ("app",), False, (interface,))
    ghost = Interface("0f0f0f0f-0000-4000-8000-00000000ab5e", NET, "ACTIVE", "fa:16:3e:0:0:9", ())
    timing = VirtualTime().timing
    session = Session()
    try:
        deadline = timing.deadline(10.0)
        to_sink = Sink(session, sink.url, timing=timing)
        refused = NetworkClient(session, cloud.server.url, TokenAuth("not-a-token"), timing=timing)
        assert ReadyEvents(to_sink, refused, "/t").send([outcome], deadline) == 0
        assert "no ready event for 1 server(s): the ports could not be read" in caplog.text
        assert received(sink) == []
        network = NetworkClient(session, cloud.server.url, TokenAuth(TOKEN), timing=timing)
        unseen = replace(outcome, interfaces=(interface, ghost))
        assert ReadyEvents(to_sink, network, "/t").send([unseen], deadline) == 1
        assert [e.data["port_id"] for e in received(sink)] == [nic["port_id"]]
    finally:
        session.close()
