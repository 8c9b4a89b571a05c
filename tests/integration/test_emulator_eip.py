"""Huawei's EIP API in the emulator, driven through Huawei's own SDK (``huaweicloudsdkeip``),
signed with AK/SK and checked by the fake cloud's front door: allocate, list with
filters, bind to a port by ``port_id`` and unbind, tags as pools, and the release
when the port goes with its server."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkeip.v2 import (
    CreatePublicipBandwidthOption,
    CreatePublicipOption,
    CreatePublicipRequest,
    CreatePublicipRequestBody,
    CreatePublicipTagRequest,
    CreatePublicipTagRequestBody,
    DeletePublicipRequest,
    DeletePublicipTagRequest,
    EipClient,
    ListPublicipsByTagsRequest,
    ListPublicipsByTagsRequestBody,
    ListPublicipsRequest,
    ResourceTagOption,
    ShowPublicipRequest,
    ShowPublicipTagsRequest,
    TagReq,
    UpdatePublicipOption,
    UpdatePublicipRequest,
    UpdatePublicipsRequestBody,
)
from support import PROJECT

from emulator.compute.models import FakeBackend
from emulator.compute.records import AttachRequest
from emulator.identity.keystone import FakeKeystone
from emulator.server import FakeCloudServer

AK, SK = "AKEMULATOR0000000001", "sk-emulator-secret"
NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
GHOST = "11111111-2222-4333-8444-555555555555"


class Cloud:
    def __init__(self, backend: FakeBackend, sdk: EipClient) -> None:
        self.backend, self.sdk = backend, sdk

    def allocate(self, address: str | None = None) -> Any:
        body = CreatePublicipRequestBody(
            publicip=CreatePublicipOption(type="5_bgp", ip_address=address),
            bandwidth=CreatePublicipBandwidthOption(name="bw", share_type="PER", size=5),
        )
        return self.sdk.create_publicip(CreatePublicipRequest(body)).publicip

    def bind(self, eip_id: str, port_id: str | None) -> Any:
        body = UpdatePublicipsRequestBody(publicip=UpdatePublicipOption(port_id=port_id))
        return self.sdk.update_publicip(UpdatePublicipRequest(eip_id, body)).publicip

    def show(self, eip_id: str) -> Any:
        return self.sdk.show_publicip(ShowPublicipRequest(eip_id)).publicip

    def port(self) -> str:
        return self.backend.create_port(NET, project_id=PROJECT).id


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    backend = FakeBackend(rng=random.Random(5))
    backend.create_network("192.168.1.0/24", id=NET, name="private")
    keystone = FakeKeystone(project_id=PROJECT)
    keystone.access_keys[AK] = (SK, "")
    with FakeCloudServer(keystone, backend) as server:
        sdk = (
            EipClient.new_builder()
            .with_http_config(HttpConfig.get_default_config())
            .with_credentials(BasicCredentials(AK, SK, PROJECT))
            .with_endpoint(server.url)
            .build()
        )
        yield Cloud(backend, sdk)


def refused(call: Any) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as caught:
        call()
    return caught.value


def test_allocate_list_show_and_delete(cloud: Cloud) -> None:
    first = cloud.allocate()
    second = cloud.allocate("198.51.100.77")
    assert (first.public_ip_address, second.public_ip_address) == ("198.51.100.1", "198.51.100.77")
    listed = cloud.sdk.list_publicips(ListPublicipsRequest()).publicips
    assert [(e.id, e.status, e.port_id) for e in listed] == [
        (first.id, "DOWN", None),
        (second.id, "DOWN", None),
    ]
    by_address = ListPublicipsRequest(public_ip_address=["198.51.100.77"])
    assert [e.id for e in cloud.sdk.list_publicips(by_address).publicips] == [second.id]
    assert cloud.show(first.id).public_ip_address == "198.51.100.1"
    cloud.sdk.delete_publicip(DeletePublicipRequest(first.id))
    error = refused(lambda: cloud.show(first.id))
    assert (error.status_code, error.error_code) == (404, "VPC.0504")
    taken = refused(lambda: cloud.allocate("198.51.100.77"))
    assert taken.status_code == 409


def test_bind_by_port_id_read_it_back_and_unbind(cloud: Cloud) -> None:
    eip, port = cloud.allocate(), cloud.port()
    bound = cloud.bind(eip.id, port)
    assert (bound.port_id, bound.status) == (port, "ACTIVE")
    assert bound.private_ip_address.startswith("192.168.1.")
    by_port = ListPublicipsRequest(port_id=[port])
    assert [e.id for e in cloud.sdk.list_publicips(by_port).publicips] == [eip.id]
    assert cloud.bind(eip.id, port).port_id == port  # binding again to the same port: done
    unbound = cloud.bind(eip.id, "")
    assert (unbound.port_id, unbound.status, unbound.private_ip_address) == (None, "DOWN", None)


def test_one_eip_per_port_and_one_port_per_eip(cloud: Cloud) -> None:
    first, second = cloud.allocate(), cloud.allocate()
    port, other = cloud.port(), cloud.port()
    cloud.bind(first.id, port)
    taken = refused(lambda: cloud.bind(second.id, port))
    moved = refused(lambda: cloud.bind(first.id, other))
    ghost = refused(lambda: cloud.bind(second.id, GHOST))
    assert [(e.status_code, e.error_code) for e in (taken, moved, ghost)] == [
        (409, "VPC.0510"),
        (409, "VPC.0510"),
        (404, "VPC.0508"),
    ]
    assert cloud.show(second.id).port_id is None


def test_tags_make_pools(cloud: Cloud) -> None:
    web, db, untagged = cloud.allocate(), cloud.allocate(), cloud.allocate()
    for eip, pool in ((web, "web"), (db, "db")):
        tag = CreatePublicipTagRequestBody(tag=ResourceTagOption(key="nicattach-pool", value=pool))
        cloud.sdk.create_publicip_tag(CreatePublicipTagRequest(eip.id, tag))
    shown = cloud.sdk.show_publicip_tags(ShowPublicipTagsRequest(web.id)).tags
    assert [(t.key, t.value) for t in shown] == [("nicattach-pool", "web")]
    query = ListPublicipsByTagsRequestBody(
        action="filter", tags=[TagReq(key="nicattach-pool", values=["web"])]
    )
    found = cloud.sdk.list_publicips_by_tags(ListPublicipsByTagsRequest(query))
    assert ([r.resource_id for r in found.resources], found.total_count) == ([web.id], 1)
    assert cloud.show(web.id).tags == ["nicattach-pool=web"]
    cloud.sdk.delete_publicip_tag(DeletePublicipTagRequest(web.id, "nicattach-pool"))
    found = cloud.sdk.list_publicips_by_tags(ListPublicipsByTagsRequest(query))
    assert found.total_count == 0
    assert untagged.id not in [r.resource_id for r in found.resources]


def test_the_eip_is_released_when_its_port_goes_with_the_server(cloud: Cloud) -> None:
    server = cloud.backend.create_server(
        PROJECT, id=SERVER, interfaces=[AttachRequest(net_id=NET), AttachRequest(net_id=NET)]
    )
    gone, kept = (nic.port_id for nic in server.interfaces)
    with cloud.backend.transaction():
        cloud.backend.neutron.ports[gone].delete_on_termination = True
        cloud.backend.neutron.ports[kept].delete_on_termination = False
    first, second = cloud.allocate(), cloud.allocate()
    cloud.bind(first.id, gone)
    cloud.bind(second.id, kept)
    cloud.backend.delete_server(None, SERVER)
    assert (cloud.show(first.id).port_id, cloud.show(first.id).status) == (None, "DOWN")
    assert cloud.show(second.id).port_id == kept  # a kept port keeps its EIP, as on Huawei
    assert cloud.bind(first.id, cloud.port()).status == "ACTIVE"  # free again, bindable


def test_bad_requests_are_400_with_huawei_codes(cloud: Cloud) -> None:
    eip = cloud.allocate()
    no_port = UpdatePublicipsRequestBody(publicip=UpdatePublicipOption(ip_version=4))
    error = refused(lambda: cloud.sdk.update_publicip(UpdatePublicipRequest(eip.id, no_port)))
    assert (error.status_code, error.error_code) == (400, "VPC.0501")
