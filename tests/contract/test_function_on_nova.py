"""End to end on real Nova: Nova's own notifications → the function over HTTP → Nova's own view.

The function runs as it is deployed for Knative / Cloud Run: a
``functions-framework --source function/main.py --target handle_event``
subprocess whose ``NICATTACH_ECS_ENDPOINT`` is the Nova target. It is fed the
``instance.create.end`` notifications that Nova emitted for servers created
with tags (as the plain ``{"event_type", "payload", ...}`` envelope), and the
tests compare the completion event with what Nova itself reports.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from contract_targets import ROOT, NovaTarget

GHOST_NET = "0b0e5c3a-7d1f-4e2a-9b6c-5d4e3f2a1b0c"
POLL_S = 15.0
ENVELOPE = ("event_type", "payload", "priority", "publisher_id")
FIELDS = ("port_state", "fixed_ips", "port_id", "net_id", "mac_addr")
"""The interface fields the completion event carries (Nova's view adds ``tag`` from 2.70)."""


def _policy(nova: NovaTarget) -> str:
    return f"""version: 1
rules:
  - name: storage
    when: {{role: db}}
    attach:
      - net_id: {nova.net_a.id}
  - name: backup
    when: {{role: db, env: prod}}
    attach:
      - net_id: {nova.net_b.id}
  - name: ghost
    when: {{role: ghost}}
    attach:
      - net_id: {GHOST_NET}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def function_url(nova: NovaTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The function under functions-framework, aimed at Nova."""
    policy = tmp_path_factory.mktemp("policy") / "policy.yaml"
    policy.write_text(_policy(nova))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NICATTACH_", "K_SINK"))}
    env.update(
        NICATTACH_POLICY=str(policy),
        NICATTACH_ECS_ENDPOINT=nova.url,
        NICATTACH_TOKEN=nova.token,
        NICATTACH_WAIT_ACTIVE_S="30",
        NICATTACH_LOG_LEVEL="WARNING",
    )
    port = _free_port()
    framework = Path(sys.executable).parent / "functions-framework"
    command = [str(framework), "--source", "function/main.py", "--target", "handle_event"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_listening(port, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "functions-framework exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("functions-framework did not listen")


def notification(nova: NovaTarget, event_type: str, server_id: str) -> dict[str, Any]:
    """The versioned notification Nova emitted for the server (plain envelope)."""
    deadline = time.monotonic() + POLL_S
    while True:
        for found in nova.notifications():
            data = found["payload"]["nova_object.data"]
            if found["event_type"] == event_type and data.get("uuid") == server_id:
                return {
                    key: found[key] for key in ("event_type", "payload", "priority", "publisher_id")
                }
        assert time.monotonic() < deadline, f"no {event_type} for {server_id}"
        time.sleep(0.1)


def deliver(url: str, event: dict[str, Any]) -> requests.Response:
    return requests.post(url, json=event, timeout=90)


def nics_by_net(nova: NovaTarget, server_id: str) -> dict[str, list[dict[str, Any]]]:
    by_net: dict[str, list[dict[str, Any]]] = {}
    for item in nova.nova_view(server_id)["interfaces"]:
        by_net.setdefault(item["net_id"], []).append({key: item[key] for key in FIELDS})
    return by_net


def settled_nics(nova: NovaTarget, server_id: str) -> dict[str, list[dict[str, Any]]]:
    """Nova's view once asynchronous detaches have finished (two equal reads in a row)."""
    previous = nics_by_net(nova, server_id)
    deadline = time.monotonic() + POLL_S
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = nics_by_net(nova, server_id)
        if current == previous:
            return current
        previous = current
    return previous


def assert_reply_matches_nova(
    reply: requests.Response, nova: NovaTarget, server_id: str, status: str
) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text
    assert reply.headers["ce-type"] == "nicattach.attachment.completed"
    assert reply.headers["ce-subject"] == server_id
    data: dict[str, Any] = reply.json()
    assert (data["server_id"], data["project_id"], data["status"]) == (
        server_id,
        nova.project_id,
        status,
    )
    assert data["rules"] == ["storage", "backup"]
    assert data["trigger"]["type"]
    nics = settled_nics(nova, server_id)
    assert [len(nics.get(net.id, [])) for net in (nova.net_a, nova.net_b)] == [1, 1], nics
    assert len(nics[nova.boot.id]) == 1
    expected = [nics[nova.net_a.id][0], nics[nova.net_b.id][0]]
    assert data["interfaces"] == expected  # every field as Nova's os-interface reports it
    return data


def test_create_end_attaches_the_policy_nics_and_a_redelivery_changes_nothing(
    nova: NovaTarget, function_url: str
) -> None:
    server = nova.create_server(["role=db", "env=prod"])
    event = notification(nova, "instance.create.end", server)
    assert sorted(event["payload"]["nova_object.data"]["tags"]) == ["env=prod", "role=db"]

    first = deliver(function_url, event)
    data = assert_reply_matches_nova(first, nova, server, "attached")

    again = deliver(function_url, event)
    assert again.headers["ce-id"] == first.headers["ce-id"]  # same trigger, same event id
    assert (
        assert_reply_matches_nova(again, nova, server, "already_attached")["interfaces"]
        == (data["interfaces"])
    )


def test_two_copies_at_once_end_with_one_nic_per_network(
    nova: NovaTarget, function_url: str
) -> None:
    """Nova allows two NICs on one network, so this is the function's duplicate rule at work."""
    server = nova.create_server(["role=db", "env=prod"])
    event = notification(nova, "instance.create.end", server)
    barrier = threading.Barrier(2)
    replies: list[requests.Response] = []

    def copy() -> None:
        barrier.wait()
        replies.append(deliver(function_url, event))

    threads = [threading.Thread(target=copy) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(replies) == 2
    kept = [
        assert_reply_matches_nova(reply, nova, server, reply.json()["status"])["interfaces"]
        for reply in replies
    ]
    assert kept[0] == kept[1]  # both copies report the NIC that was kept
    assert {reply.json()["status"] for reply in replies} <= {"attached", "already_attached"}


def test_an_event_for_a_building_server_waits_for_active(
    nova: NovaTarget, function_url: str
) -> None:
    """Delivered early: Nova's real ``instance.create.start`` payload for a server held in
    BUILD (state ``building``, the tags), sent under the ``instance.create.end`` type, as a
    notification that overtook the server's build would arrive."""
    server = nova.create_server(["role=db", "env=prod"], hold=True)
    event = notification(nova, "instance.create.start", server)
    assert event["payload"]["nova_object.data"]["state"] == "building"
    event["event_type"] = "instance.create.end"
    replies: list[requests.Response] = []
    worker = threading.Thread(target=lambda: replies.append(deliver(function_url, event)))
    worker.start()
    time.sleep(2.0)
    assert worker.is_alive(), "the function answered before the server was ACTIVE"
    assert list(nics_by_net(nova, server)) in ([], [nova.boot.id])  # only the boot port
    nova.release(server)
    worker.join(90)
    assert_reply_matches_nova(replies[0], nova, server, "attached")


def test_a_policy_network_that_does_not_exist_fails_for_good(
    nova: NovaTarget, function_url: str
) -> None:
    """Nova answers 500 computeFault ... NetworkNotFoundClient; the function calls it
    ``network_not_found``, permanent (422), and attaches nothing."""
    server = nova.create_server(["role=ghost"])
    reply = deliver(function_url, notification(nova, "instance.create.end", server))
    assert reply.status_code == 422, reply.text
    assert reply.headers["ce-type"] == "nicattach.attachment.failed"
    data = reply.json()
    assert data["error"]["code"] == "network_not_found" and data["error"]["retryable"] is False
    assert "NetworkNotFoundClient" in data["error"]["message"]
    assert list(settled_nics(nova, server)) == [nova.boot.id]
