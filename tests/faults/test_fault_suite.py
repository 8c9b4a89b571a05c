"""The fault suite at a small size, inside `make test` (`make faults` runs 200 servers)."""

from __future__ import annotations

import pytest
from fault_suite import ASYNC_RETRIES, BACKENDS, DEADLINE_S, KILL_RATE, report, run


@pytest.mark.parametrize(
    ("backend", "ownership", "kill_rate"),
    [
        *((b, "auto", KILL_RATE) for b in BACKENDS),
        ("nova", "port", KILL_RATE),
        # the profile policy (every NIC port first) with four in ten copies killed
        ("huawei-v1", "auto", 0.4),
        ("nova", "port", 0.4),
    ],
)
def test_no_duplicates_no_missing_no_lost_no_unhandled(
    backend: str, ownership: str, kill_rate: float
) -> None:
    figures = run(
        servers=24, workers=8, seed=3, backend=backend, ownership=ownership, kill_rate=kill_rate
    )
    print(report(figures))
    assert figures.events_sent == 24
    assert figures.deliveries >= 24 * 3 - figures.dead_lettered
    assert sum(figures.faults_injected.values()) > 0, "faults were really injected"
    # ports first (huawei-v1; nova --ownership port): the policy carries NIC profiles
    assert figures.profiles == (ownership == "port" or backend != "nova")
    # a delivery that completed left its server's NICs; the sweep leaves none missing
    assert figures.missing_before_sweep == 0, report(figures)
    assert figures.missing_nics == 0, report(figures)
    # every NIC the function makes is provably its own (a device tag, or a port it named
    # first): every duplicate, even a killed copy's, is undone, on every backend
    assert figures.duplicate_nics == 0, report(figures)
    assert figures.extra_ports == 0 and figures.ports_left == 0, report(figures)
    assert figures.profile_missing == 0, report(figures)
    assert figures.ok, report(figures)
    # the platform retries a delivery at most ASYNC_RETRIES times (serverless.yml)
    assert figures.replays <= 24 * 3 * ASYNC_RETRIES
    assert (figures.lost_events, figures.unhandled) == (0, 0), report(figures)
    assert figures.converged == 24, report(figures)
    assert figures.killed > 0, "copies were really killed mid-flight"
    # the deadline holds for every reply, whatever the API and the sink did (generous margin)
    assert figures.worst_reply_s <= DEADLINE_S + 3.0, report(figures)
