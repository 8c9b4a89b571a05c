"""A NIC profile as port fields per network flavour, and the drift check: tables for the
documented mappings, properties for "a port made (or corrected) from these fields shows
no drift" and "no port answer makes the check raise"."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from function.domain.port_profile import (
    Drift,
    Flavour,
    NoIpv6Subnet,
    Subnet,
    port_fields,
    profile_drift,
    subnets_of,
)
from function.domain.profile import AddressPair, NicProfile, unique_pairs

HUAWEI, NEUTRON = Flavour.HUAWEI_VPC, Flavour.NEUTRON
V4 = Subnet("s4", 4, "10.0.0.0/24")
V6 = Subnet("s6", 6, "2001:db8::/64")
MAC = "fa:16:3e:00:00:01"
OFF = NicProfile(source_dest_check=False)
VIP = AddressPair("10.0.0.100")
#: Neutron's "allow every source": 0.0.0.0/0, and IPv6 but multicast (it refuses ::/0).
NEUTRON_ALL = (
    *("0.0.0.0/0", "::/1", "8000::/2", "c000::/3", "e000::/4", "f000::/5", "f800::/6"),
    *("fc00::/7", "fe00::/8"),
)


@pytest.mark.parametrize(
    ("fixed_ip", "profile", "flavour", "fields"),
    [
        (None, NicProfile(), NEUTRON, {}),
        ("10.0.0.5", NicProfile(), HUAWEI, {"fixed_ips": [{"ip_address": "10.0.0.5"}]}),
        (None, OFF, HUAWEI, {"allowed_address_pairs": [{"ip_address": "1.1.1.1/0"}]}),
        (
            None,
            OFF,
            NEUTRON,
            {"allowed_address_pairs": [{"ip_address": ip} for ip in NEUTRON_ALL]},
        ),
        (
            None,
            NicProfile(allowed_address_pairs=(AddressPair("10.0.0.0/28", MAC), VIP)),
            NEUTRON,
            {
                "allowed_address_pairs": [
                    {"ip_address": "10.0.0.0/28", "mac_address": MAC},
                    {"ip_address": "10.0.0.100"},
                ]
            },
        ),
        (
            None,
            NicProfile(source_dest_check=False, allowed_address_pairs=(VIP,)),
            HUAWEI,
            {"allowed_address_pairs": [{"ip_address": "1.1.1.1/0"}, {"ip_address": "10.0.0.100"}]},
        ),
        (
            None,
            NicProfile(ipv6=True),
            NEUTRON,
            {"fixed_ips": [{"subnet_id": "s4"}, {"subnet_id": "s6"}]},
        ),
        (
            "10.0.0.5",
            NicProfile(ipv6=True, ipv6_address="2001:db8::5"),
            HUAWEI,
            {"fixed_ips": [{"ip_address": "10.0.0.5"}, {"ip_address": "2001:db8::5"}]},
        ),
    ],
)
def test_port_fields_per_flavour(
    fixed_ip: str | None, profile: NicProfile, flavour: Flavour, fields: dict[str, Any]
) -> None:
    assert port_fields(fixed_ip, profile, flavour, (V4, V6)) == fields


@pytest.mark.parametrize(
    ("profile", "subnets", "message"),
    [
        (NicProfile(ipv6=True), (V4,), "has no IPv6 subnet"),
        (NicProfile(ipv6=True, ipv6_address="2001:db9::5"), (V4, V6), "no IPv6 subnet of the"),
    ],
)
def test_ipv6_without_a_subnet_is_a_permanent_failure(
    profile: NicProfile, subnets: tuple[Subnet, ...], message: str
) -> None:
    with pytest.raises(NoIpv6Subnet, match=message) as info:
        port_fields(None, profile, NEUTRON, subnets)
    assert info.value.code == "no_ipv6_subnet"


def port(**fields: Any) -> dict[str, Any]:
    base = {
        "id": "p1",
        "mac_address": MAC,
        "port_security_enabled": True,
        "allowed_address_pairs": [],
        "fixed_ips": [{"subnet_id": "s4", "ip_address": "10.0.0.5"}],
    }
    return {**base, **fields}


def pairs(*ips: str) -> list[dict[str, str]]:
    return [{"ip_address": ip, "mac_address": MAC} for ip in ips]


@pytest.mark.parametrize(
    ("found", "profile", "flavour", "drift"),
    [
        (port(), NicProfile(), NEUTRON, Drift()),
        (port(allowed_address_pairs=pairs("1.1.1.1/0")), OFF, HUAWEI, Drift()),
        (
            port(allowed_address_pairs=pairs("0.0.0.0/0")),
            OFF,
            NEUTRON,
            Drift(
                ("source_dest_check",),
                {
                    "port": {
                        "allowed_address_pairs": pairs("0.0.0.0/0")
                        + [{"ip_address": ip} for ip in NEUTRON_ALL[1:]]
                    }
                },
            ),
        ),
        (
            port(),
            OFF,
            HUAWEI,
            Drift(
                ("source_dest_check",),
                {"port": {"allowed_address_pairs": [{"ip_address": "1.1.1.1/0"}]}},
            ),
        ),
        (port(port_security_enabled=False), OFF, NEUTRON, Drift()),
        (
            port(allowed_address_pairs=pairs("10.9.9.9")),
            NicProfile(allowed_address_pairs=(VIP,)),
            NEUTRON,
            Drift(
                ("allowed_address_pairs",),
                {
                    "port": {
                        "allowed_address_pairs": pairs("10.9.9.9") + [{"ip_address": "10.0.0.100"}]
                    }
                },
            ),
        ),
        (
            port(
                allowed_address_pairs=[
                    {"ip_address": "10.0.0.100", "mac_address": "fa:16:3e:99:99:99"}
                ]
            ),
            NicProfile(allowed_address_pairs=(VIP,)),
            NEUTRON,
            Drift(
                ("allowed_address_pairs",),
                {
                    "port": {
                        "allowed_address_pairs": [
                            {"ip_address": "10.0.0.100", "mac_address": "fa:16:3e:99:99:99"},
                            {"ip_address": "10.0.0.100"},
                        ]
                    }
                },
            ),
        ),
        (
            port(),
            NicProfile(ipv6=True),
            NEUTRON,
            Drift(
                ("ipv6",),
                {
                    "port": {
                        "fixed_ips": [
                            {"ip_address": "10.0.0.5", "subnet_id": "s4"},
                            {"subnet_id": "s6"},
                        ]
                    }
                },
            ),
        ),
        (
            port(fixed_ips=[{"subnet_id": "s6", "ip_address": "2001:db8::7"}]),
            NicProfile(ipv6=True),
            NEUTRON,
            Drift(),
        ),
        (
            port(fixed_ips=[{"subnet_id": "s6", "ip_address": "2001:db8::7"}]),
            NicProfile(ipv6=True, ipv6_address="2001:db8::5"),
            NEUTRON,
            Drift(("ipv6_address",), {"port": {"fixed_ips": [{"ip_address": "2001:db8::5"}]}}),
        ),
    ],
)
def test_profile_drift(
    found: dict[str, Any], profile: NicProfile, flavour: Flavour, drift: Drift
) -> None:
    assert profile_drift(found, profile, flavour, (V4, V6)) == drift


def test_drift_that_cannot_be_corrected_is_still_reported() -> None:
    assert profile_drift(port(), NicProfile(ipv6=True), NEUTRON, (V4,)) == Drift(("ipv6",))


def test_subnets_of_reads_the_answer_and_skips_junk() -> None:
    answer = {
        "subnets": [
            {"id": " s6 ", "ip_version": 6, "cidr": "2001:db8::/64"},
            {"id": "x", "ip_version": 5, "cidr": "?"},
            "junk",
            {"id": 7},
        ]
    }
    assert subnets_of(answer) == (Subnet("s6", 6, "2001:db8::/64"),)
    assert subnets_of(["not", "a", "mapping"]) == ()


# ---------------------------------------------------------------- properties

ips = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.builds(
        lambda a, p: str(ipaddress.ip_network(f"{a}/{p}", strict=False)),
        st.ip_addresses(v=4),
        st.integers(8, 31),
    ),
)
macs = st.none() | st.just("fa:16:3e:aa:bb:cc")
profiles = st.builds(
    NicProfile,
    source_dest_check=st.booleans(),
    ipv6=st.just(False) | st.just(True),
    allowed_address_pairs=st.lists(st.builds(AddressPair, ips, macs), max_size=4).map(unique_pairs),
)


def neutron_create(fields: dict[str, Any]) -> dict[str, Any]:
    """What Neutron shows for a port made with ``fields``: its MAC filled into each pair,
    an address for each ``subnet_id`` entry (the emulator's and Neutron's behaviour)."""
    made = {"mac_address": MAC, "port_security_enabled": True, "fixed_ips": []}
    return neutron_update(made, fields)


def neutron_update(found: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    found = dict(found)
    if "allowed_address_pairs" in fields:
        found["allowed_address_pairs"] = [
            {"mac_address": found.get("mac_address"), **p} for p in fields["allowed_address_pairs"]
        ]
    if "fixed_ips" in fields:
        given_ips = {"s4": "10.0.0.9", "s6": "2001:db8::9"}
        found["fixed_ips"] = [
            {"ip_address": e.get("ip_address") or given_ips[e["subnet_id"]]}
            for e in fields["fixed_ips"]
        ]
    return found


@given(profiles, st.sampled_from(Flavour))
def test_a_port_made_from_the_fields_shows_no_drift(profile: NicProfile, flavour: Flavour) -> None:
    made = neutron_create(port_fields(None, profile, flavour, (V4, V6)))
    assert profile_drift(made, profile, flavour, (V4, V6)) == Drift()


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["10.0.0.100", "::/0", "1.1.1.1/0", "2001:db8::5"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)
ports = st.fixed_dictionaries(
    {},
    optional={
        "allowed_address_pairs": junk | st.lists(st.fixed_dictionaries({"ip_address": junk})),
        "fixed_ips": junk,
        "mac_address": junk,
        "port_security_enabled": junk,
    },
)


@given(ports, profiles, st.sampled_from(Flavour))
@example({"mac_address": "0\r"}, NicProfile(source_dest_check=False), Flavour.HUAWEI_VPC)
def test_any_port_answer_is_checked_and_one_correction_converges(
    found: dict[str, Any], profile: NicProfile, flavour: Flavour
) -> None:
    drift = profile_drift(found, profile, flavour, (V4, V6))
    assert bool(drift.fields) == bool(drift.body)
    if drift.body:
        fixed = neutron_update({"mac_address": MAC, **found}, drift.body["port"])
        assert profile_drift(fixed, profile, flavour, (V4, V6)).fields == ()
