"""The network half of ``nic-autoattach check``: every network, port and security group the
policy names, read through the network API (``GET /v2.0/networks/{id}``, ``/v2.0/subnets``,
``/v2.0/ports/{id}``, ``/v2.0/security-groups``); reads only, one line each."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from function.domain.errors import NicAttachError, TemporaryError
from function.domain.policy import Policy
from function.domain.timing import Deadline
from function.network.client import NetworkClient

NO_ENDPOINT = "(no network endpoint: set NICATTACH_NETWORK_ENDPOINT)"

Line = tuple[str, str]  # (status, text)


def network_lines(
    client: NetworkClient | None, policy: Policy, project: str, deadline: Callable[[], Deadline]
) -> list[Line]:
    lines: list[Line] = []
    seen: set[tuple[str, str, str]] = set()
    for rule in policy.rules:
        for index, spec in enumerate(rule.attach):
            where = f"rule {rule.name!r} attach[{index}]"
            asks: list[tuple[str, str, str]] = []
            if spec.net_id:
                asks.append(("network", spec.net_id, spec.fixed_ip or ""))
                if spec.profile.ipv6:
                    asks.append(("ipv6 network", spec.net_id, spec.profile.ipv6_address or ""))
            if spec.port_id:
                asks.append(("port", spec.port_id, ""))
            asks += [("security group", group, "") for group in spec.security_groups]
            for kind, rid, ip in asks:
                if (kind, rid, ip) in seen:
                    continue
                seen.add((kind, rid, ip))
                label = f"{kind} {rid}{' ' + ip if ip else ''} ({where})"
                if client is None:
                    lines.append(("unchecked", f"{label} {NO_ENDPOINT}"))
                    continue
                try:
                    problem = _problem(client, project, kind, rid, ip, deadline())
                except NicAttachError as exc:
                    if isinstance(exc, TemporaryError):
                        lines.append(("RETRY", f"{label}: {exc.message}"))
                    elif exc.code.endswith("not_found"):
                        lines.append(("FAIL", f"{label}: not found in project {project}"))
                    else:
                        lines.append(("FAIL", f"{label}: {exc.message}"))
                    continue
                lines.append(("FAIL", f"{label}: {problem}") if problem else ("ok", label))
    return lines


def _problem(
    client: NetworkClient, project: str, kind: str, rid: str, ip: str, deadline: Deadline
) -> str:
    """What is wrong with one named resource, or ``""``."""
    if kind == "port":
        port = client.show_port(project, rid, deadline)
        return f"bound to another device ({port.device_id})" if port.device_id else ""
    if kind == "security group":
        found = client.security_group_ids(project, [rid], deadline)
        return "" if rid in found else f"not found in project {project}"
    client.show_network(project, rid, deadline)
    subnets = client.subnets(project, rid, deadline)
    if kind == "ipv6 network":
        subnets = [s for s in subnets if s.ip_version == 6]
        if not subnets:
            return "has no IPv6 subnet"
    if not subnets:
        return "has no subnet"
    if ip and not any(_contains(s.cidr, ip) for s in subnets):
        return f"no subnet contains {ip}"
    return ""


def _contains(cidr: str, ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
