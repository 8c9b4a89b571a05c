"""Fixtures for integration tests: a real emulator on a free port, and its admin client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.client import AdminClient
from emulator.server import EmulatorServer

EMULATOR_TOKEN = "emulator-token"
BACKENDS = ("nova", "huawei-v1")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulator_token() -> str:
    return EMULATOR_TOKEN


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each compute backend in turn, as ``NICATTACH_BACKEND`` (read by ``Settings.from_env``
    and by the tests' own ``Settings``): the same test must pass on both."""
    name: str = request.param
    monkeypatch.setenv("NICATTACH_BACKEND", name)
    return name


@pytest.fixture
def emulator(emulator_token: str) -> Iterator[EmulatorServer]:
    """A started emulator with an empty backend, stopped after the test."""
    with EmulatorServer(tokens=(emulator_token,)) as server:
        yield server


@pytest.fixture
def admin(emulator: EmulatorServer) -> AdminClient:
    return AdminClient(emulator.url)


@pytest.fixture
def function_env(
    emulator: EmulatorServer, admin: AdminClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function's environment aimed at the emulator, seeded like the demo
    (examples/emulator-seed.json, examples/policy.yaml); no sink, no allowlist."""
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    monkeypatch.setenv("NICATTACH_POLICY", str(ROOT / "examples" / "policy.yaml"))
    monkeypatch.setenv("NICATTACH_ECS_ENDPOINT", emulator.url)
    monkeypatch.setenv("NICATTACH_NETWORK_ENDPOINT", emulator.url)
    monkeypatch.setenv("NICATTACH_TOKEN", EMULATOR_TOKEN)
    for name in ("NICATTACH_SINK", "K_SINK", "NICATTACH_ALLOWED_PROJECTS", "NICATTACH_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
