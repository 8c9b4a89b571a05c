"""The emulator's control side over real HTTP: the fault plan API, and its docs kept in step."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
import requests
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.app import EmulatorApp
from emulator.client import AdminClient, AdminError
from emulator.compute.models import FakeBackend
from emulator.control.faults import FaultPlan, Faults
from emulator.server import EmulatorServer

README = Path(__file__).resolve().parents[2] / "emulator" / "README.md"
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
TOKEN = {"X-Auth-Token": "emulator-token"}


@pytest.fixture
def http(emulator: EmulatorServer) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def server(admin: AdminClient) -> str:
    admin.create_network("10.20.0.0/24", id=NET)
    return str(admin.create_server(PROJECT, id=SERVER)["id"])


def _interfaces(http: requests.Session, url: str) -> requests.Response:
    return http.get(f"{url}/v2.1/{PROJECT}/servers/{SERVER}/os-interface", headers=TOKEN)


def test_the_plan_reads_back_with_defaults_and_patches_keep_other_fields(
    admin: AdminClient, http: requests.Session, emulator: EmulatorServer
) -> None:
    assert http.get(f"{emulator.url}/_admin/faults").json() == FaultPlan().as_dict()
    admin.set_faults(error_rate=0.25, retry_after_s=2)
    plan = admin.set_faults(seed=3)
    assert (plan["error_rate"], plan["retry_after_s"], plan["seed"]) == (0.25, 2.0, 3)


@pytest.mark.parametrize(
    "body",
    [
        {"error_rate": 1.5},
        {"drop_rate": -0.1},
        {"latency_ms": -1},
        {"nonsense": 1},
        {"error_rate": 0.5, "throttle_rate": 2},
        {"seed": "x"},
    ],
)
def test_a_bad_plan_is_refused_whole(admin: AdminClient, body: dict[str, object]) -> None:
    with pytest.raises(AdminError) as refused:
        admin.set_faults(**body)
    assert refused.value.status == 400 and "badRequest" in refused.value.body
    assert admin.set_faults() == FaultPlan().as_dict()  # nothing was applied


def test_error_rate_1_answers_every_compute_call_with_a_counted_5xx(
    admin: AdminClient, http: requests.Session, emulator: EmulatorServer, server: str
) -> None:
    admin.set_faults(error_rate=1)
    statuses = {_interfaces(http, emulator.url).status_code for _ in range(4)}
    assert statuses <= {500, 503} and statuses
    assert http.get(f"{emulator.url}/v2.1/").status_code == 200  # discovery is never faulted
    assert admin.set_faults(error_rate=0)["counts"] == {"error": 4}
    assert _interfaces(http, emulator.url).status_code == 200


def test_throttle_answers_429_with_retry_after(
    admin: AdminClient, http: requests.Session, emulator: EmulatorServer, server: str
) -> None:
    admin.set_faults(throttle_rate=1, retry_after_s=0.5)
    answer = _interfaces(http, emulator.url)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "0.5"
    assert answer.json()["overLimit"]["retryAfter"] == "0.5"


def test_busy_servers_refuse_attaches_but_not_reads(
    admin: AdminClient, http: requests.Session, emulator: EmulatorServer, server: str
) -> None:
    admin.set_faults(busy_servers={SERVER: 3600})
    url = f"{emulator.url}/v2.1/{PROJECT}/servers/{SERVER}/os-interface"
    attach = http.post(url, json={"interfaceAttachment": {"net_id": NET}}, headers=TOKEN)
    assert attach.status_code == 409
    assert "task_state" in attach.json()["conflictingRequest"]["message"]
    assert _interfaces(http, emulator.url).status_code == 200
    assert admin.interfaces(SERVER) == []


def test_ambiguous_rate_1_carries_the_write_out_then_fails_it(
    admin: AdminClient, http: requests.Session, emulator: EmulatorServer, server: str
) -> None:
    admin.set_faults(ambiguous_rate=1, seed=1)
    url = f"{emulator.url}/v2.1/{PROJECT}/servers/{SERVER}/os-interface"
    for _ in range(4):
        try:
            answer = http.post(url, json={"interfaceAttachment": {"net_id": NET}}, headers=TOKEN)
            assert answer.status_code == 500
        except requests.ConnectionError:
            pass  # the dropped half
    assert len(admin.interfaces(SERVER)) == 4
    counts = admin.set_faults()["counts"]
    assert counts.get("ambiguous_drop", 0) + counts.get("ambiguous_500", 0) == 4


def test_fault_latency_sleeps_on_the_injected_sleep() -> None:
    slept: list[float] = []
    faults = Faults(FaultPlan(latency_ms=250), sleep=slept.append)
    with EmulatorServer(faults=faults) as emulator:
        requests.get(f"{emulator.url}/v2.1/{PROJECT}/servers", headers=TOKEN, timeout=5)
        requests.get(f"{emulator.url}/_admin/state", timeout=5)  # the admin API is never slowed
    assert slept == [0.25]


# -- the README documents what the code has ---------------------------------------------


def _section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def _first_column(section: str) -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))


def test_readme_documents_every_fault_field() -> None:
    documented = _first_column(_section("Fault injection"))
    assert documented == {f.name for f in fields(FaultPlan)} | {"busy_servers"}


def test_readme_documents_every_option() -> None:
    documented = _first_column(_section("Admin API"))
    assert documented == set(FakeBackend().options())


def test_readme_documents_every_admin_route() -> None:
    section = _section("Admin API")
    documented = set(re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/_admin/\S+?)`", section))
    routes = EmulatorApp(FakeBackend()).admin.router.routes()
    served = {(method, re.sub(r"\{\w+\}", "{id}", path)) for path, ms in routes for method in ms}
    assert documented == served
