"""The emulator's Nova attach (POST os-interface) through real HTTP: every answer and body."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.client import AdminClient
from emulator_http.nova_http import (
    BROKEN,
    BUILDING,
    BUSY_PORT,
    FREE_PORT,
    GHOST,
    NET,
    SERVER,
    Api,
    attach_path,
    fault,
)

# -- attach: every answer of NOVA_BEHAVIOUR.md rows 7-21 and 30 -------------------------------


def case(
    name: str,
    attachment: dict[str, Any] | None,
    status: int,
    expected: dict[str, Any] | str | None = None,
    *,
    server: str = SERVER,
    version: str | None = None,
) -> Any:
    """One attach: the whole fault body (a dict), a piece of the badRequest message (a str),
    or None for an attachment."""
    return pytest.param(server, attachment, version, status, expected, id=name)


def bad(message: str) -> dict[str, Any]:
    return fault("badRequest", 400, message)


def not_found(message: str) -> dict[str, Any]:
    return fault("itemNotFound", 404, message)


def conflict(message: str) -> dict[str, Any]:
    return fault("conflictingRequest", 409, message)


def ips(*addresses: str) -> dict[str, Any]:
    return {"net_id": NET, "fixed_ips": [{"ip_address": a} for a in addresses]}


EXTRA = "Additional properties are not allowed ('{}' was unexpected)"
TOO_LONG = (
    "Invalid input for field/attribute fixed_ips. Value: [{'ip_address': "
    "'10.20.0.80'}, {'ip_address': '10.20.0.81'}]. [{'ip_address': '10.20.0.80'}, "
    "{'ip_address': '10.20.0.81'}] is too long"
)
NOT_AN_IP = (
    "Invalid input for field/attribute ip_address. Value: not-an-ip. 'not-an-ip' is not "
    "valid under any of the given schemas"
)
NOT_UUID = "Invalid input for field/attribute net_id. Value: private. 'private' is not a 'uuid'"
AMBIGUOUS = "Multiple possible networks found, use a Network ID to be more specific."
IN_STATE = "Cannot 'attach_interface' instance {} while it is in vm_state {}"

ATTACH_CASES = [
    case("no body", None, 400, bad("None is not of type 'object'")),
    case("unknown key", {"net_id": NET, "foo": "bar"}, 400, EXTRA.format("foo")),
    case("tag before 2.49", {"net_id": NET, "tag": "x"}, 400, EXTRA.format("tag")),
    case(
        "both ids",
        {"net_id": NET, "port_id": FREE_PORT},
        400,
        bad("Must not input both network_id and port_id"),
    ),
    case(
        "ip without net",
        {"fixed_ips": [{"ip_address": "10.20.0.9"}]},
        400,
        bad("Must input network_id when request IP address"),
    ),
    case("two fixed ips", ips("10.20.0.80", "10.20.0.81"), 400, TOO_LONG),
    case("bad ip", ips("not-an-ip"), 400, NOT_AN_IP),
    case("net not uuid", {"net_id": "private"}, 400, NOT_UUID),
    case("port not uuid", {"port_id": " " + FREE_PORT}, 400, "is not a 'uuid'"),
    case(
        "unknown network", {"net_id": GHOST}, 404, not_found(f"Network {GHOST} could not be found.")
    ),
    case("ip outside subnet", ips("172.16.5.5"), 400, "IP address 172.16.5.5 is not a valid IP"),
    case(
        "unknown port", {"port_id": GHOST}, 404, not_found(f"Port id {GHOST} could not be found.")
    ),
    case(
        "port in use", {"port_id": BUSY_PORT}, 409, conflict(f"Port {BUSY_PORT} is still in use.")
    ),
    case("ambiguous network", {}, 400, bad(AMBIGUOUS)),
    case(
        "building",
        {"net_id": NET},
        409,
        conflict(IN_STATE.format(BUILDING, "building")),
        server=BUILDING,
    ),
    case(
        "error state",
        {"net_id": NET},
        409,
        conflict(IN_STATE.format(BROKEN, "error")),
        server=BROKEN,
    ),
    case(
        "unknown server",
        {"net_id": NET},
        404,
        not_found(f"Instance {GHOST} could not be found."),
        server=GHOST,
    ),
    case("tag at 2.49", {"net_id": NET, "tag": "nicattach"}, 200, version="2.49"),
    case("net only", {"net_id": NET}, 200),
    case("fixed ip", ips("10.20.0.77"), 200),
    case("free port", {"port_id": FREE_PORT}, 200),
]


@pytest.mark.parametrize(
    ("server", "attachment", "version", "status", "expected"),
    ATTACH_CASES,
)
def test_attach_answers(
    api: Api,
    server: str,
    attachment: dict[str, Any] | None,
    version: str | None,
    status: int,
    expected: dict[str, Any] | str | None,
) -> None:
    body = None if attachment is None else {"interfaceAttachment": attachment}
    response = api("POST", attach_path(server), version=version, json=body)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    if isinstance(expected, dict):
        assert response.json() == expected
    elif isinstance(expected, str):
        assert expected in response.json()["badRequest"]["message"]
    else:
        assert set(response.json()["interfaceAttachment"]) == {
            "port_state",
            "fixed_ips",
            "port_id",
            "net_id",
            "mac_addr",
        }


@pytest.mark.parametrize(
    ("raw", "headers", "status", "kind"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "badRequest"),
        (b"net_id=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "badMediaType"),
        (b'"text"', {"Content-Type": "application/json"}, 400, "badRequest"),
        (b'{"interfaceAttachment": {}, "x": 1}', {}, 400, "badRequest"),
    ],
)
def test_attach_rejects_bad_bodies(
    api: Api, raw: bytes, headers: dict[str, str], status: int, kind: str
) -> None:
    response = api("POST", attach_path(), data=raw, headers=headers)
    assert response.status_code == status
    assert response.json()[kind]["code"] == status


def test_attach_returns_what_get_shows(api: Api) -> None:
    body = {"interfaceAttachment": {"net_id": NET, "fixed_ips": [{"ip_address": "10.20.0.77"}]}}
    attached = api("POST", attach_path(), json=body).json()["interfaceAttachment"]
    assert attached["fixed_ips"][0]["ip_address"] == "10.20.0.77"
    assert attached["port_state"] == "ACTIVE" and attached["mac_addr"].startswith("fa:16:3e:")
    shown = api("GET", f"{attach_path()}/{attached['port_id']}").json()
    assert shown == {"interfaceAttachment": attached}
    again = api("POST", attach_path(), json=body)
    assert again.status_code == 409
    assert again.json() == fault(
        "conflictingRequest", 409, "Fixed IP 10.20.0.77 is already in use."
    )


def test_two_nics_on_one_network_are_allowed(api: Api) -> None:
    for _ in range(2):
        assert api("POST", attach_path(), json={"interfaceAttachment": {"net_id": NET}}).ok
    listed = api("GET", attach_path()).json()["interfaceAttachments"]
    assert [i["net_id"] for i in listed] == [NET, NET, NET]
    addresses = [i["fixed_ips"][0]["ip_address"] for i in listed]
    assert addresses == ["10.20.0.4", "10.20.0.5", "10.20.0.6"]


@pytest.mark.parametrize(
    ("attachment", "cls"),
    [
        ({"net_id": GHOST}, "neutronclient.common.exceptions.NetworkNotFoundClient"),
        (
            {"net_id": NET, "fixed_ips": [{"ip_address": "172.16.5.5"}]},
            "nova.exception.InvalidInput",
        ),
    ],
)
def test_nova_errors_answers_500_like_real_nova(
    api: Api, admin: AdminClient, attachment: dict[str, Any], cls: str
) -> None:
    admin.set_options(nova_errors=True)
    response = api("POST", attach_path(), json={"interfaceAttachment": attachment})
    assert response.status_code == 500
    message = f"Unexpected API Error. Please contact the administrator\n<class '{cls}'>"
    assert response.json() == fault("computeFault", 500, message)


# -- reading servers, interfaces and tags -------------------------------------------------------
