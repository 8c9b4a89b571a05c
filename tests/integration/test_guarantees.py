"""Each promise the function broke under attack, now kept; one test per item of the
reliability issue, each against the real emulator (or a real hostile HTTP server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from guarantees_support import Hostile, deliver, event, on, seed_example, serve_hostile
from support import BACKUP, PROJECT, SERVER, STORAGE, TOKEN, service

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.auth import TokenAuth
from function.compute.base import Attached
from function.compute.nova.client import NovaClient
from function.config import ConfigError, Settings
from function.domain.policy import NicRequest
from function.transport.session import Session


@pytest.fixture
def seeded(admin: AdminClient) -> AdminClient:
    return seed_example(admin)


@pytest.fixture
def hostile() -> Iterator[tuple[str, type[Hostile]]]:
    with serve_hostile() as served:
        yield served


# -- 1. secrets ------------------------------------------------------------------------


def test_a_secret_with_a_trailing_newline_is_stripped_one_with_white_space_inside_refused(
    emulator: EmulatorServer,
) -> None:
    base = {"NICATTACH_POLICY": "p.yaml", "NICATTACH_ECS_ENDPOINT": emulator.url}
    assert Settings.from_env({**base, "NICATTACH_TOKEN": TOKEN + "\n"}).token == TOKEN
    inner = "canary-S3CRET\nvalue"
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**base, "NICATTACH_TOKEN": inner, "HUAWEICLOUD_SDK_SK": inner})
    assert "canary" not in str(refused.value) and "S3CRET" not in str(refused.value)
    assert any("NICATTACH_TOKEN" in p for p in refused.value.problems)


def test_an_api_that_echoes_headers_leaks_no_token_into_events_or_logs(
    hostile: tuple[str, type[Hostile]], capfd: pytest.CaptureFixture[str]
) -> None:
    url, _ = hostile
    canary = "canary-token-7f3a9c"
    svc = service(url, token=canary, device_tags="off")
    env = {"NICATTACH_POLICY": "p", "NICATTACH_ECS_ENDPOINT": url, "NICATTACH_TOKEN": canary}
    Settings.from_env(env)  # registers the canary, as start-up does
    status, body = deliver(svc, event(tags=["role=db", "env=prod"]))
    assert status == 422 and body["error"]["code"] == "bad_request"
    assert "X-Auth-Token" in body["error"]["message"]  # the echo arrived …
    assert canary not in json.dumps(body)  # … without the token
    assert canary not in capfd.readouterr().err


def test_a_header_value_the_transport_refuses_never_shows_in_the_error() -> None:
    with Session() as session, pytest.raises(Exception) as raised:
        session.request("GET", "http://127.0.0.1:9/", headers={"X-Auth-Token": "canary\r\nX: y"})
    assert "canary" not in str(raised.value)


# -- 2. duplicates left by killed copies heal --------------------------------------------


def _killed_copies(emulator: EmulatorServer, tag: str | None) -> list[str]:
    """Two copies POSTed the same NIC and died before re-reading."""
    client = NovaClient(Session(), emulator.url, TokenAuth(TOKEN))
    body = {"interfaceAttachment": {"net_id": STORAGE, **({"tag": tag} if tag else {})}}
    version = "2.49" if tag else None
    made = [client.attach(PROJECT, SERVER, body, version).port_id for _ in range(2)]
    return sorted(made)


def test_marked_duplicates_heal_on_the_next_delivery(
    emulator: EmulatorServer, seeded: AdminClient
) -> None:
    made = _killed_copies(emulator, "nicattach:db-storage")
    status, body = deliver(service(emulator.url), event(tags=["role=db", "env=prod"]))
    assert status == 200, body
    assert [i["port_id"] for i in on(seeded, SERVER, STORAGE)] == [made[0]]  # lowest kept
    assert len(on(seeded, SERVER, BACKUP)) == 1


def test_marked_duplicates_heal_in_the_sweep(emulator: EmulatorServer, seeded: AdminClient) -> None:
    made = _killed_copies(emulator, "nicattach:db-storage")
    summary = service(emulator.url, project_id=PROJECT).reconcile(PROJECT)
    assert summary.failed == 0
    assert [i["port_id"] for i in on(seeded, SERVER, STORAGE)] == [made[0]]


def test_without_marks_duplicates_are_reported_never_touched(
    emulator: EmulatorServer, seeded: AdminClient
) -> None:
    made = _killed_copies(emulator, None)
    svc = service(emulator.url, project_id=PROJECT, device_tags="off")
    summary = svc.reconcile(PROJECT)
    assert [d.port_id for d in summary.suspected_duplicates] == [made[1]]
    assert sorted(i["port_id"] for i in on(seeded, SERVER, STORAGE)) == made
    status, body = deliver(svc, event(tags=["role=db", "env=prod"]))
    assert status == 200 and body["suspected_duplicates"] == [
        {"port_id": made[1], "net_id": STORAGE}
    ]


# -- 3. a port and a network request on one network --------------------------------------


def test_a_port_request_and_a_network_request_on_its_network_get_two_nics(
    emulator: EmulatorServer, seeded: AdminClient, tmp_path: Path
) -> None:
    port = seeded.create_port(STORAGE)["id"]
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        f"  - name: net\n    when: {{role: db}}\n    attach: [{{net_id: {STORAGE}}}]\n"
        "  - name: port\n    when: {role: db}\n    attach: [{port_id_from_tag: port}]\n"
    )
    seeded.clear_requests()
    status, body = deliver(
        service(emulator.url, policy=policy), event(tags=["role=db", f"port={port}"])
    )
    assert status == 200, body
    on_storage = {i["port_id"] for i in on(seeded, SERVER, STORAGE)}
    assert port in on_storage and len(on_storage) == 2
    assert not [r for r in seeded.requests_log() if r["method"] == "DELETE"]
    assert sorted(i["port_id"] for i in body["interfaces"]) == sorted(on_storage)


# -- 5. bad data from the API: one outcome, never a 500 -------------------------------------


def test_unusable_tags_from_the_api_are_ignored_with_a_warning(
    emulator: EmulatorServer, seeded: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    seeded.update_server(SERVER, tags=["role=db", "env=prod", "=x", " "])
    status, body = deliver(service(emulator.url), event())
    assert status == 200 and body["status"] == "attached"
    (record,) = [r for r in caplog.records if "tag(s) that cannot be used" in r.getMessage()]
    assert record.levelname == "WARNING"
    assert record.ctx == {"ignored_tags": ['"=x"', '" "']}  # a field, not in the message


# -- 6. racing copies on one port --------------------------------------------------------


def test_a_port_a_racing_copy_attached_is_success_not_a_permanent_failure(
    emulator: EmulatorServer, seeded: AdminClient
) -> None:
    port = seeded.create_port(STORAGE)["id"]
    svc = service(emulator.url)
    client = NovaClient(Session(), emulator.url, TokenAuth(TOKEN))
    client.attach(PROJECT, SERVER, {"interfaceAttachment": {"port_id": port}})  # the other copy
    deadline = svc.deadline()
    nic = NicRequest(net_id=None, port_id=port, fixed_ip=None, rules=("r",))
    converger = svc.flow._converger  # our copy read before the other one attached
    done = converger.converge(PROJECT, SERVER, (nic,), deadline, first=Attached(()))
    assert [i.port_id for i in done.interfaces] == [port]


# -- 7. the sweep follows the API's pages ---------------------------------------------------


def test_the_sweep_follows_next_links_when_the_api_caps_page_size(
    emulator: EmulatorServer, seeded: AdminClient
) -> None:
    for n in range(7):
        seeded.create_server(
            PROJECT, tags=["role=db", "env=prod"], id=f"00000000-0000-4000-8000-{n:012d}"
        )
    seeded.set_options(max_limit=3)
    total = len(seeded.state()["servers"])
    summary = service(emulator.url, project_id=PROJECT).reconcile(PROJECT)
    assert summary.checked == total == summary.attached and not summary.incomplete


# -- 9. fixed IPs ---------------------------------------------------------------------------


def test_an_ip_held_by_another_server_fails_after_one_post_and_one_reread(
    emulator: EmulatorServer, seeded: AdminClient, tmp_path: Path
) -> None:
    other = seeded.create_server(PROJECT, tags=[])["id"]
    NovaClient(Session(), emulator.url, TokenAuth(TOKEN)).attach(
        PROJECT,
        other,
        {"interfaceAttachment": {"net_id": STORAGE, "fixed_ips": [{"ip_address": "10.20.0.50"}]}},
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - name: ip\n    when: {role: db}\n"
        f"    attach: [{{net_id: {STORAGE}, fixed_ip_from_tag: ip}}]\n"
    )
    seeded.clear_requests()
    status, body = deliver(
        service(emulator.url, policy=policy), event(tags=["role=db", "ip=10.20.0.50"])
    )
    assert status == 422 and body["error"]["code"] == "fixed_ip_in_use"
    log = [r for r in seeded.requests_log() if "os-interface" in r["path"]]
    assert [r["method"] for r in log] == ["GET", "POST", "GET"]


def test_an_ipv6_zone_in_a_tag_is_refused(
    emulator: EmulatorServer, seeded: AdminClient, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - name: ip\n    when: {role: db}\n"
        f"    attach: [{{net_id: {STORAGE}, fixed_ip_from_tag: ip}}]\n"
    )
    status, body = deliver(
        service(emulator.url, policy=policy), event(tags=["role=db", "ip=fe80::1%eth0"])
    )
    assert status == 422 and body["error"]["code"] == "policy_conflict"
    assert on(seeded, SERVER, STORAGE) == []


# -- 11. the legacy v2 API shows no tags ------------------------------------------------------


def test_v2_without_tags_in_the_event_is_a_clear_failure(
    emulator: EmulatorServer, seeded: AdminClient
) -> None:
    svc = service(emulator.url, api_version="v2", project_id=PROJECT)
    status, body = deliver(svc, event())
    assert status == 422 and body["error"]["code"] == "tags_unavailable"
    assert svc.reconcile(PROJECT).tags_unavailable


# -- 12. tags that change ---------------------------------------------------------------------


def test_a_nic_no_request_wants_any_more_is_reported_then_pruned(
    emulator: EmulatorServer, seeded: AdminClient, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - name: ip\n    when: {role: db}\n"
        f"    attach: [{{net_id: {STORAGE}, fixed_ip_from_tag: ip}}]\n"
    )
    deliver(service(emulator.url, policy=policy), event(tags=["role=db", "ip=10.20.0.60"]))
    old = on(seeded, SERVER, STORAGE)[0]["port_id"]
    status, body = deliver(
        service(emulator.url, policy=policy), event(tags=["role=db", "ip=10.20.0.61"])
    )
    assert status == 200 and body["stale_interfaces"] == [{"port_id": old, "net_id": STORAGE}]
    assert len(on(seeded, SERVER, STORAGE)) == 2
    status, body = deliver(
        service(emulator.url, policy=policy, prune=True), event(tags=["role=db", "ip=10.20.0.61"])
    )
    assert status == 200 and "stale_interfaces" not in body
    assert [i["fixed_ips"][0]["ip_address"] for i in on(seeded, SERVER, STORAGE)] == ["10.20.0.61"]
