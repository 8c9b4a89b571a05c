"""``NICATTACH_READY_EVENT``: after the completion events, one ``nicattach.nic.ready`` event
per policy NIC that is ready (``domain/readiness.py``), through the same sink.

With a network API the ports are read once more (one ``GET /v2.0/ports?id=…`` per project
and up to ``CHUNK`` ports), so the event says what the cloud shows now, not what an earlier
read showed. A read that fails sends no ready event for those servers (logged): the
function never announces a NIC it did not confirm. A NIC not ready yet gets no event; a
later delivery that finds it ready sends it then, with the same id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from function.delivery import emit
from function.delivery.ready import ready_cloudevent
from function.domain.errors import NicAttachError
from function.domain.outcome import Kind, Outcome
from function.domain.readiness import Binding, ready_nics
from function.domain.timing import Deadline
from function.network.client import NetworkClient

log = logging.getLogger("nicattach.ready")
CHUNK = 40
"""Port ids per read (each ``id=`` costs ~40 characters of the URL)."""


class Unconfirmed(Exception):
    """The ports could not be read: no ready event for them."""


class ReadyEvents:
    def __init__(self, sink: emit.Sink, network: NetworkClient | None, source: str) -> None:
        self._sink = sink
        self._network = network
        self._source = source

    def send(
        self,
        outcomes: Sequence[Outcome],
        deadline: Deadline,
        correlation_id: str | None = None,
        traceparent: str | None = None,
    ) -> int:
        """Send the ready events of ``outcomes``' completed servers; how many were delivered."""
        done = [o for o in outcomes if o.kind is Kind.COMPLETED and o.interfaces]
        delivered = 0
        for project, group in _by_project(done):
            try:
                ports = self._read(project, group, deadline)
            except Unconfirmed as exc:
                log.warning("no ready event for %d server(s): %s", len(group), exc)
                continue
            for outcome in group:
                for nic in ready_nics(outcome.server_id, outcome.interfaces, ports):
                    event = ready_cloudevent(
                        outcome.server_id,
                        outcome.project_id,
                        nic,
                        self._source,
                        correlation_id,
                        traceparent,
                    )
                    delivered += self._sink.send(event, deadline)
        return delivered

    def _read(
        self, project: str | None, group: Sequence[Outcome], deadline: Deadline
    ) -> dict[str, Binding] | None:
        """The group's ports by id; ``None`` without a network API."""
        if self._network is None:
            return None
        if project is None or deadline.expired:
            raise Unconfirmed(
                "no project to read the ports in" if project is None else "the deadline passed"
            )
        ids = [i.port_id for o in group for i in o.interfaces]
        found: dict[str, Binding] = {}
        try:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                found.update(self._network.port_bindings(project, chunk, deadline))
        except NicAttachError as exc:
            raise Unconfirmed(f"the ports could not be read ({exc.message})") from None
        return found


def _by_project(outcomes: Iterable[Outcome]) -> list[tuple[str | None, list[Outcome]]]:
    groups: dict[str | None, list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.project_id, []).append(outcome)
    return list(groups.items())
