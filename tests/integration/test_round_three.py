"""Issue 22 (round three of the attack on the promise): each item reproduced end to end
against the emulator, and fixed. Item 1 (404 shapes) lives with the backends."""

from __future__ import annotations

from pathlib import Path

from test_reliability import PROJECT, deliver, make_service

from emulator.client import AdminClient
from emulator.server import EmulatorServer

V6_NET = "6e6e6e6e-0000-4000-8000-000000000006"


def v6_policy(tmp_path: Path, ip: str) -> Path:
    path = tmp_path / "v6.yaml"
    path.write_text("version: 1\nrules:\n  - name: v6\n    when: {role: db}\n    attach:\n"
                    f"      - {{net_id: {V6_NET}, fixed_ip: '{ip}'}}\n")  # fmt: skip
    return path


def test_an_ipv6_address_spelled_in_upper_case_by_the_api_satisfies_the_policy(
    emulator: EmulatorServer, admin: AdminClient, backend: str, tmp_path: Path
) -> None:
    admin.create_network("2001:db8::/64", id=V6_NET, name="v6")
    server = admin.create_server(PROJECT, tags=["role=db"],
                                 interfaces=[{"net_id": V6_NET, "fixed_ip": "2001:DB8::10"}])  # fmt: skip
    service = make_service(emulator, v6_policy(tmp_path, "2001:db8:0::10"), backend=backend)
    for _ in range(2):  # and on every redelivery
        status, body = deliver(service, {"server_id": server["id"], "project_id": PROJECT})
        assert status == 200, body
        assert body["status"] == "already_attached", body
    assert [i["net_id"] for i in admin.interfaces(server["id"])] == [V6_NET]
    writes = [r for r in admin.requests_log() if r["method"] in ("POST", "DELETE")]
    assert writes == []
