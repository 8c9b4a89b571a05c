"""domain/readiness.py: which policy NICs are ready (pure), and the ready event's stable id
and data (delivery/ready.py), without a network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from function.config import ConfigError, Settings
from function.delivery.ready import READY_TYPE, ready_cloudevent, ready_event_id
from function.domain.plan import FixedIp, Interface
from function.domain.readiness import Binding, ReadyNic, binding_of, ready_nics

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "events" / "schemas" / "ready.json").read_text())
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
OTHER = "7b2d4c8f-1e6c-4d2f-8b68-3a8e1d3caf22"
NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"


def nic(port_id: str, state: str = "ACTIVE") -> Interface:
    return Interface(port_id, NET, state, "fa:16:3e:00:00:01", (FixedIp("sub", "10.0.0.5"),))


def ready_ports(interfaces: list[Interface], ports: dict[str, Binding] | None) -> list[str]:
    return [r.interface.port_id for r in ready_nics(SERVER, tuple(interfaces), ports)]


@pytest.mark.parametrize(
    ("state", "binding", "ready"),
    [
        ("ACTIVE", None, True),  # no network API: the compute API's state is all there is
        ("active", None, True),
        ("DOWN", None, False),
        ("BUILD", None, False),
        ("ACTIVE", Binding(), True),  # read; nothing shown decides nothing
        ("ACTIVE", Binding("ACTIVE", SERVER), True),
        ("ACTIVE", Binding("DOWN", SERVER), False),  # the later network read disagrees
        ("ACTIVE", Binding("ACTIVE", OTHER), False),  # bound to another server meanwhile
        ("ACTIVE", Binding("ACTIVE", SERVER, "compute-7", "ovs"), True),
        ("ACTIVE", Binding("ACTIVE", SERVER, "", "ovs"), False),  # shown, no host
        ("ACTIVE", Binding("ACTIVE", SERVER, "compute-7", "unbound"), False),
        ("ACTIVE", Binding("ACTIVE", SERVER, "compute-7", "binding_failed"), False),
        ("DOWN", Binding("ACTIVE", SERVER, "compute-7", "ovs"), False),
    ],
)
def test_ready_only_when_active_and_bound_where_shown(
    state: str, binding: Binding | None, ready: bool
) -> None:
    ports = None if binding is None else {"p1": binding}
    assert ready_ports([nic("p1", state)], ports) == (["p1"] if ready else [])


def test_a_port_the_network_api_did_not_show_is_never_ready() -> None:
    ports = {"p1": Binding("ACTIVE", SERVER)}
    assert ready_ports([nic("p1"), nic("p2"), nic("p3", "DOWN")], ports) == ["p1"]
    assert ready_ports([nic("p1"), nic("p2")], {}) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"id": "p1"}, Binding()),
        (
            {
                "status": "ACTIVE",
                "device_id": SERVER,
                "binding:host_id": " h1 ",
                "binding:vif_type": "ovs",
            },
            Binding("ACTIVE", SERVER, "h1", "ovs"),
        ),
        ({"status": 3, "binding:host_id": None, "binding:vif_type": ["x"]}, Binding()),
    ],
)
def test_binding_of_reads_what_is_shown(raw: dict[str, Any], expected: Binding) -> None:
    assert binding_of(raw) == expected


def test_the_ready_event_id_is_stable_per_server_and_port_only() -> None:
    first = ready_event_id(SERVER, "p1")
    assert first == ready_event_id(SERVER, "p1")
    assert len({first, ready_event_id(SERVER, "p2"), ready_event_id(OTHER, "p1")}) == 3


@pytest.mark.parametrize(
    "binding", [None, Binding(), Binding("ACTIVE", SERVER, "compute-7", "ovs")]
)
def test_the_ready_event_carries_the_nic_and_matches_its_schema(binding: Binding | None) -> None:
    ready = ReadyNic(nic("p1"), binding)
    event = ready_cloudevent(SERVER, "proj", ready, "/nic-autoattach", "corr-1")
    assert event["type"] == READY_TYPE and event["subject"] == SERVER
    assert event["id"] == ready_event_id(SERVER, "p1") and event["correlationid"] == "corr-1"
    data = event.get_data()
    Draft202012Validator(SCHEMA).validate(data)
    assert data["port_id"] == "p1" and data["port_state"] == "ACTIVE"
    shown = binding is not None and binding.host_id is not None
    assert ("binding" in data) is shown
    if shown:
        assert data["binding"] == {"host_id": "compute-7", "vif_type": "ovs"}


def test_the_ready_schema_is_strict() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    good = ready_cloudevent(SERVER, "proj", ReadyNic(nic("p1")), "/s").get_data()
    for bad in (
        {**good, "port_state": "DOWN"},
        {**good, "binding": {"vif_type": "unbound"}},
        {**good, "extra": 1},
    ):
        assert not Draft202012Validator(SCHEMA).is_valid(bad)


def test_the_setting_is_off_by_default_and_needs_a_sink() -> None:
    base = {
        "NICATTACH_POLICY": "p.yaml",
        "NICATTACH_ECS_ENDPOINT": "https://ecs.example",
        "NICATTACH_TOKEN": "t",
    }
    assert Settings.from_env(base).ready_event is False
    on = {**base, "NICATTACH_READY_EVENT": "true", "NICATTACH_SINK": "https://sink.example/"}
    assert Settings.from_env(on).ready_event is True
    with pytest.raises(ConfigError, match="NICATTACH_READY_EVENT sends its events to a sink"):
        Settings.from_env({**base, "NICATTACH_READY_EVENT": "true"})
