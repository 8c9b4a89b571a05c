"""An ML2 mechanism driver that binds every port on any host: the stand-in for an L2 agent.

Only for the end-to-end case (``serve.py --bind-any-host``), where Nova's
compute binds the ports it attaches: without a driver that binds, Nova sees
``binding_failed`` and refuses the attach. vif_type ``ovs``, status ACTIVE, as
an Open vSwitch agent on the host would report.
"""

from __future__ import annotations

from typing import Any

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api

ENTRY_POINT = "anyhost = binder:AnyHostDriver"


class AnyHostDriver(api.MechanismDriver):  # type: ignore[misc]
    def initialize(self) -> None:
        """Nothing to set up."""

    def bind_port(self, context: Any) -> None:
        segment = context.segments_to_bind[0]
        context.set_binding(
            segment[api.ID],
            portbindings.VIF_TYPE_OVS,
            {portbindings.CAP_PORT_FILTER: True},
            status=constants.PORT_STATUS_ACTIVE,
        )
