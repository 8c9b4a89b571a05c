"""Fixtures for integration tests: a real emulator on a free port, and its admin client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.client import AdminClient
from emulator.server import EmulatorServer

EMULATOR_TOKEN = "emulator-token"


@pytest.fixture
def emulator_token() -> str:
    return EMULATOR_TOKEN


@pytest.fixture
def emulator(emulator_token: str) -> Iterator[EmulatorServer]:
    """A started emulator with an empty backend, stopped after the test."""
    with EmulatorServer(tokens=(emulator_token,)) as server:
        yield server


@pytest.fixture
def admin(emulator: EmulatorServer) -> AdminClient:
    return AdminClient(emulator.url)
