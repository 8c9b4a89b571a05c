"""``nic-autoattach check`` reads the network API: every network (and its subnets, a fixed
IP's, an IPv6 one), port and security group the policy names; one line each, a non-zero
exit when one is missing, and nothing but reads in the emulator's request log."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EMULATOR_TOKEN
from support import PROJECT

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from function.app.check import network_client
from function.app.check_network import network_lines
from function.app.wiring import build_service
from function.cli import main
from function.config import Settings
from function.config.policy_file import parse_policy

STORAGE = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"  # 10.20.0.0/24 in examples/emulator-seed.json
Writer = Callable[..., None]
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def make_group(emulator: EmulatorServer) -> str:
    request = urllib.request.Request(
        f"{emulator.url}/v2.0/security-groups",
        data=json.dumps({"security_group": {"name": "nics"}}).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Auth-Token": EMULATOR_TOKEN,
            "X-Project-Id": PROJECT,
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        group_id: str = json.load(answer)["security_group"]["id"]
    return group_id


@pytest.fixture
def write_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, function_env: None) -> Writer:
    monkeypatch.setenv("NICATTACH_BACKEND", "huawei-v1")  # security groups need it

    def write(*attach: str) -> None:
        path = tmp_path / "policy.yaml"
        entries = "".join(f"      - {a}\n" for a in attach)
        path.write_text(
            f"version: 1\nrules:\n  - name: r\n    when: {{role: db}}\n    attach:\n{entries}"
        )
        monkeypatch.setenv("NICATTACH_POLICY", str(path))

    return write


def run_check(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["check", "--project", PROJECT])
    out, err = capsys.readouterr()
    return code, out.splitlines()[2:] + err.splitlines()  # past the policy and compute lines


def test_a_good_policy_passes_reading_only(
    write_policy: Writer,
    emulator: EmulatorServer,
    admin: AdminClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    group = make_group(emulator)
    port = admin.create_port(STORAGE, project_id=PROJECT)["id"]
    write_policy(
        f"{{net_id: {STORAGE}, fixed_ip: 10.20.0.50, security_groups: [{group}]}}",
        f"{{port_id: {port}}}",
    )
    admin.clear_requests()
    code, lines = run_check(capsys)
    assert code == 0, lines
    assert len(lines) == 3 and all(line.startswith("ok ") for line in lines), lines
    assert {r["method"] for r in admin.requests_log()} == {"GET"}


@pytest.mark.parametrize("case", ["network", "fixed_ip", "port", "bound", "group"])
def test_each_missing_thing_is_one_failing_line(
    case: str,
    write_policy: Writer,
    emulator: EmulatorServer,
    admin: AdminClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    group = make_group(emulator)
    bound = admin.create_port(STORAGE, project_id=PROJECT)["id"]
    admin.create_server(PROJECT, interfaces=[{"port_id": bound}])
    attach, expected = {
        "network": (f"{{net_id: {UNKNOWN}}}", f"network {UNKNOWN}"),
        "fixed_ip": (f"{{net_id: {STORAGE}, fixed_ip: 10.99.0.5}}", "no subnet contains 10.99.0.5"),
        "port": (f"{{port_id: {UNKNOWN}}}", f"port {UNKNOWN}"),
        "bound": (f"{{port_id: {bound}}}", "bound to another device"),
        "group": (
            f"{{net_id: {STORAGE}, security_groups: [{group}, {UNKNOWN}]}}",
            f"security group {UNKNOWN}",
        ),
    }[case]
    write_policy(attach)
    admin.clear_requests()
    code, lines = run_check(capsys)
    assert code == 1, lines
    failed = [line for line in lines if line.startswith("FAIL")]
    assert len(failed) == 1 and expected in failed[0], lines
    assert {r["method"] for r in admin.requests_log()} == {"GET"}


def test_without_a_network_endpoint_the_lines_say_so(
    write_policy: Writer,
    admin: AdminClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("NICATTACH_NETWORK_ENDPOINT")
    monkeypatch.setenv("NICATTACH_BACKEND", "nova")  # huawei-v1 needs the network API
    write_policy(f"{{net_id: {STORAGE}}}", f"{{port_id: {UNKNOWN}}}")
    code, lines = run_check(capsys)
    assert code == 0, lines
    assert len(lines) == 2
    assert all(
        line.startswith("unchecked")
        and line.endswith("(no network endpoint: set NICATTACH_NETWORK_ENDPOINT)")
        for line in lines
    ), lines


def test_an_ipv6_profile_needs_an_ipv6_subnet(function_env: None, admin: AdminClient) -> None:
    """No backend applies ``ipv6`` yet (start-up refuses it), so ``network_lines`` is read
    directly, against the emulator, with the client ``check`` builds."""
    v6 = admin.create_network("10.40.0.0/24", project_id=PROJECT, ipv6_cidr="fd00:40::/64")["id"]
    policy = parse_policy(
        {
            "version": 1,
            "rules": [
                {
                    "name": "r",
                    "when": {"role": "db"},
                    "attach": [{"net_id": v6, "ipv6": True}, {"net_id": STORAGE, "ipv6": True}],
                }
            ],
        },
        "inline",
    )
    service = build_service(Settings.from_env())
    try:
        admin.clear_requests()
        lines = network_lines(network_client(service), policy, PROJECT, service.deadline)
    finally:
        service.session.close()
    failed = [text for status, text in lines if status == "FAIL"]
    assert failed == [f"ipv6 network {STORAGE} (rule 'r' attach[1]): has no IPv6 subnet"], lines
    assert [status for status, _ in lines].count("ok") == 3, lines
    assert {r["method"] for r in admin.requests_log()} == {"GET"}
