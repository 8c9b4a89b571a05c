"""Every auth mode, end to end over real HTTP: the fake Keystone / signature-checking front
door (emulator/gateway.py, emulator/identity/keystone.py) in front of the compute emulator
checks what the function sends."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.identity.keystone import FakeKeystone
from emulator.server import EmulatorServer, FakeCloudServer
from function.app.service import Reply, Service
from function.app.wiring import build_service
from function.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
STORAGE = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
BACKUP = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
PASSWORD = "pa55-KEYSTONE-s3cret"
APP_SECRET = "app-cred-S3CRET-value"
AK, SK, STS = "AKTESTAKSK0000000001", "sk-AKSK-S3CRET-value", "sts-SECURITY-token-S3CRET"


@pytest.fixture
def cloud(emulator: EmulatorServer, admin: AdminClient) -> Iterator[FakeCloudServer]:
    admin.seed(json.loads((ROOT / "examples" / "emulator-seed.json").read_text()))
    keystone = FakeKeystone(project_id=PROJECT)
    keystone.users["nicattach"] = ("user-1", PASSWORD)
    keystone.app_credentials["ac-1"] = APP_SECRET
    keystone.access_keys[AK] = (SK, "")
    keystone.access_keys["AKTEMPORARY000000001"] = (SK, STS)
    with FakeCloudServer(keystone, emulator.backend) as server:
        yield server


def base_env(**extra: str) -> dict[str, str]:
    return {
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "NICATTACH_WAIT_ACTIVE_S": "5",
        **extra,
    }


def keystone_env(cloud: FakeCloudServer, **extra: str) -> dict[str, str]:
    return {
        **base_env(
            NICATTACH_AUTH="keystone",
            OS_AUTH_URL=cloud.auth_url,
            OS_USERNAME="nicattach",
            OS_PASSWORD=PASSWORD,
            OS_USER_DOMAIN_NAME="Default",
            OS_PROJECT_NAME="demo",
            OS_PROJECT_DOMAIN_NAME="Default",
        ),
        **extra,
    }


def aksk_env(cloud: FakeCloudServer, ak: str = AK, sk: str = SK, **extra: str) -> dict[str, str]:
    return base_env(
        NICATTACH_AUTH="aksk",
        NICATTACH_ECS_ENDPOINT=cloud.compute_url,
        HUAWEICLOUD_SDK_AK=ak,
        HUAWEICLOUD_SDK_SK=sk,
        HUAWEICLOUD_SDK_PROJECT_ID=PROJECT,
        **extra,
    )


def post(service: Service, data: dict[str, Any]) -> Reply:
    return service.handle({"Content-Type": "application/json"}, json.dumps(data).encode())


def attach_event(server: str = SERVER, project: str | None = PROJECT) -> dict[str, Any]:
    event: dict[str, Any] = {"server_id": server, "tags": ["role=db", "env=prod"]}
    return event if project is None else {**event, "project_id": project}


def nets(admin: AdminClient) -> set[str]:
    return {i["net_id"] for i in admin.interfaces(SERVER)}


# -- keystone -------------------------------------------------------------------------


def test_keystone_one_authentication_for_many_calls_endpoint_and_project_from_token(
    cloud: FakeCloudServer, admin: AdminClient
) -> None:
    service = build_service(Settings.from_env(keystone_env(cloud)))
    assert service.settings.ecs_endpoint == cloud.compute_url  # from the catalog
    assert service.settings.project_id == PROJECT  # from the token
    for _ in range(5):
        reply = post(service, attach_event(project=None))
        assert reply.status == 200, reply.body
    assert {STORAGE, BACKUP} <= nets(admin)
    assert service.compute_calls() >= 8
    assert cloud.keystone.auth_requests == 1
    assert cloud.keystone.rejected == []
    other = post(service, attach_event(project="someone-else"))
    assert other.status == 403 and other.outcomes[0].reason == "project_not_allowed"


def test_keystone_application_credential_and_explicit_endpoint(
    cloud: FakeCloudServer, admin: AdminClient
) -> None:
    env = base_env(
        NICATTACH_AUTH="keystone",
        OS_AUTH_URL=cloud.auth_url,
        OS_APPLICATION_CREDENTIAL_ID="ac-1",
        OS_APPLICATION_CREDENTIAL_SECRET=APP_SECRET,
        NICATTACH_ECS_ENDPOINT=cloud.compute_url + "/",
    )
    service = build_service(Settings.from_env(env))
    assert post(service, attach_event()).status == 200
    assert cloud.keystone.auth_requests == 1


def test_keystone_renews_the_token_before_it_expires(cloud: FakeCloudServer) -> None:
    cloud.keystone.ttl_s = 122.5  # keystoneauth renews within 120 s of expiry
    service = build_service(Settings.from_env(keystone_env(cloud)))
    post(service, attach_event())
    assert cloud.keystone.auth_requests == 1
    time.sleep(2.6)
    assert post(service, attach_event()).status == 200
    assert cloud.keystone.auth_requests == 2
    assert cloud.keystone.rejected == []  # renewed before the API ever saw an expired token


def test_keystone_authenticates_again_once_on_a_401(cloud: FakeCloudServer) -> None:
    service = build_service(Settings.from_env(keystone_env(cloud)))
    assert post(service, attach_event()).status == 200
    cloud.keystone.revoke_all()
    assert post(service, attach_event()).status == 200
    assert cloud.keystone.auth_requests == 2
    assert cloud.keystone.rejected == ["unknown or revoked token"]


def test_keystone_persistent_401_is_retried_once_per_call_then_fails(
    cloud: FakeCloudServer,
) -> None:
    service = build_service(Settings.from_env(keystone_env(cloud)))
    before = cloud.keystone.auth_requests
    cloud.keystone.reject_all = True
    reply = post(service, attach_event())
    assert reply.status == 503
    assert reply.outcomes[0].error_code == "unauthorized"
    again = cloud.keystone.auth_requests - before
    assert again >= 1 and len(cloud.keystone.rejected) == 2 * again


def test_keystone_bad_password_stops_the_start(cloud: FakeCloudServer) -> None:
    settings = Settings.from_env(keystone_env(cloud, OS_PASSWORD="wrong-" + PASSWORD))
    with pytest.raises(Exception, match="Keystone authentication failed") as raised:
        build_service(settings)
    assert PASSWORD not in str(raised.value)


# -- aksk -------------------------------------------------------------------------------


@pytest.mark.parametrize(("ak", "temporary"), [(AK, ""), ("AKTEMPORARY000000001", STS)])
def test_aksk_signed_requests_are_accepted(
    cloud: FakeCloudServer, admin: AdminClient, ak: str, temporary: str
) -> None:
    env = aksk_env(cloud, ak=ak, HUAWEICLOUD_SDK_SECURITY_TOKEN=temporary)
    service = build_service(Settings.from_env(env))
    reply = post(service, attach_event(project=None))
    assert reply.status == 200, reply.body
    assert cloud.keystone.rejected == []
    assert {STORAGE, BACKUP} <= nets(admin)
    assert post(service, attach_event(project="someone-else")).status == 403


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"HUAWEICLOUD_SDK_SK": "wrong"}, "signature mismatch"),
        ({"HUAWEICLOUD_SDK_AK": "AKTEMPORARY000000001"}, "missing or wrong X-Security-Token"),
    ],
)
def test_aksk_bad_signature_is_refused(
    cloud: FakeCloudServer, env: dict[str, str], problem: str
) -> None:
    service = build_service(Settings.from_env({**aksk_env(cloud), **env}))
    reply = post(service, attach_event())
    assert reply.status == 503 and reply.outcomes[0].error_code == "unauthorized"
    assert problem in cloud.keystone.rejected


# -- functiongraph ----------------------------------------------------------------------


class Context:
    """FunctionGraph's context getters, with an agency's temporary credentials."""

    def __init__(self, ak: str = "", sk: str = "", sts: str = "", token: str = "") -> None:
        self._values = {
            "getSecurityAccessKey": ak,
            "getSecuritySecretKey": sk,
            "getSecurityToken": sts,
            "getToken": token,
            "getProjectID": PROJECT,
        }

    def __getattr__(self, name: str) -> Any:
        return lambda: self._values.get(name, "")


@pytest.fixture
def functiongraph(cloud: FakeCloudServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``main`` loaded for FunctionGraph auth, no credentials in the environment."""
    env = base_env(
        NICATTACH_AUTH="functiongraph",
        NICATTACH_ECS_ENDPOINT=cloud.compute_url,
        RUNTIME_PROJECT_ID=PROJECT,
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in (
        "NICATTACH_PROJECT_ID",
        "NICATTACH_ALLOWED_PROJECTS",
        "NICATTACH_SINK",
        "K_SINK",
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SK",
        "HUAWEICLOUD_SDK_PROJECT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    app = create_app("handle_event", str(ROOT / "function" / "main.py"))
    import main

    return app, main


def test_functiongraph_context_temporary_aksk(
    functiongraph: Any, cloud: FakeCloudServer, admin: AdminClient
) -> None:
    _, main = functiongraph
    result = main.handler(attach_event(), Context("AKTEMPORARY000000001", SK, STS))
    assert result["type"] == "nicattach.attachment.completed"
    assert cloud.keystone.rejected == []
    assert {STORAGE, BACKUP} <= nets(admin)


def test_functiongraph_context_token(functiongraph: Any, cloud: FakeCloudServer) -> None:
    _, main = functiongraph
    cloud.keystone.fixed_tokens.add("fg-agency-token")
    result = main.handler(attach_event(project=None), Context(token="fg-agency-token"))
    assert result["type"] == "nicattach.attachment.completed"


def test_functiongraph_without_credentials_fails_without_leaking(functiongraph: Any) -> None:
    _, main = functiongraph
    with pytest.raises(Exception, match="no FunctionGraph credentials"):
        main.handler(attach_event(), Context())


def test_functiongraph_http_function_headers(functiongraph: Any, cloud: FakeCloudServer) -> None:
    app, _ = functiongraph
    headers = {
        "Content-Type": "application/json",
        "X-CFF-Security-Access-Key": AK,
        "X-CFF-Security-Secret-Key": SK,
        "X-CFF-Security-Token": "",
        "X-CFF-Project-Id": PROJECT,
    }
    response = app.test_client().post("/", data=json.dumps(attach_event()), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert cloud.keystone.rejected == []


def test_functiongraph_falls_back_to_the_environment(
    cloud: FakeCloudServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = base_env(
        NICATTACH_AUTH="functiongraph",
        NICATTACH_ECS_ENDPOINT=cloud.compute_url,
        RUNTIME_PROJECT_ID=PROJECT,
        HUAWEICLOUD_SDK_AK=AK,
        HUAWEICLOUD_SDK_SK=SK,
    )
    service = build_service(Settings.from_env(env))
    assert post(service, attach_event()).status == 200
    assert cloud.keystone.rejected == []
