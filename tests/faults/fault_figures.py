"""The fault suite's figures and their report (``fault_suite.py`` runs the suite)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEADLINE_S = 8.0
"""Every delivery's deadline (``NICATTACH_DEADLINE_S``)."""


@dataclass
class Figures:
    backend: str = "nova"
    servers: int = 0
    events_sent: int = 0
    deliveries: int = 0
    replays: int = 0
    converged: int = 0
    duplicate_nics: int = 0
    missing_nics: int = 0
    """NICs missing once the deliveries and the TIMER sweep are done."""
    lost_events: int = 0
    """Events whose every delivery was dead-lettered (their servers are the sweep's)."""
    dead_lettered: int = 0
    """Deliveries that ran out of the platform's retries (failure destination)."""
    retry_reasons: dict[str, int] = field(default_factory=dict)
    """Why deliveries were retried: ``killed``, or the 503 outcome's label."""
    missing_before_sweep: int = 0
    """NICs missing, before the sweep, on servers with a completed delivery."""
    swept_nics: int = 0
    """NICs the TIMER sweep attached (on servers whose every delivery was dead-lettered)."""
    unhandled: int = 0
    wall_s: float = 0.0
    api_requests: int = 0
    """Requests the emulator answered for the function (all deliveries and replays)."""
    killed: int = 0
    """Deliveries whose copy was killed mid-flight (the platform redelivers them)."""
    sink_failures: int = 0
    worst_reply_s: float = 0.0
    """The slowest reply of any delivery, against ``DEADLINE_S``."""
    outcomes: dict[str, int] = field(default_factory=dict)
    faults_injected: dict[str, int] = field(default_factory=dict)

    ownership: str = "auto"
    profiles: bool = False
    """Whether the policy was ``PROFILE_POLICY`` (NIC profiles; every NIC port first)."""
    reported_duplicates: int = 0
    """Duplicates the final sweep reports as ``suspected_duplicates``."""
    function_ports: int = 0
    """Ports the function named (one per NIC it made, when it makes them from ports)."""
    extra_ports: int = 0
    """Named ports beyond one per policy network of a server, or not attached to it."""
    ports_left: int = 0
    """The function's ports still there after every server was deleted and a sweep ran."""
    ports_collected: int = 0
    profile_missing: int = 0
    """The function's ports without their profile (the check's pair, or an IPv6 address)."""

    @property
    def ok(self) -> bool:
        """No duplicate (left or reported), missing (before the sweep where a delivery
        completed, after it anywhere) or unhandled; no extra port of the function, and
        none left once the servers are gone. Dead-lettered deliveries are the platform's
        bounded retries at work: reported, the sweep covers their servers."""
        ports = not (self.extra_ports or self.ports_left or self.profile_missing)
        return ports and not (
            self.duplicate_nics or self.missing_nics or self.missing_before_sweep or self.unhandled
        )


def report(figures: Figures, retries: int) -> str:
    """The figures, one per line; ``retries``: the platform's budget per delivery."""
    faults = figures.faults_injected
    rows = [
        ("backend", f"{figures.backend} (ownership {figures.ownership})"),
        ("events sent", figures.events_sent),
        ("deliveries (incl. replays)", figures.deliveries),
        ("servers converged", f"{figures.converged}/{figures.servers}"),
        (
            "duplicate NICs",
            f"{figures.duplicate_nics} left, {figures.reported_duplicates} reported by the sweep",
        ),
        (
            "ports made by the function",
            f"{figures.function_ports} ({figures.extra_ports} extra or unattached)",
        ),
        (
            "its ports left after deleting every server and a sweep",
            f"{figures.ports_left} ({figures.ports_collected} collected by the sweep)",
        ),
        (
            "missing NICs",
            f"{figures.missing_nics} ({figures.missing_before_sweep} before the sweep, "
            "on servers with a completed delivery)",
        ),
        ("ports without their NIC profile", figures.profile_missing),
        (
            "retries (platform budget)",
            f"{figures.replays} (at most {retries} per delivery), "
            + ", ".join(f"{k} {v}" for k, v in sorted(figures.retry_reasons.items())),
        ),
        (
            "dead-lettered deliveries",
            f"{figures.dead_lettered} "
            f"({figures.lost_events} events with every delivery dead-lettered, "
            f"{figures.swept_nics} NICs attached by the sweep)",
        ),
        ("unhandled exceptions", figures.unhandled),
        ("copies killed mid-flight", figures.killed),
        ("sink deliveries failed", f"{figures.sink_failures} (the outcomes stand)"),
        (
            "worst reply / deadline",
            f"{figures.worst_reply_s} s / {DEADLINE_S} s "
            f"({figures.worst_reply_s / DEADLINE_S:.2f})",
        ),
        ("wall time", f"{figures.wall_s} s"),
        (
            "API requests",
            f"{figures.api_requests} "
            f"({figures.api_requests / max(1, figures.deliveries):.1f} per delivery)",
        ),
        ("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(figures.outcomes.items()))),
        ("faults injected", ", ".join(f"{k} {v}" for k, v in sorted(faults.items()))),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
