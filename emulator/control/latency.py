"""How long each compute call takes: a latency profile per call kind, like a real cloud's.

A real compute API answers a read in ~100 ms and holds an attach open for
seconds; a client's concurrency, deadlines and throughput only show against
that. ``Latency.delay`` sleeps the request's own server thread (the server is
threaded, so concurrent calls overlap as they would in a cloud) *before* the
backend acts, so an attach's change becomes visible when its POST answers,
as with Nova. The sleep and the random generator are injected: tests record
the delays instead of waiting for them.

Call kinds: ``attach`` (POST …/os-interface), ``detach`` (DELETE
…/os-interface/{port}), ``read`` (everything else, and every answer a fault
gives instead of the backend's).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, replace
from typing import Any

from emulator.core import clock
from emulator.core.wire import Request

KINDS = ("read", "attach", "detach")
Range = tuple[float, float]


@dataclass(frozen=True)
class LatencyProfile:
    """Milliseconds per call kind; ``jitter`` spreads each delay by ± that fraction."""

    name: str = "none"
    read_ms: float = 0.0
    #: (low, high): each attach draws uniformly between them; a fixed value is (v, v).
    attach_ms: Range = (0.0, 0.0)
    detach_ms: float = 0.0
    jitter: float = 0.0
    #: Seeds the generator the draws come from (None = not replayable).
    seed: int | None = None

    def __post_init__(self) -> None:
        low, high = self.attach_ms
        if min(self.read_ms, self.detach_ms, low) < 0 or high < low:
            raise ValueError(f"latency out of range: {self.as_dict()}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1, not {self.jitter}")

    def draw_ms(self, kind: str, rng: random.Random) -> float:
        """One delay for a call of ``kind``, in milliseconds."""
        if kind == "attach":
            base = rng.uniform(*self.attach_ms)
        else:
            base = self.detach_ms if kind == "detach" else self.read_ms
        spread = rng.uniform(-self.jitter, self.jitter) if self.jitter else 0.0
        return max(0.0, base * (1 + spread))

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.name,
            "read_ms": self.read_ms,
            "attach_ms": list(self.attach_ms),
            "detach_ms": self.detach_ms,
            "jitter": self.jitter,
            "seed": self.seed,
        }


#: The named profiles (``--latency NAME``, ``{"profile": NAME}``).
PROFILES = {
    "none": LatencyProfile(),
    "flat100": LatencyProfile("flat100", 100.0, (100.0, 100.0), 100.0),
    "cloud": LatencyProfile("cloud", 100.0, (1000.0, 3000.0), 1000.0, jitter=0.2),
}


def call_kind(request: Request) -> str:
    """``attach``, ``detach`` or ``read`` for a compute request."""
    if "/os-interface" in request.path:
        if request.method == "POST" and request.path.endswith("/os-interface"):
            return "attach"
        if request.method == "DELETE":
            return "detach"
    return "read"


def _attach_range(value: object) -> Range:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (float(value), float(value))
    if isinstance(value, list | tuple) and len(value) == 2:
        return (float(value[0]), float(value[1]))
    raise ValueError(f"attach_ms must be a number or [low, high], not {value!r}")


def build_profile(fields: dict[str, Any], base: LatencyProfile | None = None) -> LatencyProfile:
    """A profile from JSON-ish ``fields`` over ``base`` (or over ``fields["profile"]``).

    ``profile`` names the starting point; any other field given makes it ``custom``.
    """
    unknown = set(fields) - {"profile", "read_ms", "attach_ms", "detach_ms", "jitter", "seed"}
    if unknown:
        raise ValueError(f"unknown latency field(s): {', '.join(sorted(unknown))}")
    if "profile" in fields:
        name = fields["profile"]
        if name not in PROFILES:
            raise ValueError(f"unknown latency profile {name!r}: one of {sorted(PROFILES)}")
        base = PROFILES[name]
    profile = base or PROFILES["none"]
    changes: dict[str, Any] = {}
    for key in ("read_ms", "detach_ms", "jitter"):
        if key in fields:
            changes[key] = float(fields[key])
    if "attach_ms" in fields:
        changes["attach_ms"] = _attach_range(fields["attach_ms"])
    if changes:
        changes["name"] = "custom"
    if "seed" in fields:
        changes["seed"] = None if fields["seed"] is None else int(fields["seed"])
    return replace(profile, **changes)


class Latency:
    """The profile in force, changeable while serving. Thread-safe."""

    def __init__(
        self, profile: LatencyProfile | None = None, *, sleep: clock.Sleep = clock.sleep
    ) -> None:
        self._lock = threading.Lock()
        self._sleep = sleep
        self.profile = PROFILES["none"]
        self._rng = random.Random()
        self.set(profile or PROFILES["none"])

    def set(self, profile: LatencyProfile) -> dict[str, Any]:
        with self._lock:
            if profile.seed is not None or profile.seed != self.profile.seed:
                self._rng = random.Random(profile.seed)
            self.profile = profile
            return profile.as_dict()

    def delay(self, kind: str) -> float:
        """Sleep this thread as long as a call of ``kind`` takes; the seconds slept."""
        with self._lock:
            seconds = self.profile.draw_ms(kind, self._rng) / 1000
        if seconds > 0:
            self._sleep(seconds)
        return seconds
