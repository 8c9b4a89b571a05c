"""The seam on both real backends, over HTTP against the emulator: a detach of a NIC
already gone, or on a server already gone (404), is done (idempotent in every backend),
and capabilities are a value known at wiring, without a request (Nova's ``marks=auto``
settles them in one explicit read)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import PROJECT, SERVER, STORAGE, VirtualTime, settings

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app.wiring import compute_backend
from function.auth import TokenAuth
from function.compute.base import ComputeBackend
from function.domain.policy import NicRequest
from function.domain.timing import Deadline
from function.transport.session import Session

ROOT = Path(__file__).resolve().parents[2]
GONE = "00000000-0000-4000-8000-0000000000ff"


def build(emulator: EmulatorServer, name: str) -> tuple[ComputeBackend, Deadline]:
    time = VirtualTime()
    config = settings(emulator.url, backend=name)
    backend = compute_backend(config, Session(), TokenAuth(config.token or ""), time.timing)
    return backend, Deadline(time.clock() + 20.0, time.timing)


@pytest.fixture
def seeded(admin: AdminClient) -> AdminClient:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    admin.clear_requests()
    return admin


@pytest.mark.parametrize("name", ["nova", "huawei-v1"])
def test_a_detach_of_a_nic_already_gone_is_done(
    emulator: EmulatorServer, seeded: AdminClient, name: str
) -> None:
    backend, deadline = build(emulator, name)
    before = {i.port_id for i in backend.list_interfaces(PROJECT, SERVER, deadline).interfaces}
    backend.attach(PROJECT, SERVER, NicRequest(STORAGE, None, None, ("t",)), deadline)
    now = backend.list_interfaces(PROJECT, SERVER, deadline).interfaces
    (made,) = [i.port_id for i in now if i.port_id not in before]
    backend.detach(PROJECT, SERVER, made, deadline)
    backend.detach(PROJECT, SERVER, made, deadline)  # already gone: no error
    backend.detach(PROJECT, GONE, made, deadline)  # the server is gone too: 404, done
    after = backend.list_interfaces(PROJECT, SERVER, deadline).interfaces
    assert made not in {i.port_id for i in after}


@pytest.mark.parametrize(
    ("name", "security_groups", "free_nics"), [("nova", False, False), ("huawei-v1", True, True)]
)
def test_capabilities_are_known_at_wiring_without_a_request(
    emulator: EmulatorServer,
    seeded: AdminClient,
    name: str,
    security_groups: bool,
    free_nics: bool,
) -> None:
    backend, deadline = build(emulator, name)
    caps = backend.capabilities
    assert (caps.security_groups, caps.free_nics) == (security_groups, free_nics)
    assert seeded.requests_log() == []
    settled = backend.discover(deadline)
    assert settled.marks is (name == "nova")  # the emulator offers microversion 2.70
    backend.discover(deadline)
    assert len(seeded.requests_log()) == (1 if name == "nova" else 0)  # read once
