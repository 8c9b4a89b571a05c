"""The fault suite at a small size, inside `make test` (`make faults` runs 200 servers)."""

from __future__ import annotations

import pytest
from fault_suite import BACKENDS, DEADLINE_S, report, run


@pytest.mark.parametrize(
    ("backend", "ownership"), [*((b, "auto") for b in BACKENDS), ("nova", "port")]
)
def test_no_duplicates_no_missing_no_lost_no_unhandled(backend: str, ownership: str) -> None:
    figures = run(servers=24, workers=8, seed=3, backend=backend, ownership=ownership)
    print(report(figures))
    assert figures.events_sent == 24
    assert figures.deliveries >= 24 * 3
    assert sum(figures.faults_injected.values()) > 0, "faults were really injected"
    assert figures.missing_nics == 0, report(figures)
    # every NIC the function makes is provably its own (a device tag, or a port it named
    # first): every duplicate, even a killed copy's, is undone, on every backend
    assert figures.duplicate_nics == 0, report(figures)
    assert figures.extra_ports == 0 and figures.ports_left == 0, report(figures)
    assert figures.ok, report(figures)
    assert (figures.lost_events, figures.unhandled) == (0, 0), report(figures)
    assert figures.converged == 24, report(figures)
    assert figures.killed > 0, "copies were really killed mid-flight"
    # the deadline holds for every reply, whatever the API and the sink did (generous margin)
    assert figures.worst_reply_s <= DEADLINE_S + 3.0, report(figures)
