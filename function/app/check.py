"""``nic-autoattach check``: read-only checks of a policy against the project it will act in.

What the compute API backends offer today is checked: the credentials and the endpoint work
(the project's first page of servers is read), the project is one the function may act in,
and the backend can do what the policy asks (the same refusal as at start-up). Networks,
subnets, ports and security groups are read through the network API (``check_network``);
without a network endpoint each is listed as not checked, one line each, so the report
never claims more than it checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from function.app.check_network import network_lines
from function.app.service import Service
from function.domain.errors import NicAttachError, TemporaryError
from function.domain.policy import Policy
from function.network.client import NetworkClient


@dataclass(frozen=True)
class Line:
    status: str  # "ok", "FAIL", "RETRY" or "unchecked"
    text: str

    def render(self) -> str:
        return f"{self.status:9} {self.text}"


def network_client(service: Service) -> NetworkClient | None:
    """The network API client (``NICATTACH_NETWORK_ENDPOINT``, or the Keystone catalog's)."""
    settings = service.settings
    if not settings.network_endpoint:
        return None
    timeout = (settings.connect_timeout_s, settings.read_timeout_s)
    return NetworkClient(
        service.session,
        settings.network_endpoint,
        service.auth,
        timing=service.timing,
        timeout=timeout,
    )


def check(service: Service, policy: Policy, project: str) -> list[Line]:
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
    found = network_lines(network_client(service), policy, project, service.deadline)
    return lines + [Line(status, text) for status, text in found]
