"""Auto Scaling's lifecycle-hook API through Huawei's own SDK (``huaweicloudsdkas``), signed
with AK/SK and checked by the fake cloud's front door; time is a fake clock, so hooks time
out only when a test says so. The admin API makes groups and hangs instances on hooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from huaweicloudsdkas.v1 import (
    AsClient,
    AttachCallbackInstanceLifeCycleHookRequest,
    CallbackLifeCycleHookOption,
    CreateLifeCycleHookOption,
    CreateLifyCycleHookRequest,
    ListHookInstancesRequest,
    ListLifeCycleHooksRequest,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.autoscaling.models import FakeAutoScaling
from emulator.client import AdminClient, AdminError
from emulator.compute.models import FakeBackend
from emulator.identity.keystone import FakeKeystone
from emulator.server import EmulatorServer, FakeCloudServer

AK, SK = "AKEMULATOR0000000001", "sk-emulator-secret"
GROUP = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"
SERVER = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"
TOPIC = f"urn:smn:cn-north-4:{PROJECT}:as-lifecycle-hooks"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Cloud:
    def __init__(self, autoscaling: FakeAutoScaling, sdk: AsClient, clock: FakeClock) -> None:
        self.autoscaling, self.sdk, self.clock = autoscaling, sdk, clock

    def hook(self, name: str = "nic-attach", **fields: Any) -> Any:
        option = CreateLifeCycleHookOption(
            lifecycle_hook_name=name,
            lifecycle_hook_type=fields.pop("type", "INSTANCE_LAUNCHING"),
            notification_topic_urn=fields.pop("topic", TOPIC),
            **fields,
        )
        return self.sdk.create_lify_cycle_hook(CreateLifyCycleHookRequest(GROUP, option))

    def listed(self, instance_id: str | None = SERVER) -> list[Any]:
        answer = self.sdk.list_hook_instances(ListHookInstancesRequest(GROUP, instance_id))
        return list(answer.instance_hanging_info or [])

    def callback(self, result: str, **fields: Any) -> Any:
        option = CallbackLifeCycleHookOption(lifecycle_action_result=result, **fields)
        request = AttachCallbackInstanceLifeCycleHookRequest(GROUP, option)
        return self.sdk.attach_callback_instance_life_cycle_hook(request)


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    clock = FakeClock()
    backend = FakeBackend(clock=clock)
    autoscaling = FakeAutoScaling(backend)
    autoscaling.create_group(PROJECT, id=GROUP, name="db-tier")
    keystone = FakeKeystone(project_id=PROJECT)
    keystone.access_keys[AK] = (SK, "")
    with FakeCloudServer(keystone, backend, autoscaling=autoscaling) as server:
        sdk = (
            AsClient.new_builder()
            .with_http_config(HttpConfig.get_default_config())
            .with_credentials(BasicCredentials(AK, SK, PROJECT))
            .with_endpoint(server.url)
            .build()
        )
        yield Cloud(autoscaling, sdk, clock)


def refused(call: Any) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as caught:
        call()
    return caught.value


def test_a_hook_is_created_and_listed(cloud: Cloud) -> None:
    created = cloud.hook(
        default_timeout=300,
        default_result="CONTINUE",
        notification_metadata='{"scaling_group_id": "g"}',
    )
    assert created.lifecycle_hook_name == "nic-attach"
    assert created.default_result == "CONTINUE" and created.default_timeout == 300
    assert created.notification_topic_name == "as-lifecycle-hooks"
    hooks = cloud.sdk.list_life_cycle_hooks(ListLifeCycleHooksRequest(GROUP)).lifecycle_hooks
    assert [h.lifecycle_hook_name for h in hooks] == ["nic-attach"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": "bad name!"}, "AS.7031"),
        ({"type": "INSTANCE_REBOOTING"}, "AS.7032"),
        ({"default_timeout": 59}, "AS.7030"),
        ({"default_result": "EXTEND"}, "AS.7033"),
        ({"topic": "not-a-urn"}, "AS.7043"),
        ({"notification_metadata": "a<b"}, "AS.0005"),
    ],
)
def test_bad_hooks_are_refused(cloud: Cloud, fields: dict[str, Any], code: str) -> None:
    error = refused(lambda: cloud.hook(**fields))
    assert (error.status_code, error.error_code) == (400, code)


def test_callback_by_key_continues_once(cloud: Cloud) -> None:
    cloud.hook()
    record = cloud.autoscaling.hang(GROUP, SERVER)
    [listed] = cloud.listed()
    assert (listed.lifecycle_hook_status, listed.default_result) == ("HANGING", "ABANDON")
    assert listed.lifecycle_action_key == record.action_key and listed.timeout.endswith("Z")
    cloud.callback("CONTINUE", lifecycle_action_key=record.action_key)
    assert cloud.listed()[0].lifecycle_hook_status == "CONTINUE"
    again = refused(lambda: cloud.callback("CONTINUE", lifecycle_action_key=record.action_key))
    assert (again.status_code, again.error_code) == (400, "AS.7042")
    assert [a["result"] for a in cloud.autoscaling.answers] == ["CONTINUE"]


def test_callback_by_instance_and_hook_name(cloud: Cloud) -> None:
    cloud.hook()
    cloud.autoscaling.hang(GROUP, SERVER)
    cloud.callback("ABANDON", instance_id=SERVER, lifecycle_hook_name="nic-attach")
    assert cloud.listed()[0].lifecycle_hook_status == "ABANDON"


def test_extend_adds_an_hour_and_the_default_result_applies_at_the_timeout(cloud: Cloud) -> None:
    cloud.hook(default_timeout=300, default_result="ABANDON")
    record = cloud.autoscaling.hang(GROUP, SERVER)
    cloud.callback("EXTEND", lifecycle_action_key=record.action_key)
    cloud.clock.now += 300 + 3599
    assert cloud.listed()[0].lifecycle_hook_status == "HANGING"
    cloud.clock.now += 1
    assert cloud.listed()[0].lifecycle_hook_status == "ABANDON"
    late = refused(lambda: cloud.callback("CONTINUE", lifecycle_action_key=record.action_key))
    assert late.error_code == "AS.7042"
    cloud.clock.now += 3600  # keep_released_seconds
    assert cloud.listed() == []


@pytest.mark.parametrize(
    ("result", "fields", "code"),
    [
        ("MAYBE", {"lifecycle_action_key": "k"}, "AS.7034"),
        ("CONTINUE", {}, "AS.7040"),
        ("CONTINUE", {"instance_id": SERVER}, "AS.7040"),
        ("CONTINUE", {"lifecycle_action_key": "no-such-key"}, "AS.7042"),
    ],
)
def test_bad_callbacks_are_refused(
    cloud: Cloud, result: str, fields: dict[str, Any], code: str
) -> None:
    cloud.hook()
    cloud.autoscaling.hang(GROUP, SERVER)
    error = refused(lambda: cloud.callback(result, **fields))
    assert (error.status_code, error.error_code) == (400, code)
    assert cloud.listed()[0].lifecycle_hook_status == "HANGING"


def test_an_unknown_group_is_refused(cloud: Cloud) -> None:
    request = ListHookInstancesRequest("00000000-0000-4000-8000-00000000dead", SERVER)
    error = refused(lambda: cloud.sdk.list_hook_instances(request))
    assert error.error_code == "AS.2007"


def test_admin_api_hangs_instances_and_logs_the_callback(emulator: EmulatorServer) -> None:
    admin = AdminClient(emulator.url)
    hook_name = "nic-attach"
    hook = {
        "lifecycle_hook_name": "nic-attach",
        "lifecycle_hook_type": "INSTANCE_LAUNCHING",
        "notification_topic_urn": TOPIC,
        "default_timeout": 600,
    }
    group = admin.autoscaling.create_group(PROJECT, hooks=[hook], id=GROUP)
    assert group["hooks"][0]["default_result"] == "ABANDON"
    record = admin.autoscaling.hang(GROUP, SERVER, action_key="key-1")
    assert (
        record["lifecycle_action_key"] == "key-1" and record["lifecycle_hook_name"] == "nic-attach"
    )
    url = f"{emulator.url}/autoscaling-api/v1/{PROJECT}/scaling_instance_hook/{GROUP}/callback"
    body = {"lifecycle_action_result": "CONTINUE", "lifecycle_action_key": "key-1"}
    answer = requests.put(url, json=body, headers={"X-Auth-Token": "emulator-token"}, timeout=5)
    assert answer.status_code == 204 and answer.content == b""
    assert requests.put(url, json=body, timeout=5).status_code == 401
    logged = [
        (r["method"], r["path"].rsplit("/", 1)[-1], r["status"]) for r in admin.requests_log()
    ]
    assert logged == [("PUT", "callback", 204), ("PUT", "callback", 401)]
    state = admin.autoscaling.state()
    answer_ = {
        "instance_id": SERVER,
        "scaling_group_id": GROUP,
        "lifecycle_hook_name": hook_name,
        "result": "CONTINUE",
    }
    assert state["answers"] == [answer_]
    with pytest.raises(AdminError) as caught:
        admin.autoscaling.hang(GROUP, SERVER, hook_name="nope")
    assert caught.value.status == 400
    admin.reset()
    assert admin.autoscaling.state()["groups"] == []
