"""A NIC profile's ``public_ip``: an elastic IP (Huawei) or floating IP (Neutron) bound to
the function's port, exactly once.

Read before write: an EIP already bound to the port is the answer (an earlier delivery,
or a racing copy, bound it). A given address must exist and be free (or ours); a pool
(EIPs tagged ``key=value``) is tried free EIP by free EIP, starting at an offset the
port id decides (racing servers spread over the pool; a redelivery tries the same
order), and the cloud's refusal decides between two servers (Huawei: 409 on a bound EIP;
Neutron: 412 on an IP changed since it was read, ``If-Match: revision_number``): the
loser re-reads its port, then takes the next. The function never allocates an EIP,
so releasing one is unbinding it, which the cloud does when the port goes with its
server (Huawei v1 marks the function's ports ``delete_on_termination``).
"""

from __future__ import annotations

import hashlib
import logging

from function.domain.codes import ErrorCode
from function.domain.errors import ApiPermanentError, ApiTemporaryError, PermanentError
from function.domain.profile import PublicIp
from function.domain.timing import Deadline
from function.network.eips import Eip, PublicIps

log = logging.getLogger("nicattach.public_ip")


def ensure_public_ip(
    eips: PublicIps, project_id: str, port_id: str, want: PublicIp, deadline: Deadline
) -> Eip:
    """The EIP bound to ``port_id``, binding one when none is. Raises ``PermanentError``
    ``public_ip_not_found`` / ``public_ip_in_use`` / ``public_ip_pool_empty``."""
    bound = eips.find(project_id, deadline, port_id=port_id)
    if bound:
        return bound[0]
    if want.address is not None:
        return _given(eips, project_id, port_id, want.address, deadline)
    assert want.pool_tag is not None
    return _from_pool(eips, project_id, port_id, want.pool_tag, deadline)


def _given(eips: PublicIps, project_id: str, port_id: str, address: str, deadline: Deadline) -> Eip:
    found = eips.find(project_id, deadline, public_ip_address=address)
    if not found:
        raise PermanentError(
            f"public_ip {address}: no such elastic IP in the project",
            code=ErrorCode.PUBLIC_IP_NOT_FOUND,
        )
    eip = found[0]
    if eip.port_id == port_id:  # a racing copy of this delivery bound it meanwhile
        return eip
    bound = _bind(eips, project_id, eip, port_id, deadline) if eip.port_id == "" else None
    if bound is not None:
        return bound
    raise PermanentError(
        f"public_ip {address}: bound to another port", code=ErrorCode.PUBLIC_IP_IN_USE
    )


def _from_pool(
    eips: PublicIps, project_id: str, port_id: str, tag: tuple[str, str], deadline: Deadline
) -> Eip:
    pool = eips.tagged(project_id, tag[0], tag[1], deadline)
    if pool:
        start = int(hashlib.sha256(port_id.encode()).hexdigest()[:8], 16) % len(pool)
        pool = pool[start:] + pool[:start]
    for eip in pool:
        if eip.port_id == port_id:  # a racing copy of this delivery bound it meanwhile
            return eip
        bound = _bind(eips, project_id, eip, port_id, deadline) if eip.port_id == "" else None
        if bound is not None:
            log.info("bound EIP %s (pool %s=%s) to port %s", bound.address, *tag, port_id)
            return bound
    raise PoolEmpty(
        f"public_ip pool {tag[0]}={tag[1]}: no free IP",
        holders=tuple(eip.port_id for eip in pool if eip.port_id),
    )


class PoolEmpty(PermanentError):
    """Every IP of the pool is bound. ``holders``: the ports they are bound to (one may be
    an extra port of a racing copy, about to be deleted: then it is worth a retry)."""

    code = ErrorCode.PUBLIC_IP_POOL_EMPTY

    def __init__(self, message: str, *, holders: tuple[str, ...]) -> None:
        super().__init__(message)
        self.holders = holders


def _bind(
    eips: PublicIps, project_id: str, eip: Eip, port_id: str, deadline: Deadline
) -> Eip | None:
    """Bind; on a refusal (409: another port won it, or a racing copy of this delivery
    bound the port to an EIP) re-read the port: its EIP if it has one, else ``None``."""
    try:
        eips.bind(project_id, eip, port_id, deadline)
        return Eip(eip.id, eip.address, port_id)
    except (ApiPermanentError, ApiTemporaryError) as exc:
        if exc.status not in (409, 412):  # bound meanwhile (EIP), changed meanwhile (Neutron)
            raise
    mine = eips.find(project_id, deadline, port_id=port_id)
    return mine[0] if mine else None
