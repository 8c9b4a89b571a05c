"""A NIC profile's ``ipv6_bandwidth`` (huawei-v1): the function's IPv6 port in a shared
bandwidth, exactly once.

The v1 NIC API's own ``ipv6_bandwidth`` is not used: the function attaches its port by
``port_id``, and the API applies only the port then. The port is added afterwards with
the VPC bandwidth API (``network/bandwidths.py``). Read before write: a port already in
the bandwidth's ``publicip_info`` is the answer (an earlier delivery, or a racing copy,
added it); an insert the API refuses is followed by one re-read, and the port found
there is success (a racing copy won). A port missing from the bandwidth on a delivery
that attached nothing lost its place (someone removed it): that is drift, reported and,
with ``fix``, put back. The entry goes with the port: the server's deletion deletes
the port (``delete_on_termination``), and a deleted port is no longer listed in a
bandwidth.
"""

from __future__ import annotations

import logging

from function.domain.codes import ErrorCode
from function.domain.errors import ApiPermanentError, ApiTemporaryError, PermanentError
from function.domain.port_profile import PortDrift
from function.domain.timing import Deadline
from function.network.bandwidths import SharedBandwidths

log = logging.getLogger("nicattach.bandwidth")

FIELD = "ipv6_bandwidth"
"""The profile key, as ``profile_drift`` names it."""


def bandwidth_drift(
    bandwidths: SharedBandwidths,
    project_id: str,
    port_id: str,
    bandwidth_id: str,
    deadline: Deadline,
    drift: PortDrift | None,
    *,
    attached: bool,
    fix: bool,
) -> PortDrift | None:
    """The port in its bandwidth; ``drift`` (the port's own fields) with ``ipv6_bandwidth``
    added when the port had lost its place. ``attached``: this delivery attached a NIC,
    so a port missing from the bandwidth is a first insert, not drift."""
    lost = ensure_in_bandwidth(
        bandwidths, project_id, port_id, bandwidth_id, deadline, drifted=not attached, fix=fix
    )
    if not lost:
        return drift
    if drift is None:
        return PortDrift(port_id, (FIELD,), fix)
    return PortDrift(port_id, (*drift.fields, FIELD), drift.corrected and fix)


def ensure_in_bandwidth(
    bandwidths: SharedBandwidths,
    project_id: str,
    port_id: str,
    bandwidth_id: str,
    deadline: Deadline,
    *,
    drifted: bool,
    fix: bool,
) -> bool:
    """Make ``port_id`` a member of ``bandwidth_id``. ``drifted``: a missing entry is drift
    (the port was attached before this delivery), inserted only with ``fix``. Returns
    whether that drift was found. Raises ``PermanentError`` ``bandwidth_not_found``."""
    if port_id in _members(bandwidths, project_id, bandwidth_id, deadline):
        return False
    if drifted and not fix:
        log.warning("port %s is not in bandwidth %s; reported only", port_id, bandwidth_id)
        return True
    try:
        bandwidths.insert(project_id, bandwidth_id, port_id, deadline)
    except (ApiPermanentError, ApiTemporaryError) as exc:
        if exc.status is None or exc.status >= 500 or exc.status in (401, 429):
            raise
        if port_id not in _members(bandwidths, project_id, bandwidth_id, deadline):
            raise
        log.info("port %s was added to bandwidth %s meanwhile", port_id, bandwidth_id)
        return drifted
    log.info("added port %s to bandwidth %s", port_id, bandwidth_id)
    return drifted


def _members(
    bandwidths: SharedBandwidths, project_id: str, bandwidth_id: str, deadline: Deadline
) -> frozenset[str]:
    try:
        return bandwidths.members(project_id, bandwidth_id, deadline)
    except ApiPermanentError as exc:
        if exc.status != 404:
            raise
        raise PermanentError(
            f"ipv6_bandwidth {bandwidth_id}: no such shared bandwidth in the project",
            code=ErrorCode.BANDWIDTH_NOT_FOUND,
        ) from exc
