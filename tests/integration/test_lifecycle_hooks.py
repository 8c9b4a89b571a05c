"""Auto Scaling lifecycle hooks end to end: SMN hook notifications through the service,
against the emulator's compute and Auto Scaling APIs (issue 14's acceptance list).

Each test hangs an instance on a hook (the emulator's admin API, as a scale-out would),
sends the notification, and reads what AS accepted (``answers``): exactly the callbacks
that took effect, whatever the function tried."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.identity.keystone import FakeKeystone
from emulator.server import EmulatorServer, FakeCloudServer
from function.app.service import Reply, Service
from function.app.wiring import build_service
from function.config import Settings

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ONE = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
NEW = "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
GROUP = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"
KEY = "5d7c6e21-8f3a-4b9c-9d1e-2f4a6b8c0d13"  # the launching sample's action key
TOPIC = f"urn:smn:cn-north-4:{PROJECT}:as-lifecycle-hooks"
POLICY_NETWORKS = {"3cb9bc59-5699-4588-a4b1-b87f96708bc6", "0dc714fa-9022-4a03-bb22-9821a396bb9d"}
GHOST_POLICY = """version: 1
rules:
  - name: ghost
    when: {}
    attach:
      - net_id: 11111111-2222-4333-8444-555555555555
"""


def hook(name: str, kind: str = "INSTANCE_LAUNCHING", timeout: int = 3600) -> dict[str, Any]:
    return {
        "lifecycle_hook_name": name,
        "lifecycle_hook_type": kind,
        "default_timeout": timeout,
        "notification_topic_urn": TOPIC,
    }


def notification(server_id: str = ONE, key: str | None = KEY, **fields: Any) -> bytes:
    """An SMN-wrapped hook notification, like events/smn-as-hook-launching.json."""
    event = json.loads((EVENTS / "smn-as-hook-launching.json").read_text())
    message = json.loads(event["record"][0]["smn"]["message"])
    message.update(instance_id=server_id, lifecycle_action_key=key, **fields)
    event["record"][0]["smn"]["message"] = json.dumps({k: v for k, v in message.items() if v})
    return json.dumps(event).encode()


@pytest.fixture
def cloud(admin: AdminClient) -> AdminClient:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    admin.create_server(PROJECT, tags=["role=db", "env=prod"], id=NEW, status="BUILD")
    admin.autoscaling.create_group(
        PROJECT,
        id=GROUP,
        hooks=[
            hook("nic-attach"),
            hook("nic-release", "INSTANCE_TERMINATING"),
            hook("short", timeout=300),
        ],
    )
    return admin


@pytest.fixture
def service_for(emulator: EmulatorServer, cloud: AdminClient) -> Callable[..., Service]:
    def build(**env: str) -> Service:
        base = {
            "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
            "NICATTACH_ECS_ENDPOINT": emulator.url,
            "NICATTACH_TOKEN": "emulator-token",
            "NICATTACH_AS_ENDPOINT": emulator.url,
            "NICATTACH_WAIT_ACTIVE_S": "0.3",
        }
        return build_service(Settings.from_env({**base, **env}))

    return build


@pytest.fixture
def service(service_for: Callable[..., Service]) -> Service:
    return service_for()


def send(service: Service, body: bytes) -> Reply:
    """Handle one delivery; every outcome event must match its schema in events/schemas/."""
    reply = service.handle({"Content-Type": "application/json"}, body)
    for event in reply.events:
        kind = event["type"].rsplit(".", 1)[-1]
        schema = json.loads((EVENTS / "schemas" / f"{kind}.json").read_text())
        Draft202012Validator(schema).validate(event.data)
    return reply


def lifecycle(reply: Reply) -> dict[str, Any]:
    [event] = reply.events
    found: dict[str, Any] = event.data["lifecycle"]
    return found


def answers(admin: AdminClient) -> list[tuple[str, str]]:
    return [(a["instance_id"], a["result"]) for a in admin.autoscaling.state()["answers"]]


def test_completed_continues_exactly_once_under_copies_and_redeliveries(
    service: Service, cloud: AdminClient
) -> None:
    cloud.autoscaling.hang(GROUP, ONE, "nic-attach", KEY)
    replies: list[Reply] = []

    def deliver() -> None:
        replies.append(send(service, notification()))

    copies = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in copies:
        thread.start()
    for thread in copies:
        thread.join()
    for _ in range(3):
        deliver()
    assert answers(cloud) == [(ONE, "CONTINUE")]
    assert [r.status for r in replies] == [200] * 6
    results = [lifecycle(r) for r in replies]
    assert {(x["scaling_group_id"], x["hook"], x["result"]) for x in results} == {
        (GROUP, "nic-attach", "CONTINUE")
    }
    assert sorted(x["detail"] for x in results) == ["already released"] * 5 + ["released"]
    assert {r.events[0]["type"] for r in replies} == {"nicattach.attachment.completed"}
    assert POLICY_NETWORKS <= {i["net_id"] for i in cloud.interfaces(ONE)}


@pytest.mark.parametrize(("setting", "expected"), [(None, "ABANDON"), ("continue", "CONTINUE")])
def test_permanent_failure_answers_the_failure_setting(
    service_for: Callable[..., Service],
    cloud: AdminClient,
    tmp_path: Path,
    setting: str | None,
    expected: str,
) -> None:
    policy = tmp_path / "ghost.yaml"
    policy.write_text(GHOST_POLICY)
    env = {"NICATTACH_POLICY": str(policy)}
    if setting:
        env["NICATTACH_HOOK_ON_FAILURE"] = setting
    cloud.autoscaling.hang(GROUP, ONE, "nic-attach", KEY)
    reply = send(service_for(**env), notification())
    assert reply.status == 422
    assert reply.events[0]["type"] == "nicattach.attachment.failed"
    assert lifecycle(reply)["result"] == expected
    assert answers(cloud) == [(ONE, expected)]


def test_retryable_failure_holds_then_the_successful_redelivery_continues(
    service: Service, cloud: AdminClient
) -> None:
    record = cloud.autoscaling.hang(GROUP, NEW, "nic-attach")
    body = notification(NEW, record["lifecycle_action_key"])
    first = send(service, body)  # still BUILD after NICATTACH_WAIT_ACTIVE_S
    assert first.status == 503 and first.events[0].data["error"]["retryable"]
    assert lifecycle(first) == {
        "scaling_group_id": GROUP,
        "hook": "nic-attach",
        "result": None,
        "detail": "held: the platform redelivers",
    }
    assert answers(cloud) == []
    cloud.update_server(NEW, status="ACTIVE")
    second = send(service, body)
    assert second.status == 200 and lifecycle(second)["result"] == "CONTINUE"
    assert answers(cloud) == [(NEW, "CONTINUE")]


def test_a_hook_near_its_timeout_is_extended_once(service: Service, cloud: AdminClient) -> None:
    record = cloud.autoscaling.hang(GROUP, NEW, "short")  # 300 s < NICATTACH_HOOK_EXTEND_WITHIN_S
    body = notification(NEW, record["lifecycle_action_key"], lifecycle_hook_name="short")
    first = send(service, body)
    assert first.status == 503 and lifecycle(first)["result"] == "EXTEND"
    second = send(service, body)  # an hour more now: no second EXTEND
    assert second.status == 503 and lifecycle(second)["result"] is None
    assert answers(cloud) == [(NEW, "EXTEND")]


def test_a_hook_already_released_is_a_success(
    emulator: EmulatorServer, service: Service, cloud: AdminClient
) -> None:
    cloud.autoscaling.hang(GROUP, ONE, "nic-attach", KEY)
    url = f"{emulator.url}/autoscaling-api/v1/{PROJECT}/scaling_instance_hook/{GROUP}/callback"
    by_hand = {"lifecycle_action_result": "CONTINUE", "lifecycle_action_key": KEY}
    done = requests.put(url, json=by_hand, headers={"X-Auth-Token": "emulator-token"}, timeout=5)
    assert done.status_code == 204
    reply = send(service, notification())
    assert reply.status == 200
    assert lifecycle(reply)["result"] == "CONTINUE"
    assert lifecycle(reply)["detail"] == "already released"
    assert answers(cloud) == [(ONE, "CONTINUE")]


def test_a_stale_key_is_replaced_by_the_hooks_current_one(
    service: Service, cloud: AdminClient
) -> None:
    cloud.autoscaling.hang(GROUP, ONE, "nic-attach", "the-current-key")
    reply = send(service, notification())  # carries KEY
    assert lifecycle(reply)["result"] == "CONTINUE" and lifecycle(reply)["detail"] == "released"
    assert answers(cloud) == [(ONE, "CONTINUE")]


def test_without_key_or_hook_name_the_list_finds_them(service: Service, cloud: AdminClient) -> None:
    cloud.autoscaling.hang(GROUP, ONE, "nic-attach")
    event = json.loads(notification())
    event["record"][0]["smn"]["message"] = f"instance_id={ONE} scaling_group_id={GROUP}"
    reply = send(service, json.dumps(event).encode())
    assert lifecycle(reply) == {
        "scaling_group_id": GROUP,
        "hook": "nic-attach",
        "result": "CONTINUE",
        "detail": "released",
    }


def test_terminating_continues_at_once_without_nic_calls(
    service: Service, cloud: AdminClient
) -> None:
    record = cloud.autoscaling.hang(GROUP, ONE, "nic-release")
    body = json.loads((EVENTS / "smn-as-hook-terminating.json").read_text())
    message = json.loads(body["record"][0]["smn"]["message"])
    message["lifecycle_action_key"] = record["lifecycle_action_key"]
    body["record"][0]["smn"]["message"] = json.dumps(message)
    cloud.clear_requests()
    reply = send(service, json.dumps(body).encode())
    assert reply.status == 200
    assert reply.events[0]["type"] == "nicattach.attachment.skipped"
    assert reply.events[0].data["reason"] == "instance_terminating"
    assert lifecycle(reply)["result"] == "CONTINUE"
    assert answers(cloud) == [(ONE, "CONTINUE")]
    assert [r["path"].rsplit("/", 1)[-1] for r in cloud.requests_log()] == ["callback"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json {", "names no instance id"),  # the subject names a hook type
        ('{"lifecycle_action_key": "k", "scaling_group_id": "g"}', "names no instance id"),
        (
            json.dumps({"instance_id": ONE, "lifecycle_hook_name": "nic-attach"}),
            'names no scaling group: put {"scaling_group_id"',
        ),
    ],
)
def test_unusable_messages_are_ignored_without_any_api_call(
    service: Service, cloud: AdminClient, message: str, reason: str
) -> None:
    event = json.loads(notification())
    event["record"][0]["smn"]["message"] = message
    cloud.clear_requests()
    reply = send(service, json.dumps(event).encode())
    assert reply.status == 200 and reply.events == []
    assert reason in json.loads(reply.body)["reason"]
    assert cloud.requests_log() == []


def test_without_an_as_endpoint_the_hook_is_reported_not_answered(
    service_for: Callable[..., Service], cloud: AdminClient
) -> None:
    cloud.autoscaling.hang(GROUP, ONE, "nic-attach", KEY)
    reply = send(service_for(NICATTACH_AS_ENDPOINT=""), notification())
    assert reply.status == 200 and lifecycle(reply)["result"] is None
    assert "NICATTACH_AS_ENDPOINT" in lifecycle(reply)["detail"]
    assert answers(cloud) == []


def test_an_unreachable_as_endpoint_asks_for_a_redelivery(
    service_for: Callable[..., Service], cloud: AdminClient
) -> None:
    cloud.autoscaling.hang(GROUP, ONE, "nic-attach", KEY)
    reply = send(service_for(NICATTACH_AS_ENDPOINT="http://127.0.0.1:9"), notification())
    assert reply.status == 503 and reply.verdict.retry
    assert reply.events[0]["type"] == "nicattach.attachment.completed"
    assert lifecycle(reply)["result"] is None and "connection_error" in lifecycle(reply)["detail"]


def test_aksk_signs_the_as_calls(emulator: EmulatorServer, cloud: AdminClient) -> None:
    ak, sk = "AKTESTAKSK0000000001", "sk-AKSK-S3CRET-value"
    keystone = FakeKeystone(project_id=PROJECT)
    keystone.access_keys[ak] = (sk, "")
    cloud.autoscaling.hang(GROUP, ONE, "nic-attach", KEY)
    with FakeCloudServer(keystone, emulator.backend, autoscaling=emulator.autoscaling) as front:
        env = {
            "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
            "NICATTACH_AUTH": "aksk",
            "NICATTACH_ECS_ENDPOINT": front.compute_url,
            "NICATTACH_AS_ENDPOINT": front.url,
            "HUAWEICLOUD_SDK_AK": ak,
            "HUAWEICLOUD_SDK_SK": sk,
            "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
        }
        reply = send(build_service(Settings.from_env(env)), notification())
    assert reply.status == 200 and lifecycle(reply)["detail"] == "released"
    assert answers(cloud) == [(ONE, "CONTINUE")] and keystone.rejected == []


def test_a_wrong_ecs_endpoint_never_continues_the_hook(
    service_for: Callable[..., Service], emulator: EmulatorServer, cloud: AdminClient
) -> None:
    """A 404 from an unknown route is not "server gone": the hook is held, not CONTINUEd."""
    cloud.autoscaling.hang(GROUP, ONE, "nic-attach", KEY)
    reply = send(service_for(NICATTACH_ECS_ENDPOINT=emulator.url + "/wrong"), notification())
    assert reply.status == 503 and reply.events[0].data["error"]["code"] == "api_not_found"
    assert lifecycle(reply)["result"] is None
    assert answers(cloud) == []
