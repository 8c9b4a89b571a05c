"""Huawei's shared bandwidths in the emulator, driven through Huawei's own SDK
(``huaweicloudsdkeip.v2``, which holds the bandwidth calls), signed with AK/SK: create,
show with its ``publicip_info``, insert an IPv6 port (``5_dualStack``), remove it, the
refusals in the EIP API's error shape, and the entry gone with its port."""

from __future__ import annotations

from typing import Any

from huaweicloudsdkeip.v2 import (
    AddPublicipsIntoSharedBandwidthOption,
    AddPublicipsIntoSharedBandwidthRequest,
    AddPublicipsIntoSharedBandwidthRequestBody,
    CreateSharedBandwidhRequestBody,  # sic, the SDK's spelling
    CreateSharedBandwidthOption,
    CreateSharedBandwidthRequest,
    InsertPublicipInfo,
    RemoveFromSharedBandwidthOption,
    RemovePublicipInfo,
    RemovePublicipsFromSharedBandwidthRequest,
    RemovePublicipsFromSharedBandwidthRequestBody,
    ShowBandwidthRequest,
)
from support import PROJECT
from test_emulator_eip import GHOST, NET, SERVER, Cloud, cloud, refused

from emulator.compute.records import AttachRequest

__all__ = ["cloud"]  # the fixture, shared


def create(cloud: Cloud) -> str:
    option = CreateSharedBandwidthOption(name="shared", size=20)
    body = CreateSharedBandwidhRequestBody(bandwidth=option)
    return str(cloud.sdk.create_shared_bandwidth(CreateSharedBandwidthRequest(body)).bandwidth.id)


def ipv6_port(cloud: Cloud, address: str | None = "2001:db8::5") -> str:
    port_id = cloud.backend.create_port(NET, project_id=PROJECT).id
    with cloud.backend.transaction():
        cloud.backend.neutron.ports[port_id].ipv6_address = address
    return port_id


def insert(cloud: Cloud, bandwidth_id: str, member: str) -> Any:
    info = [InsertPublicipInfo(publicip_type="5_dualStack", publicip_id=member)]
    body = AddPublicipsIntoSharedBandwidthRequestBody(
        bandwidth=AddPublicipsIntoSharedBandwidthOption(publicip_info=info)
    )
    request = AddPublicipsIntoSharedBandwidthRequest(bandwidth_id=bandwidth_id, body=body)
    return cloud.sdk.add_publicips_into_shared_bandwidth(request).bandwidth


def members(cloud: Cloud, bandwidth_id: str) -> list[tuple[str, str, int]]:
    shown = cloud.sdk.show_bandwidth(ShowBandwidthRequest(bandwidth_id)).bandwidth
    assert (shown.share_type, shown.size) == ("WHOLE", 20)
    return [(m.publicip_id, m.publicip_type, m.ip_version) for m in shown.publicip_info]


def test_insert_show_and_remove_an_ipv6_port(cloud: Cloud) -> None:
    bandwidth, port = create(cloud), ipv6_port(cloud)
    assert members(cloud, bandwidth) == []
    answer = insert(cloud, bandwidth, port)
    assert [m.publicipv6_address for m in answer.publicip_info] == ["2001:db8::5"]
    assert members(cloud, bandwidth) == [(port, "5_dualStack", 6)]
    info = [RemovePublicipInfo(publicip_type="5_dualStack", publicip_id=port)]
    option = RemoveFromSharedBandwidthOption(charge_mode="bandwidth", size=5, publicip_info=info)
    body = RemovePublicipsFromSharedBandwidthRequestBody(bandwidth=option)
    request = RemovePublicipsFromSharedBandwidthRequest(bandwidth_id=bandwidth, body=body)
    assert cloud.sdk.remove_publicips_from_shared_bandwidth(request).status_code == 204
    assert members(cloud, bandwidth) == []


def test_refusals_in_the_eip_error_shape(cloud: Cloud) -> None:
    bandwidth, port = create(cloud), ipv6_port(cloud)
    error = refused(lambda: members(cloud, GHOST))
    assert (error.status_code, error.error_code) == (404, "VPC.0301")
    error = refused(lambda: insert(cloud, bandwidth, GHOST))
    assert (error.status_code, error.error_code) == (404, "VPC.0508")
    error = refused(lambda: insert(cloud, bandwidth, ipv6_port(cloud, None)))
    assert (error.status_code, error.error_code) == (400, "VPC.0501")
    insert(cloud, bandwidth, port)
    for target in (bandwidth, create(cloud)):  # a member is in one bandwidth at most
        error = refused(lambda target=target: insert(cloud, target, port))  # type: ignore[misc]
        assert (error.status_code, error.error_code) == (409, "VPC.0313")
    assert members(cloud, bandwidth) == [(port, "5_dualStack", 6)]


def test_the_entry_goes_with_its_port_and_server(cloud: Cloud) -> None:
    server = cloud.backend.create_server(PROJECT, id=SERVER, interfaces=[AttachRequest(net_id=NET)])
    [port] = (nic.port_id for nic in server.interfaces)
    with cloud.backend.transaction():
        cloud.backend.neutron.ports[port].delete_on_termination = True
        cloud.backend.neutron.ports[port].ipv6_address = "2001:db8::9"
    bandwidth, kept = create(cloud), ipv6_port(cloud)
    insert(cloud, bandwidth, port)
    insert(cloud, bandwidth, kept)
    cloud.backend.delete_server(None, SERVER)
    assert members(cloud, bandwidth) == [(kept, "5_dualStack", 6)]
