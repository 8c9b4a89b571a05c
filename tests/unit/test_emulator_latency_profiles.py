"""Latency profiles without HTTP: which kind a call is, and the delays each kind draws."""

from __future__ import annotations

import random

import pytest

from emulator.control.latency import PROFILES, Latency, LatencyProfile, build_profile, call_kind
from emulator.core.wire import Request

SERVER = "/v2.1/p1/servers/9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"


def _request(method: str, path: str) -> Request:
    return Request(method, path, {}, {}, b"", "http://emulator")


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("GET", f"{SERVER}/os-interface", "read"),
        ("GET", f"{SERVER}/os-interface/port-1", "read"),
        ("POST", f"{SERVER}/os-interface", "attach"),
        ("DELETE", f"{SERVER}/os-interface/port-1", "detach"),
        ("GET", SERVER, "read"),
        ("GET", "/v2.1/p1/servers/detail", "read"),
    ],
)
def test_call_kinds(method: str, path: str, kind: str) -> None:
    assert call_kind(_request(method, path)) == kind


@pytest.mark.parametrize("seed", range(20))
def test_cloud_profile_draws_stay_in_their_ranges(seed: int) -> None:
    cloud, rng = PROFILES["cloud"], random.Random(seed)
    assert 80 <= cloud.draw_ms("read", rng) <= 120
    assert 800 <= cloud.draw_ms("attach", rng) <= 3600
    assert 800 <= cloud.draw_ms("detach", rng) <= 1200


def test_flat100_is_100_ms_for_every_kind_and_none_is_zero() -> None:
    rng = random.Random(1)
    assert {PROFILES["flat100"].draw_ms(kind, rng) for kind in ("read", "attach", "detach")} == {
        100.0
    }
    assert {PROFILES["none"].draw_ms(kind, rng) for kind in ("read", "attach", "detach")} == {0.0}


def test_a_seed_replays_the_same_delays() -> None:
    def delays() -> list[float]:
        slept: list[float] = []
        latency = Latency(build_profile({"profile": "cloud", "seed": 42}), sleep=slept.append)
        for kind in ("read", "attach", "detach", "attach", "read"):
            latency.delay(kind)
        return slept

    first = delays()
    assert first == delays() and len(set(first)) == 5


def test_none_never_calls_sleep() -> None:
    slept: list[float] = []
    Latency(sleep=slept.append).delay("attach")
    assert slept == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"profile": "cloud"}, PROFILES["cloud"]),
        ({"attach_ms": 1500}, LatencyProfile("custom", attach_ms=(1500.0, 1500.0))),
        (
            {"profile": "flat100", "read_ms": 5},
            LatencyProfile("custom", 5.0, (100.0, 100.0), 100.0),
        ),
        (
            {"profile": "cloud", "seed": 3},
            LatencyProfile("cloud", 100.0, (1000.0, 3000.0), 1000.0, 0.2, 3),
        ),
    ],
)
def test_build_profile(fields: dict[str, object], expected: LatencyProfile) -> None:
    assert build_profile(fields) == expected


@pytest.mark.parametrize(
    "fields",
    [
        {"profile": "slow"},
        {"jitter": 1.5},
        {"read_ms": -1},
        {"attach_ms": [3, 1]},
        {"attach_ms": [1, 2, 3]},
        {"attach_ms": "fast"},
        {"other": 1},
    ],
)
def test_build_profile_refuses(fields: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        build_profile(fields)
