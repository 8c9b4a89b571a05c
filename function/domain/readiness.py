"""Which of a completed server's policy NICs are ready, not just attached (pure).

A NIC is *ready* when the compute API's last read shows its port ``ACTIVE`` and, where the
function has read the port through the network API, that read agrees: the port is still
there, on this server, ``ACTIVE``, and bound on a host (``binding:host_id`` set,
``binding:vif_type`` not ``unbound`` or ``binding_failed``). Neutron shows the binding to
administrators only: a field the answer does not carry decides nothing, a field it
carries must say "bound". A NIC the network API was asked about and did not show is not
ready: the function never announces a NIC it did not confirm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from function.domain.plan import Interface

READY_STATE = "ACTIVE"
UNBOUND = frozenset({"unbound", "binding_failed"})
"""``binding:vif_type`` values of a port no host has bound (Neutron's ``VIF_TYPE_*``)."""
HOST_ID = "binding:host_id"
VIF_TYPE = "binding:vif_type"
FIELDS = ("id", "status", "device_id", HOST_ID, VIF_TYPE)
"""What the readiness read asks the network API for (``fields=``)."""


@dataclass(frozen=True)
class Binding:
    """A port as the network API showed it; ``None``: the answer did not carry the field."""

    status: str | None = None
    device_id: str | None = None
    host_id: str | None = None
    vif_type: str | None = None

    def ready_on(self, server_id: str) -> bool:
        if self.status is not None and self.status.upper() != READY_STATE:
            return False
        if self.device_id is not None and self.device_id != server_id:
            return False
        if self.host_id is not None and not self.host_id:
            return False
        return self.vif_type is None or self.vif_type.lower() not in UNBOUND

    def to_json(self) -> dict[str, str]:
        """The host binding, as far as it was shown (empty when not)."""
        shown = {"host_id": self.host_id, "vif_type": self.vif_type}
        return {key: value for key, value in shown.items() if value is not None}


def binding_of(raw: Mapping[str, Any]) -> Binding:
    """A port of the network API's answer (any shape: a field of the wrong type is unshown)."""

    def shown(key: str) -> str | None:
        value = raw.get(key)
        return value.strip() if isinstance(value, str) else None

    return Binding(shown("status"), shown("device_id"), shown(HOST_ID), shown(VIF_TYPE))


@dataclass(frozen=True)
class ReadyNic:
    """A policy NIC found ready, and what the network API said of its port."""

    interface: Interface
    binding: Binding | None = None
    """What the network API showed of the port; ``None`` when it was not read."""


def ready_nics(
    server_id: str,
    interfaces: tuple[Interface, ...],
    ports: Mapping[str, Binding] | None,
) -> tuple[ReadyNic, ...]:
    """The ready ones of ``interfaces`` (a completed outcome's policy NICs, in order).

    ``ports``: the network API's read of them by port id, or ``None`` when the function
    has no network API (the compute API's ``port_state`` is all there is)."""
    ready = []
    for interface in interfaces:
        if interface.port_state.upper() != READY_STATE:
            continue
        binding = None if ports is None else ports.get(interface.port_id)
        if ports is not None and (binding is None or not binding.ready_on(server_id)):
            continue
        ready.append(ReadyNic(interface, binding))
    return tuple(ready)
