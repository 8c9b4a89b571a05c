"""``nic-autoattach check``: read-only checks of a policy against the project it will act in.

What the compute API backends offer today is checked: the credentials and the endpoint work
(the project's first page of servers is read), the project is one the function may act in,
and the backend can do what the policy asks (the same refusal as at start-up). Networks,
subnets, security groups and ports live in the network API, for which there is no client
yet: ``NetworkLookup`` is the seam a client will fill; until then each is listed as not
checked, one line each, so the report never claims more than it checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from function.app.service import Service
from function.domain.errors import NicAttachError, TemporaryError
from function.domain.policy import Policy


class NetworkLookup(Protocol):
    """What ``check`` asks of a network API (Neutron, Huawei VPC); ``None`` = no client."""

    def exists(self, project_id: str, kind: str, resource_id: str) -> bool: ...


@dataclass(frozen=True)
class Line:
    status: str  # "ok", "FAIL", "RETRY" or "unchecked"
    text: str

    def render(self) -> str:
        return f"{self.status:9} {self.text}"


def named_resources(policy: Policy) -> list[tuple[str, str, str]]:
    """(kind, id, where) for every network, port and security group the policy names."""
    found: dict[tuple[str, str], str] = {}
    for rule in policy.rules:
        for index, spec in enumerate(rule.attach):
            where = f"rule {rule.name!r} attach[{index}]"
            if spec.net_id:
                found.setdefault(("network", spec.net_id), where)
            if spec.port_id:
                found.setdefault(("port", spec.port_id), where)
            for group in spec.security_groups:
                found.setdefault(("security group", group), where)
    return [(kind, rid, where) for (kind, rid), where in found.items()]


def check(
    service: Service, policy: Policy, project: str, network: NetworkLookup | None = None
) -> list[Line]:
    """Every check, one line each; reads only."""
    backend = service.backend
    lines = [
        Line(
            "ok",
            f"policy {policy.source}: {len(policy.rules)} rules, "
            f"usable by the {backend.name} backend",
        )
    ]
    if not service.settings.project_allowed(project):
        lines.append(
            Line(
                "FAIL",
                f"project {project}: not one the function may act in (NICATTACH_ALLOWED_PROJECTS)",
            )
        )
        return lines
    try:
        page = backend.list_servers(project, service.deadline())
    except NicAttachError as exc:
        status = "RETRY" if isinstance(exc, TemporaryError) else "FAIL"
        return [*lines, Line(status, f"compute API, project {project}: {exc.message}")]
    more = " (first page)" if page.next_marker else ""
    lines.append(
        Line(
            "ok",
            f"compute API, project {project}: credentials accepted, "
            f"{len(page.servers)} servers listed{more}",
        )
    )
    for kind, resource_id, where in named_resources(policy):
        if network is None:
            lines.append(
                Line("unchecked", f"{kind} {resource_id} ({where}): no network API client yet")
            )
        elif network.exists(project, kind, resource_id):
            lines.append(Line("ok", f"{kind} {resource_id} ({where}) exists"))
        else:
            lines.append(
                Line("FAIL", f"{kind} {resource_id} ({where}): not found in project {project}")
            )
    return lines
