"""The function's own ports: found by name, created, removed, collected.

``PortOwner`` is the converger's and the sweep's view of the network API: the
ports the function named (``domain/ownership.py``) are the only proof that a NIC
is its own on an API without device tags. Everything here is idempotent: a port
already gone is done, a port found by name is the one a previous delivery made.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from function.domain.codes import ErrorCode
from function.domain.errors import ApiPermanentError
from function.domain.ownership import Port, description, port_name, server_of
from function.domain.policy import NicRequest
from function.domain.port_profile import (
    Flavour,
    PortDrift,
    Subnet,
    port_fields,
    profile_drift,
    subnets_of,
)
from function.domain.timing import Deadline
from function.network.bandwidths import SharedBandwidths
from function.network.client import NetworkClient
from function.network.eips import PublicIps

log = logging.getLogger("nicattach.ports")


class PortOwner:
    """The function's ports through ``NetworkClient``; thread-safe, no state."""

    def __init__(
        self,
        client: NetworkClient,
        *,
        describe: bool = True,
        flavour: Flavour = Flavour.NEUTRON,
        eips: PublicIps | None = None,
        bandwidths: SharedBandwidths | None = None,
    ) -> None:
        self.client = client
        self.eips = eips
        """Elastic or floating IPs, for ``public_ip``."""
        self.bandwidths = bandwidths
        """Huawei's shared bandwidths, for ``ipv6_bandwidth``."""
        self.flavour = flavour
        """How the network API spells the profile (Huawei's VPC: ``1.1.1.1/0``)."""
        self._describe = describe
        """Write the rules in the port's ``description`` (Neutron has the field; Huawei's
        VPC documents no ``description`` on ``POST /v2.0/ports``, so it is not sent there)."""

    def find(
        self, project_id: str, server_id: str, nics: Iterable[NicRequest], deadline: Deadline
    ) -> tuple[Port, ...]:
        """The ports named for ``nics`` on ``server_id``: one list call for all of them."""
        names = sorted({port_name(server_id, nic) for nic in nics if nic.port_id is None})
        if not names:
            return ()
        return tuple(self.client.list_ports(project_id, deadline, names=names))

    def create(self, project_id: str, server_id: str, nic: NicRequest, deadline: Deadline) -> Port:
        """A new port for ``nic``: its network, fixed IP and security groups, the name that
        makes it the function's, the rules in its description, its profile's fields.
        Raises ``NoIpv6Subnet`` (permanent) for ``ipv6`` on a network without IPv6."""
        subnets = self.subnets(project_id, nic, deadline)
        extra = port_fields(nic.fixed_ip, nic.profile, self.flavour, subnets)
        port = self.client.create_port(
            project_id,
            deadline,
            name=port_name(server_id, nic),
            network_id=nic.net_id or "",
            fixed_ip=nic.fixed_ip,
            security_groups=nic.security_groups,
            description=description(nic) if self._describe else None,
            extra=extra,
        )
        log.info("created port %s for server %s on net %s", port.id, server_id, nic.net_id)
        return port

    def subnets(self, project_id: str, nic: NicRequest, deadline: Deadline) -> tuple[Subnet, ...]:
        """The network's subnets, read only when the profile asks for IPv6."""
        if not nic.profile.ipv6 or not nic.net_id:
            return ()
        return subnets_of(self.client.list_subnets(project_id, nic.net_id, deadline))

    def check_profile(
        self, project_id: str, port_id: str, nic: NicRequest, deadline: Deadline, *, fix: bool
    ) -> PortDrift | None:
        """Read the port and compare it with ``nic``'s profile; with ``fix``, put back what it
        lost (one ``PUT``, only the drifted fields, the port's other pairs kept). ``None``:
        the port matches. A refused ``PUT`` (403 on a network shared from another project)
        is reported, not fatal: the NIC is there, only its profile is not."""
        port = self.client.get_port(project_id, port_id, deadline)
        drift = profile_drift(
            port, nic.profile, self.flavour, self.subnets(project_id, nic, deadline)
        )
        if not drift.fields:
            return None
        corrected = False
        if fix and drift.body:
            try:
                self.client.update_port(project_id, port_id, drift.body, deadline)
                corrected = True
            except ApiPermanentError as exc:
                log.warning("port %s: profile not restored (%s)", port_id, exc.code)
        log.warning(
            "port %s drifted from its profile (%s); %s",
            port_id,
            ", ".join(drift.fields),
            "corrected" if corrected else "reported only",
        )
        return PortDrift(port_id, drift.fields, corrected)

    def any_extra(self, project_id: str, port_ids: tuple[str, ...], deadline: Deadline) -> bool:
        """Whether any of ``port_ids`` is an extra port of the function's (a racing copy made
        two with one name: all but the lowest id are deleted soon), one left unbound, or one
        gone since (its IP is free now)."""
        held = self.client.list_ports(project_id, deadline, ids=port_ids)
        if len({p.id for p in held}) < len(set(port_ids)):
            return True  # deleted since the pool was read: its IP is free now
        named = [p for p in held if server_of(p.name) is not None]
        if not named:
            return False
        if any(not p.device_id for p in named):
            return True
        same = self.client.list_ports(project_id, deadline, names=sorted({p.name for p in named}))
        return any(any(other.name == p.name and other.id < p.id for other in same) for p in named)

    def delete(self, project_id: str, port_id: str, deadline: Deadline) -> None:
        """Delete one of the function's ports; one already gone is done."""
        try:
            self.client.delete_port(project_id, port_id, deadline)
        except ApiPermanentError as exc:
            if exc.status != 404 and exc.code != ErrorCode.PORT_NOT_FOUND:
                raise

    def of_project(self, project_id: str, deadline: Deadline) -> list[tuple[str, Port]]:
        """The function's unbound ports in the project (one list call, ``device_id=``),
        with the server each name is for."""
        found = []
        for port in self.client.list_ports(project_id, deadline, device_id=""):
            server = server_of(port.name)
            if server is not None:
                found.append((server, port))
        return found

    def release(self, project_id: str, server_id: str, deadline: Deadline) -> list[str]:
        """Delete the function's unbound ports made for ``server_id`` (the server is gone).
        Returns the ids deleted."""
        deleted = []
        for server, port in self.of_project(project_id, deadline):
            if server != server_id:
                continue
            self.delete(project_id, port.id, deadline)
            log.info("deleted port %s of server %s (the server is gone)", port.id, server_id)
            deleted.append(port.id)
        return deleted
