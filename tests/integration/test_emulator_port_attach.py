"""Ports made through the network API, attached by ``port_id`` on both compute APIs, and what
detaching or deleting the server does to them (Nova: a port passed by id is unbound and kept;
ECS: each NIC's ``delete_on_termination``, which ``UpdateServerInterface`` changes)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkecs.v2 import (
    BatchAddServerNicOption,
    BatchAddServerNicsRequest,
    BatchAddServerNicsRequestBody,
    DeleteServersRequest,
    DeleteServersRequestBody,
    EcsClient,
    InterfaceAttachment,
    ListServerInterfacesRequest,
    ServerId,
    ShowJobRequest,
    UpdateNicInfoRequestBody,
    UpdateServerInterfaceRequest,
)

from emulator.client import AdminClient
from emulator.compute.models import FakeBackend
from emulator.compute.records import AttachRequest
from emulator.ecs_v1.models import FakeEcsV1
from emulator.identity.keystone import FakeKeystone
from emulator.server import EmulatorServer, FakeCloudServer

NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
SERVER, OTHER_SERVER = (
    "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b",
    "5b1f2c3d-0a4e-4f6b-9c8d-7e6f5a4b3c2d",
)
MINE, THEIRS = "0605767a5a80d5762fe6c0125d3c5b0e", "project-theirs"
TOKEN, THEIR_TOKEN = "token-mine", "token-theirs"
AK, SK = "AKEMULATOR0000000001", "sk-emulator-secret"


class Api:
    """Plain HTTP with one project's token: the network API and Nova's."""

    def __init__(self, url: str, token: str, project: str) -> None:
        self.url, self.token, self.project = url, token, project

    def __call__(self, method: str, path: str, body: Any = None) -> requests.Response:
        url = f"{self.url}{path}".replace("{project}", self.project)
        return requests.request(
            method, url, json=body, headers={"X-Auth-Token": self.token}, timeout=10
        )

    def create_port(self, name: str) -> dict[str, Any]:
        response = self("POST", "/v2.0/ports", {"port": {"network_id": NET, "name": name}})
        assert response.status_code == 201, response.text
        port: dict[str, Any] = response.json()["port"]
        return port

    def port(self, port_id: str) -> requests.Response:
        return self("GET", f"/v2.0/ports/{port_id}")

    def attach(self, server: str, port_id: str) -> requests.Response:
        body = {"interfaceAttachment": {"port_id": port_id}}
        return self("POST", f"/v2.1/{{project}}/servers/{server}/os-interface", body)

    def interfaces(self, server: str) -> list[str]:
        response = self("GET", f"/v2.1/{{project}}/servers/{server}/os-interface")
        return [a["port_id"] for a in response.json()["interfaceAttachments"]]


@pytest.fixture
def api(emulator: EmulatorServer, admin: AdminClient) -> Api:
    admin.create_network("10.20.0.0/24", id=NET, name="storage")
    admin.add_token(TOKEN, [MINE])
    admin.add_token(THEIR_TOKEN, [THEIRS])
    admin.create_server(MINE, id=SERVER, interfaces=[{"net_id": NET}])
    admin.create_server(MINE, id=OTHER_SERVER)
    return Api(emulator.url, TOKEN, MINE)


def binding(api: Api, port_id: str) -> tuple[str, str, str]:
    port = api.port(port_id).json()["port"]
    return port["device_id"], port["device_owner"], port["status"]


def test_nova_attaches_a_port_by_id_and_binds_it(api: Api) -> None:
    port = api.create_port("nic-1")
    response = api.attach(SERVER, port["id"])
    assert response.status_code == 200, response.text
    attached = response.json()["interfaceAttachment"]
    assert (attached["port_id"], attached["net_id"]) == (port["id"], NET)
    assert (
        attached["fixed_ips"] == port["fixed_ips"] and attached["mac_addr"] == port["mac_address"]
    )
    assert port["id"] in api.interfaces(SERVER)
    assert binding(api, port["id"]) == (SERVER, "compute:nova", "ACTIVE")
    found = api("GET", f"/v2.0/ports?device_id={SERVER}&network_id={NET}").json()["ports"]
    assert port["id"] in {p["id"] for p in found}


def test_nova_refuses_a_bound_port_409_and_anothers_port_404(
    emulator: EmulatorServer, api: Api
) -> None:
    port = api.create_port("nic-1")
    api.attach(SERVER, port["id"])
    again = api.attach(OTHER_SERVER, port["id"])
    assert again.status_code == 409
    assert again.json() == {
        "conflictingRequest": {"code": 409, "message": f"Port {port['id']} is still in use."}
    }
    theirs = Api(emulator.url, THEIR_TOKEN, THEIRS).create_port("their-nic")
    response = api.attach(OTHER_SERVER, theirs["id"])
    assert response.status_code == 404
    assert response.json() == {
        "itemNotFound": {"code": 404, "message": f"Port id {theirs['id']} could not be found."}
    }


def test_nova_detach_unbinds_a_port_passed_by_id_and_keeps_it(api: Api) -> None:
    port = api.create_port("nic-1")
    api.attach(SERVER, port["id"])
    path = f"/v2.1/{{project}}/servers/{SERVER}/os-interface/{port['id']}"
    assert api("DELETE", path).status_code == 202
    assert port["id"] not in api.interfaces(SERVER)
    assert binding(api, port["id"]) == ("", "", "DOWN")
    assert api.attach(OTHER_SERVER, port["id"]).status_code == 200  # free again


def test_a_port_nova_made_by_net_id_is_deleted_on_detach(api: Api) -> None:
    body = {"interfaceAttachment": {"net_id": NET}}
    made = api("POST", f"/v2.1/{{project}}/servers/{SERVER}/os-interface", body).json()
    port_id = made["interfaceAttachment"]["port_id"]
    assert api.port(port_id).json()["port"]["project_id"] == MINE  # the server's project
    api("DELETE", f"/v2.1/{{project}}/servers/{SERVER}/os-interface/{port_id}")
    assert api.port(port_id).status_code == 404


def test_deleting_a_server_keeps_ports_passed_by_id_and_deletes_novas(api: Api) -> None:
    port = api.create_port("nic-1")
    api.attach(SERVER, port["id"])
    boot = [p for p in api.interfaces(SERVER) if p != port["id"]]
    assert api("DELETE", f"/v2.1/{{project}}/servers/{SERVER}").status_code == 204
    assert api("GET", f"/v2.1/{{project}}/servers/{SERVER}").status_code == 404
    assert binding(api, port["id"]) == ("", "", "DOWN")
    assert [api.port(p).status_code for p in boot] == [404]


def test_the_admin_api_deletes_a_server_of_any_project(api: Api, admin: AdminClient) -> None:
    port = api.create_port("nic-1")
    api.attach(SERVER, port["id"])
    admin.delete_server(SERVER)
    assert binding(api, port["id"]) == ("", "", "DOWN")
    assert [p["id"] for p in admin.ports(project_id=MINE)] == [port["id"]]


def test_deleting_a_bound_port_takes_it_off_its_server(api: Api) -> None:
    port = api.create_port("nic-1")
    api.attach(SERVER, port["id"])
    assert api("DELETE", f"/v2.0/ports/{port['id']}").status_code == 204
    assert port["id"] not in api.interfaces(SERVER)


# -- Huawei's v1 API, through huaweicloudsdkecs ---------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Cloud:
    def __init__(self, backend: FakeBackend, sdk: EcsClient, server: FakeCloudServer) -> None:
        self.backend, self.sdk, self.url = backend, sdk, server.url
        self.keystone = server.keystone
        self.clock: FakeClock = backend.clock  # type: ignore[assignment]

    def port(self, port_id: str) -> dict[str, Any] | None:
        found = [p for p in self.backend.state()["ports"] if p["id"] == port_id]
        return found[0] if found else None

    def status(self, port_id: str) -> str:
        with self.backend.transaction():
            return self.backend.port_status(self.backend.neutron.ports[port_id])

    def job(self, job_id: str) -> Any:
        return self.sdk.show_job(ShowJobRequest(job_id))

    def attach(self, port_id: str) -> str:
        body = BatchAddServerNicsRequestBody(nics=[BatchAddServerNicOption(port_id=port_id)])
        job_id: str = self.sdk.batch_add_server_nics(BatchAddServerNicsRequest(SERVER, body)).job_id
        return job_id

    def interfaces(self) -> dict[str, bool]:
        listed = self.sdk.list_server_interfaces(ListServerInterfacesRequest(SERVER))
        return {a.port_id: a.delete_on_termination for a in listed.interface_attachments}


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    backend = FakeBackend(clock=FakeClock(), rng=random.Random(3))
    ecs = FakeEcsV1(backend, job_seconds=10)
    backend.create_network("10.20.0.0/24", id=NET, name="storage")
    backend.create_server(MINE, id=SERVER, interfaces=[AttachRequest(net_id=NET)])
    keystone = FakeKeystone(project_id=MINE)
    keystone.access_keys[AK] = (SK, "")
    with FakeCloudServer(keystone, backend, ecs=ecs) as server:
        sdk = (
            EcsClient.new_builder()
            .with_http_config(HttpConfig.get_default_config())
            .with_credentials(BasicCredentials(AK, SK, MINE))
            .with_endpoint(server.ecs_url)
            .build()
        )
        yield Cloud(backend, sdk, server)


def test_v1_attaches_a_port_by_id_as_a_job_and_binds_it_when_the_job_ends(cloud: Cloud) -> None:
    port = cloud.backend.create_port(NET, project_id=MINE, name="nic-1")
    job_id = cloud.attach(port.id)
    assert cloud.status(port.id) == "DOWN" and cloud.port(port.id)["server_id"] is None  # type: ignore[index]
    cloud.clock.now += 10
    assert cloud.job(job_id).status == "SUCCESS"
    assert cloud.status(port.id) == "ACTIVE"
    assert cloud.port(port.id)["server_id"] == SERVER  # type: ignore[index]
    assert cloud.interfaces()[port.id] is False  # passed by id: kept when the server goes


def test_v1_refuses_a_bound_port_and_anothers_port(cloud: Cloud) -> None:
    port = cloud.backend.create_port(NET, project_id=MINE)
    cloud.attach(port.id)
    cloud.clock.now += 10
    with pytest.raises(ClientRequestException) as bound:
        cloud.attach(port.id)
    theirs = cloud.backend.create_port(NET, project_id=THEIRS)
    with pytest.raises(ClientRequestException) as foreign:
        cloud.attach(theirs.id)
    assert (bound.value.error_code, foreign.value.error_code) == ("Ecs.0919", "Ecs.0307")


@pytest.mark.parametrize("delete_on_termination", [True, False])
def test_v1_server_deletion_honours_each_nics_delete_on_termination(
    cloud: Cloud, delete_on_termination: bool
) -> None:
    port = cloud.backend.create_port(NET, project_id=MINE)
    cloud.attach(port.id)
    cloud.clock.now += 10
    option = UpdateNicInfoRequestBody(
        InterfaceAttachment(delete_on_termination=delete_on_termination)
    )
    cloud.sdk.update_server_interface(UpdateServerInterfaceRequest(SERVER, port.id, option))
    assert cloud.interfaces()[port.id] is delete_on_termination
    body = DeleteServersRequestBody(servers=[ServerId(SERVER)])
    job_id = cloud.sdk.delete_servers(DeleteServersRequest(body)).job_id
    assert cloud.port(port.id) is not None  # a job: nothing yet
    cloud.clock.now += 10
    assert cloud.job(job_id).status == "SUCCESS"
    kept = cloud.port(port.id)
    assert (kept is None) is delete_on_termination
    if kept is not None:
        assert (kept["server_id"], cloud.status(port.id)) == (None, "DOWN")


def test_v1_update_of_a_nic_the_server_lacks_is_a_400(cloud: Cloud) -> None:
    port = cloud.backend.create_port(NET, project_id=MINE)
    option = UpdateNicInfoRequestBody(InterfaceAttachment(delete_on_termination=True))
    with pytest.raises(ClientRequestException) as caught:
        cloud.sdk.update_server_interface(UpdateServerInterfaceRequest(SERVER, port.id, option))
    assert (caught.value.status_code, caught.value.error_code) == (400, "Ecs.0085")


def test_the_cloud_serves_the_network_api_for_the_credentials_project(cloud: Cloud) -> None:
    def call(method: str, token: str, body: Any = None, **headers: str) -> requests.Response:
        sent = {"X-Auth-Token": token, **headers}
        url = f"{cloud.url}/v2.0/ports"
        return requests.request(method, url, json=body, headers=sent, timeout=10)

    assert call("GET", "unknown-token").status_code == 401
    cloud.keystone.fixed_tokens.add("fixed-token")
    created = call("POST", "fixed-token", {"port": {"network_id": NET, "name": "n"}})
    assert created.status_code == 201 and created.json()["port"]["project_id"] == MINE
    names = sorted(p["name"] for p in call("GET", "fixed-token").json()["ports"])
    assert names == ["", "n"]  # the server's boot port (Nova's, unnamed) and the new one
    assert call("GET", "fixed-token", **{"X-Project-Id": THEIRS}).status_code == 403
    versions = requests.get(f"{cloud.url}/", timeout=10).json()["versions"]
    assert versions[0]["id"] == "v2.0"
