"""What the fault suite counts in the emulator once the deliveries are done: NICs per
policy network, the function's ports and their NIC profiles."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fault_figures import Figures

from emulator.client import AdminClient

NETWORKS = ("3cb9bc59-5699-4588-a4b1-b87f96708bc6", "0dc714fa-9022-4a03-bb22-9821a396bb9d")
DUAL_NET = "6d7e8f90-0000-4000-8000-0000000fa017"
PROFILE_NETWORKS = (NETWORKS[0], DUAL_NET)


def function_ports(admin: AdminClient) -> list[dict[str, Any]]:
    return [p for p in admin.ports() if p["name"].startswith("nicattach-")]


def ports_first(backend: str, ownership: str) -> bool:
    """Whether every NIC is made from a port up front (then the policy carries profiles)."""
    return ownership == "port" or (ownership == "auto" and backend != "nova")


def profile_missing(port: dict[str, Any]) -> bool:
    """A port of the profile policy without what its profile asks for."""
    if port["network_id"] == DUAL_NET:
        return not any(":" in f["ip_address"] for f in port["fixed_ips"])
    return not port["allowed_address_pairs"]  # source_dest_check: false


def missing(admin: AdminClient, servers: list[str] | set[str], profiles: bool) -> int:
    """NICs missing on these servers (one per policy network)."""
    networks = PROFILE_NETWORKS if profiles else NETWORKS
    nets = [Counter(i["net_id"] for i in admin.interfaces(sid)) for sid in servers]
    return sum(1 for counts in nets for n in networks if not counts.get(n))


def check(
    admin: AdminClient, servers: list[str], figures: Figures, ports_first: bool, profiles: bool
) -> None:
    ports = function_ports(admin)
    figures.function_ports = len(ports)
    networks = PROFILE_NETWORKS if profiles else NETWORKS
    figures.profile_missing = sum(1 for p in ports if profiles and profile_missing(p))
    for server_id in servers:
        interfaces = admin.interfaces(server_id)
        nets = Counter(i["net_id"] for i in interfaces)
        counts = [nets.get(n, 0) for n in networks]
        figures.duplicate_nics += sum(max(0, c - 1) for c in counts)
        figures.missing_nics += sum(1 for c in counts if c == 0)
        figures.converged += all(c == 1 for c in counts)
        attached = {i["port_id"] for i in interfaces}
        named = [p for p in ports if p["name"].startswith(f"nicattach-{server_id}-")]
        wanted = len(networks) if ports_first else 0
        figures.extra_ports += max(0, len(named) - wanted)
        figures.extra_ports += sum(1 for p in named if p["id"] not in attached)
