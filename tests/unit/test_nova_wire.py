"""compute/nova/: the Nova wire format, owned by the backend (no network)."""

from __future__ import annotations

import pytest

from function.compute.nova.backend import attach_body
from function.compute.parsing import interface_from_api
from function.domain.policy import NicRequest

NET_A = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
PORT = "ce531f90-199f-48c0-816c-13e38010b442"


def nic(net: str | None = NET_A, ip: str | None = None, port: str | None = None) -> NicRequest:
    return NicRequest(net_id=None if port else net, port_id=port, fixed_ip=ip, rules=("r",))


@pytest.mark.parametrize(
    ("request_", "body"),
    [
        (nic(), {"net_id": NET_A}),
        (nic(ip="10.20.0.7"), {"net_id": NET_A, "fixed_ips": [{"ip_address": "10.20.0.7"}]}),
        (nic(port=PORT), {"port_id": PORT}),
    ],
)
def test_attach_body_is_exactly_what_the_api_allows(
    request_: NicRequest, body: dict[str, object]
) -> None:
    assert attach_body(request_) == {"interfaceAttachment": body}


def test_attach_body_carries_the_mark() -> None:
    assert attach_body(nic(), "nicattach:r") == {
        "interfaceAttachment": {"net_id": NET_A, "tag": "nicattach:r"}
    }


def test_interface_from_api_strips_ids_and_survives_missing_fields() -> None:
    raw = {"port_id": " ce531f90-199f-48c0-816c-13e38010b442", "net_id": NET_A, "fixed_ips": None}
    parsed = interface_from_api(raw)
    assert parsed.port_id == PORT
    assert parsed.fixed_ips == ()
    assert parsed.to_json()["port_state"] == ""


@pytest.mark.parametrize("fixed", ["10.0.0.1", 5, {"ip_address": "x"}, [1, None, "x"]])
def test_interface_from_api_survives_wrong_types(fixed: object) -> None:
    parsed = interface_from_api({"port_id": 7, "net_id": ["x"], "fixed_ips": fixed})
    assert parsed.port_id == "" and parsed.net_id == "" and parsed.fixed_ips == ()
