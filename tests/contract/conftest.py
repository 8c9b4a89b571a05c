"""The ``target`` fixture: every compute contract test runs once on the emulator and once on real
Nova; the ``network`` fixture: every network contract test once on the emulator and once on real
Neutron.

The emulator halves always run (they are part of ``make test``). The Nova half
needs the Nova virtualenv and is skipped unless asked for with ``--nova``
(when pytest is given ``tests/contract``), ``NICATTACH_CONTRACT_NOVA=1``, or
``NICATTACH_NOVA_URL`` naming a Nova target that is already running; the
Neutron half likewise with ``--neutron``, ``NICATTACH_CONTRACT_NEUTRON=1`` or
``NICATTACH_NEUTRON_URL``. At the end pytest prints one line with the count
per target, e.g. ``contract: emulator 44 passed; nova 29 passed; neutron 19 passed``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from contract_targets import (
    NOVA_URL,
    EmulatorTarget,
    NovaProcess,
    NovaTarget,
    Target,
    nova_python,
    running_nova_info,
)
from network_targets import (
    EmulatorNetworkTarget,
    NetworkTarget,
    NeutronProcess,
    neutron_python,
    neutron_target,
    running_neutron_info,
)

from emulator.server import EmulatorServer
from function.auth import TokenAuth
from function.compute.nova.client import NovaClient

NOVA_SWITCH = "NICATTACH_CONTRACT_NOVA"
NEUTRON_SWITCH = "NICATTACH_CONTRACT_NEUTRON"
TOKEN = "contract-token"
COMPUTE_TARGETS = ("emulator", "nova")
TARGETS = (*COMPUTE_TARGETS, "neutron")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--nova", action="store_true", help="also run the contract suite on Nova")
    parser.addoption(
        "--neutron", action="store_true", help="also run the network contract suite on Neutron"
    )


def neutron_wanted(config: pytest.Config) -> bool:
    asked = bool(config.getoption("--neutron", default=False))
    return asked or os.environ.get(NEUTRON_SWITCH) == "1" or running_neutron_info() is not None


@pytest.fixture(scope="session")
def neutron(request: pytest.FixtureRequest) -> Iterator[NetworkTarget]:
    """One Neutron target for the session (each test makes its own ports)."""
    if not neutron_wanted(request.config):
        pytest.skip(f"real Neutron: pass --neutron or set {NEUTRON_SWITCH}=1 (make contract)")
    info = running_neutron_info()
    if info is not None:
        yield neutron_target(info)
        return
    process = NeutronProcess(neutron_python())
    target = neutron_target(process.info)
    try:
        yield target
    finally:
        target.close()
        process.stop()


@pytest.fixture
def emulator_network() -> Iterator[NetworkTarget]:
    with EmulatorServer(tokens=(TOKEN,)) as server:
        target = EmulatorNetworkTarget(server)
        yield target
        target.close()


@pytest.fixture(params=("emulator", "neutron"))
def network(request: pytest.FixtureRequest) -> NetworkTarget:
    name: str = request.param
    fixture = "neutron" if name == "neutron" else "emulator_network"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


def nova_wanted(config: pytest.Config) -> bool:
    asked = bool(config.getoption("--nova", default=False))
    return asked or os.environ.get(NOVA_SWITCH) == "1" or bool(os.environ.get(NOVA_URL))


@pytest.fixture(scope="session")
def nova(request: pytest.FixtureRequest) -> Iterator[NovaTarget]:
    """One Nova target for the session (each test makes its own servers)."""
    if not nova_wanted(request.config):
        pytest.skip(f"real Nova: pass --nova or set {NOVA_SWITCH}=1 (make contract)")
    url = os.environ.get(NOVA_URL)
    if url:
        yield NovaTarget(url, running_nova_info(url))
        return
    process = NovaProcess(nova_python())
    try:
        yield NovaTarget(process.info["url"], process.info)
    finally:
        process.stop()


@pytest.fixture
def emulator_target() -> Iterator[EmulatorTarget]:
    with EmulatorServer(tokens=(TOKEN,)) as server:
        target = EmulatorTarget(server, TOKEN)
        yield target
        target.close()


@pytest.fixture(params=COMPUTE_TARGETS)
def target(request: pytest.FixtureRequest) -> Target:
    name: str = request.param
    return request.getfixturevalue("nova" if name == "nova" else "emulator_target")  # type: ignore[no-any-return]


@pytest.fixture
def client(target: Target) -> NovaClient:
    """The function's own API client, aimed at the target."""
    return NovaClient(
        target.client_session, target.url, TokenAuth(target.token), sleep=lambda _: None
    )


def _target_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    for name in ("target", "network", "observed"):
        if callspec is not None and name in callspec.params:
            return str(callspec.params[name])
    names = getattr(item, "fixturenames", ())
    return next((name for name in ("nova", "neutron") if name in names), None)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: dict[str, Counter[str]] = {name: Counter() for name in TARGETS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            item_target = _report_target(report)
            if item_target is not None and (report.when == "call" or outcome != "passed"):
                counts[item_target][outcome] += 1
    if not any(counts.values()):
        return
    parts = []
    for name in TARGETS:
        found = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts[name].items()))
        parts.append(f"{name} {found or 'none ran'}")
    terminalreporter.write_line("contract: " + "; ".join(parts))


_ITEM_TARGETS: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name = _target_of(item)
        if name is not None and "tests/contract/" in item.nodeid:
            _ITEM_TARGETS[item.nodeid] = name


def _report_target(report: pytest.TestReport) -> str | None:
    return _ITEM_TARGETS.get(report.nodeid)
