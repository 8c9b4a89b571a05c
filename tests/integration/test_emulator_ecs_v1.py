"""Huawei's native v1 NIC API through Huawei's own SDK (``huaweicloudsdkecs``), signed with
AK/SK and checked by the fake cloud's front door; time is a fake clock, so jobs move only
when a test says so. The Nova API sees the same servers: a job's NIC shows there too."""

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
    BatchDeleteServerNicOption,
    BatchDeleteServerNicsRequest,
    BatchDeleteServerNicsRequestBody,
    EcsClient,
    ListServerInterfacesRequest,
    ListServersDetailsRequest,
    ServerNicSecurityGroup,
    ShowJobRequest,
    ShowServerRequest,
    ShowServerTagsRequest,
)
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient, AdminError
from emulator.compute.models import FakeBackend
from emulator.compute.records import AttachRequest
from emulator.control.faults import FaultPlan, Faults
from emulator.ecs_v1.models import FakeEcsV1
from emulator.identity.keystone import FakeKeystone
from emulator.server import EmulatorServer, FakeCloudServer

AK, SK = "AKEMULATOR0000000001", "sk-emulator-secret"
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
STORAGE = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
GHOST = "11111111-2222-4333-8444-555555555555"
FREE_PORT = "ce531f90-199f-48c0-816c-13e38010b442"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Cloud:
    def __init__(self, backend: FakeBackend, ecs: FakeEcsV1, faults: Faults, sdk: EcsClient):
        self.backend, self.ecs, self.faults, self.sdk = backend, ecs, faults, sdk
        self.clock: FakeClock = backend.clock  # type: ignore[assignment]
        self.primary = backend.admin_server(SERVER).interfaces[0].port_id

    def add(self, *nics: BatchAddServerNicOption) -> str:
        body = BatchAddServerNicsRequestBody(nics=list(nics))
        job_id: str = self.sdk.batch_add_server_nics(BatchAddServerNicsRequest(SERVER, body)).job_id
        return job_id

    def delete(self, *port_ids: str) -> str:
        nics = [BatchDeleteServerNicOption(id=port) for port in port_ids]
        request = BatchDeleteServerNicsRequest(SERVER, BatchDeleteServerNicsRequestBody(nics))
        job_id: str = self.sdk.batch_delete_server_nics(request).job_id
        return job_id

    def job(self, job_id: str) -> Any:
        return self.sdk.show_job(ShowJobRequest(job_id))

    def nics(self) -> list[str]:
        listed = self.sdk.list_server_interfaces(ListServerInterfacesRequest(SERVER))
        return [attachment.port_id for attachment in listed.interface_attachments]

    def nova_nics(self) -> list[str]:
        return [i.port_id for i in self.backend.list_interfaces(PROJECT, SERVER)]

    def free_nic(self) -> int:
        listed = self.sdk.list_server_interfaces(ListServerInterfacesRequest(SERVER))
        free: int = listed.attachable_quantity.free_nic
        return free


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    backend = FakeBackend(clock=FakeClock(), rng=random.Random(3))
    faults = Faults()
    ecs = FakeEcsV1(
        backend,
        job_seconds=10,
        job_init_seconds=1,
        job_ttl_seconds=100,
        max_nics=4,
        job_failure=faults.job_failure,
    )
    backend.create_network("192.168.1.0/24", id=NET, name="private")
    backend.create_network("10.20.0.0/24", id=STORAGE, name="storage")
    backend.create_port(STORAGE, id=FREE_PORT)
    backend.create_server(
        PROJECT, id=SERVER, tags=["role=db", "env=prod"], interfaces=[AttachRequest(net_id=NET)]
    )
    keystone = FakeKeystone(project_id=PROJECT)
    keystone.access_keys[AK] = (SK, "")
    with FakeCloudServer(keystone, backend, ecs=ecs) as server:
        sdk = (
            EcsClient.new_builder()
            .with_http_config(HttpConfig.get_default_config())
            .with_credentials(BasicCredentials(AK, SK, PROJECT))
            .with_endpoint(server.ecs_url)
            .build()
        )
        yield Cloud(backend, ecs, faults, sdk)


def nic(subnet_id: str = STORAGE, **fields: Any) -> BatchAddServerNicOption:
    return BatchAddServerNicOption(subnet_id=subnet_id, **fields)


def refused(call: Any) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as caught:
        call()
    return caught.value


def test_an_add_job_runs_init_running_success_and_the_nic_appears_at_the_end(
    cloud: Cloud,
) -> None:
    job_id = cloud.add(nic(security_groups=[ServerNicSecurityGroup(id="sg-1")]))
    assert cloud.job(job_id).status == "INIT"
    cloud.clock.now += 5
    job = cloud.job(job_id)
    assert (job.status, job.entities.sub_jobs[0].status) == ("RUNNING", "RUNNING")
    assert cloud.nics() == [cloud.primary] == cloud.nova_nics()
    cloud.clock.now += 5
    job = cloud.job(job_id)
    assert (job.status, job.error_code, job.entities.sub_jobs_total) == ("SUCCESS", None, 1)
    new = job.entities.sub_jobs[0].entities.nic_id
    assert cloud.nics() == [cloud.primary, new] == cloud.nova_nics()  # the Nova API sees it too
    assert job.begin_time.endswith("Z") and job.end_time.endswith("Z")


def test_a_batch_is_one_sub_job_per_nic(cloud: Cloud) -> None:
    job_id = cloud.add(nic(ip_address="10.20.0.50"), nic(port_id=FREE_PORT))
    cloud.clock.now += 10
    subs = cloud.job(job_id).entities.sub_jobs
    assert [s.status for s in subs] == ["SUCCESS", "SUCCESS"]
    assert subs[1].entities.nic_id == FREE_PORT
    ips = {
        a.port_id: a.fixed_ips[0].ip_address
        for a in cloud.sdk.list_server_interfaces(
            ListServerInterfacesRequest(SERVER)
        ).interface_attachments
    }
    assert ips[subs[0].entities.nic_id] == "10.20.0.50"


def test_free_nic_counts_attached_and_running_jobs_and_the_quota_is_enforced(
    cloud: Cloud,
) -> None:
    assert cloud.free_nic() == 3  # max_nics 4, the primary NIC attached
    cloud.add(nic(), nic())
    assert cloud.free_nic() == 1
    error = refused(lambda: cloud.add(nic(), nic()))
    assert (error.status_code, error.error_code) == (400, "Ecs.0050")
    cloud.ecs.server_max_nics[SERVER] = 10
    assert cloud.free_nic() == 7


def test_a_delete_job_detaches_when_it_succeeds(cloud: Cloud) -> None:
    added = cloud.add(nic())
    cloud.clock.now += 10
    port = cloud.job(added).entities.sub_jobs[0].entities.nic_id
    deleted = cloud.delete(port)
    assert cloud.nics() == [cloud.primary, port]
    cloud.clock.now += 10
    assert cloud.job(deleted).status == "SUCCESS"
    assert cloud.nics() == [cloud.primary]


def test_the_primary_nic_and_unattached_ports_cannot_be_deleted(cloud: Cloud) -> None:
    primary = refused(lambda: cloud.delete(cloud.primary))
    assert (primary.status_code, primary.error_code) == (403, "Ecs.0003")
    stranger = refused(lambda: cloud.delete(FREE_PORT))
    assert (stranger.status_code, stranger.error_code) == (400, "Ecs.0085")


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda c: c.add(nic(GHOST)), 400, "Ecs.0038"),
        (
            lambda c: c.sdk.batch_add_server_nics(
                BatchAddServerNicsRequest(GHOST, BatchAddServerNicsRequestBody([nic()]))
            ),
            404,
            "Ecs.0114",
        ),
        (lambda c: c.add(nic(port_id=c.primary)), 400, "Ecs.0919"),
        (lambda c: c.add(nic(port_id=GHOST)), 400, "Ecs.0307"),
        (lambda c: c.sdk.show_server(ShowServerRequest(GHOST)), 404, "Ecs.0114"),
        (lambda c: c.job("0" * 32), 404, "Common.0011"),
    ],
)
def test_synchronous_errors(cloud: Cloud, make: Any, status: int, code: str) -> None:
    error = refused(lambda: make(cloud))
    assert (error.status_code, error.error_code) == (status, code)
    assert error.error_msg


def test_a_server_that_is_not_active_refuses_jobs(cloud: Cloud) -> None:
    cloud.backend.update_server(SERVER, status="ERROR")
    error = refused(lambda: cloud.add(nic()))
    assert (error.status_code, error.error_code) == (400, "Ecs.0100")


def test_what_only_the_job_finds_out_fails_the_job(cloud: Cloud) -> None:
    """Both ask for the same IP; the second job fails when it runs (Ecs.0010), and an
    address outside the subnet fails its job too (Ecs.0039)."""
    first, second = cloud.add(nic(ip_address="10.20.0.9")), cloud.add(nic(ip_address="10.20.0.9"))
    outside = cloud.add(nic(ip_address="172.16.0.9"))
    cloud.clock.now += 10
    assert cloud.job(first).status == "SUCCESS"
    for job_id, code in ((second, "Ecs.0010"), (outside, "Ecs.0039")):
        job = cloud.job(job_id)
        assert (job.status, job.error_code) == ("FAIL", code)
        assert job.entities.sub_jobs[0].fail_reason.startswith("addNic-fail: ")
    assert len(cloud.nics()) == 2


def test_the_fault_plan_fails_jobs_with_the_code_it_names(cloud: Cloud) -> None:
    cloud.faults.configure({"job_fail_rate": 1, "job_fail_code": "Ecs.1002"})
    job_id = cloud.add(nic())
    cloud.clock.now += 10
    job = cloud.job(job_id)
    assert (job.status, job.error_code) == ("FAIL", "Ecs.1002")
    assert cloud.nics() == [cloud.primary]
    assert cloud.faults.plan.counts == {"job_fail": 1}


def test_finished_jobs_expire(cloud: Cloud) -> None:
    job_id = cloud.add(nic())
    cloud.clock.now += 10 + 99
    assert cloud.job(job_id).status == "SUCCESS"
    cloud.clock.now += 1
    assert refused(lambda: cloud.job(job_id)).status_code == 404


def test_show_server_and_its_tags(cloud: Cloud) -> None:
    server = cloud.sdk.show_server(ShowServerRequest(SERVER)).server
    assert (server.id, server.status, server.tags) == (SERVER, "ACTIVE", ["role=db", "env=prod"])
    tags = cloud.sdk.show_server_tags(ShowServerTagsRequest(SERVER)).tags
    assert [(t.key, t.value) for t in tags] == [("role", "db"), ("env", "prod")]


def test_list_servers_details_pages_by_marker_and_by_offset(cloud: Cloud) -> None:
    for index in range(4):
        cloud.backend.create_server(
            PROJECT, id=f"00000000-0000-4000-8000-00000000000{index}", tags=[f"n={index}"]
        )
    first = cloud.sdk.list_servers_details(ListServersDetailsRequest(limit=2))
    assert first.count == 5 and len(first.servers) == 2
    marker = first.servers[-1].id
    rest = cloud.sdk.list_servers_details(ListServersDetailsRequest(limit=10, marker=marker))
    seen = [s.id for s in first.servers + rest.servers]
    assert len(seen) == len(set(seen)) == 5
    by_page = cloud.sdk.list_servers_details(ListServersDetailsRequest(limit=2, offset=2))
    assert [s.id for s in by_page.servers] == seen[2:4]
    assert all(isinstance(s.tags, list) and s.status for s in rest.servers)


# -- the same routes without the SDK, straight at EmulatorServer ------------------------


@pytest.fixture
def direct(admin: AdminClient) -> str:
    admin.create_network("10.20.0.0/24", id=STORAGE)
    admin.create_server(PROJECT, id=SERVER, interfaces=[{"net_id": STORAGE}])
    return f"/v1/{PROJECT}/cloudservers/{SERVER}"


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"nics": []},
        {"nics": [{}]},
        {"nics": [{"subnet_id": STORAGE, "x": 1}]},
        {"nics": [{"subnet_id": STORAGE, "security_groups": ["sg"]}]},
        {"nics": "all"},
    ],
)
def test_bad_bodies_are_ecs_0005(emulator: EmulatorServer, direct: str, body: Any) -> None:
    answer = requests.post(
        f"{emulator.url}{direct}/nics",
        json=body,
        timeout=5,
        headers={"X-Auth-Token": "emulator-token"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "Ecs.0005"


def test_a_token_is_needed(emulator: EmulatorServer, direct: str) -> None:
    assert requests.get(f"{emulator.url}{direct}", timeout=5).status_code == 401


def test_admin_ecs_options_and_reset(admin: AdminClient, emulator: EmulatorServer, direct: str):
    token = {"X-Auth-Token": "emulator-token"}
    assert admin.set_ecs_options(job_seconds=3600, max_nics=2)["max_nics"] == 2
    answer = requests.post(
        f"{emulator.url}{direct}/nics",
        headers=token,
        timeout=5,
        json={"nics": [{"subnet_id": STORAGE}]},
    )
    job = requests.get(
        f"{emulator.url}/v1/{PROJECT}/jobs/{answer.json()['job_id']}", headers=token, timeout=5
    )
    assert job.json()["status"] == "RUNNING"
    listed = requests.get(f"{emulator.url}{direct}/os-interface", headers=token, timeout=5)
    assert listed.json()["attachableQuantity"] == {"free_nic": 0}
    admin.reset()
    assert requests.get(job.url, headers=token, timeout=5).status_code == 404
    for bad in ({"max_nics": 1.5}, {"job_seconds": -1}, {"server_max_nics": {"s": "x"}}):
        with pytest.raises(AdminError) as caught:
            admin.set_ecs_options(**bad)
        assert caught.value.status == 400


def test_the_fault_plan_reads_back_job_fields(admin: AdminClient) -> None:
    plan = admin.set_faults(job_fail_rate=0.5, job_fail_code="Ecs.0211")
    assert (plan["job_fail_rate"], plan["job_fail_code"]) == (0.5, "Ecs.0211")
    assert FaultPlan().job_fail_code == "Ecs.0217"
