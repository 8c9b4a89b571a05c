"""``GET /servers[/detail]?changes-since=…`` as Nova answers it: servers whose ``updated``
time is at or after the given ISO 8601 time; ``updated`` moves on create, status change,
tag change, interface attach and detach (also the lazy end of a timed BUILD and of a
delayed detach), all on the backend's injectable clock; a malformed value is a 400.
The admin clock (``/_admin/clock``) moves the emulator process's own clock forward."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient, AdminError
from emulator.compute.models import FakeBackend
from emulator.server import EmulatorServer

NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
TOKEN = "emulator-token"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Cloud:
    """An emulator on a fake clock, its admin client and a compute API caller."""

    def __init__(self, server: EmulatorServer, clock: FakeClock) -> None:
        self.server, self.clock = server, clock
        self.admin = AdminClient(server.url)
        self.http = requests.Session()
        self.admin.create_network("10.20.0.0/16", id=NET, name="storage")

    def new(self, **kwargs: Any) -> str:
        kwargs.setdefault("interfaces", [{"net_id": NET}])
        return str(self.admin.create_server(PROJECT, **kwargs)["id"])

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.server.backend.wall_time(), timezone.utc)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"X-Auth-Token": TOKEN, "X-OpenStack-Nova-API-Version": "2.70"}
        url = f"{self.server.url}/v2.1/{PROJECT}{path}"
        return self.http.request(method, url, headers=headers, **kwargs)

    def since(self, moment: datetime | str, listing: str = "/servers/detail") -> list[str]:
        text = moment if isinstance(moment, str) else stamp(moment)
        response = self.call("GET", listing, params={"changes-since": text})
        assert response.status_code == 200, response.text
        return [server["id"] for server in response.json()["servers"]]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    clock = FakeClock()
    with EmulatorServer(backend=FakeBackend(clock=clock), tokens=(TOKEN,)) as server:
        made = Cloud(server, clock)
        yield made
        made.http.close()


@pytest.mark.parametrize("listing", ["/servers", "/servers/detail"])
def test_only_servers_updated_at_or_after_the_time_are_listed(cloud: Cloud, listing: str) -> None:
    old = cloud.new()
    cloud.clock.now += 3600
    start = cloud.now()
    new = cloud.new()
    assert cloud.since(start - timedelta(hours=2), listing) == [new, old]
    assert cloud.since(start, listing) == [new], "updated == changes-since counts (>=)"
    assert cloud.since(start + timedelta(seconds=1), listing) == []
    detail = cloud.call("GET", f"/servers/{new}").json()["server"]
    assert detail["updated"] == detail["created"] == stamp(start)


def test_updated_follows_the_injected_clock_on_every_change(cloud: Cloud) -> None:
    servers = {name: cloud.new() for name in ("tags", "status", "attach", "detach", "quiet")}
    port = cloud.admin.interfaces(servers["detach"])[0]["port_id"]
    cloud.clock.now += 600
    start = cloud.now()
    assert cloud.since(start) == []
    cloud.admin.update_server(servers["tags"], tags=["role=db"])
    cloud.admin.update_server(servers["status"], status="SHUTOFF")
    attached = cloud.call(
        "POST",
        f"/servers/{servers['attach']}/os-interface",
        json={"interfaceAttachment": {"net_id": NET}},
    )
    assert attached.status_code == 200
    detached = cloud.call("DELETE", f"/servers/{servers['detach']}/os-interface/{port}")
    assert detached.status_code == 202
    changed = set(cloud.since(start))
    assert changed == {servers[k] for k in ("tags", "status", "attach", "detach")}
    body = cloud.call("GET", f"/servers/{servers['tags']}").json()["server"]
    assert body["updated"] == stamp(start) and body["created"] < body["updated"]


def test_a_delayed_detach_and_a_timed_build_change_updated_when_they_finish(
    cloud: Cloud,
) -> None:
    cloud.admin.set_options(detach_delay_seconds=30)
    detaching = cloud.new()
    port = cloud.admin.interfaces(detaching)[0]["port_id"]
    building = cloud.new(status="BUILD", build_seconds=60)
    cloud.clock.now += 10
    assert cloud.call("DELETE", f"/servers/{detaching}/os-interface/{port}").status_code == 202
    cloud.clock.now += 20  # the detach started 20 s ago, finishes in 10 s
    between = cloud.now()
    assert cloud.since(between) == []
    cloud.clock.now += 40  # detach done at +40 s, build done at +60 s (from creation)
    assert set(cloud.since(between)) == {detaching, building}
    detail = cloud.call("GET", f"/servers/{building}").json()["server"]
    assert detail["status"] == "ACTIVE"
    assert detail["updated"] == stamp(between + timedelta(seconds=30))
    assert cloud.since(between + timedelta(seconds=21)) == [building]


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-30T10:00:00Z",
        "2026-11-30T18:00:00+08:00",
        "2026-11-30T10:00:00",
        "2026-11-30T10:00:00.000001Z",
        "2026-11-30T10:00Z",
        "2026-11-30",
    ],
)
def test_iso_8601_forms_are_accepted_and_naive_times_are_utc(cloud: Cloud, text: str) -> None:
    response = cloud.call("GET", "/servers/detail", params={"changes-since": text})
    assert response.status_code == 200, response.text


def test_the_same_instant_in_any_zone_gives_the_same_answer(cloud: Cloud) -> None:
    cloud.new()
    cloud.clock.now += 7200
    start = cloud.now().replace(microsecond=0)
    new = cloud.new()
    in_beijing = start.astimezone(timezone(timedelta(hours=8))).isoformat()
    naive_utc = start.replace(tzinfo=None).isoformat()
    assert cloud.since(in_beijing) == cloud.since(naive_utc) == cloud.since(start) == [new]


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T00:00:00Z", "", "1732793700", "T"])
def test_a_malformed_time_is_a_400_as_nova_answers(cloud: Cloud, text: str) -> None:
    response = cloud.call("GET", "/servers/detail", params={"changes-since": text})
    assert response.status_code == 400
    message = (
        f"Invalid input for query parameters changes-since. Value: {text}. "
        f"'{text}' is not a 'date-time'"
    )
    assert response.json() == {"badRequest": {"code": 400, "message": message}}


def test_paging_keeps_the_filter_and_the_marker_may_be_outside_it(cloud: Cloud) -> None:
    old = [cloud.new() for _ in range(3)]
    cloud.clock.now += 3600
    start = cloud.now()
    new = [cloud.new() for _ in range(5)]
    seen: list[str] = []
    query: dict[str, str] | None = {"changes-since": stamp(start), "limit": "2"}
    url = f"{cloud.server.url}/v2.1/{PROJECT}/servers/detail"
    while url:
        body = cloud.http.get(url, params=query, headers={"X-Auth-Token": TOKEN}).json()
        seen += [server["id"] for server in body["servers"]]
        links = body.get("servers_links", [])
        url, query = (links[0]["href"], None) if links else ("", None)
        if links:
            assert "changes-since=" in links[0]["href"]
    assert seen == new[::-1]
    # Nova looks the marker up by id, whatever the filter: the newest old server as marker
    response = cloud.call(
        "GET", "/servers/detail", params={"changes-since": stamp(start), "marker": old[-1]}
    )
    assert response.status_code == 200 and response.json()["servers"] == []


def test_the_admin_clock_moves_the_emulator_forward_only() -> None:
    with EmulatorServer(tokens=(TOKEN,)) as server:  # the default, adjustable clock
        admin = AdminClient(server.url)
        before = admin.clock()
        admin.create_network("10.20.0.0/16", id=NET)
        old = admin.create_server(PROJECT, build_seconds=60)
        after = admin.advance_clock(3600)
        assert after["epoch_s"] - before["epoch_s"] >= 3600
        assert admin.server(old["id"])["status"] == "ACTIVE", "its BUILD ended meanwhile"
        new = admin.create_server(PROJECT)
        assert new["created"] == after["now"] or new["created"] > old["created"]
        with pytest.raises(AdminError) as refused:
            admin.advance_clock(-1)
        assert refused.value.status == 400
        headers = {"X-Auth-Token": TOKEN}
        url = f"{server.url}/v2.1/{PROJECT}/servers"
        listed = requests.get(url, params={"changes-since": after["now"]}, headers=headers)
        assert [s["id"] for s in listed.json()["servers"]] == [new["id"]]


def test_a_fixed_clock_cannot_be_moved() -> None:
    with EmulatorServer(backend=FakeBackend(clock=FakeClock()), tokens=(TOKEN,)) as server:
        with pytest.raises(AdminError) as refused:
            AdminClient(server.url).advance_clock(10)
        assert refused.value.status == 400
