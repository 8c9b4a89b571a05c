"""What many tests share: the sample ids (defined once), a virtual clock, service builders.

Importable from every test folder (``tests/conftest.py`` puts this folder on the path).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from function.app.service import Service
from function.app.wiring import build_service
from function.config import Settings
from function.domain.timing import Timing
from function.transport.session import HttpSession, Session

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "0605767a5a80d5762fe6c0125d3c5b0e"
"""The project of every sample event and of examples/emulator-seed.json."""
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
"""The seed's demo server (``events/server-created.json``)."""
STORAGE = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
BACKUP = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
TOKEN = "emulator-token"
JSON = {"Content-Type": "application/json"}


class VirtualTime:
    """A ``Timing`` whose sleeps take no real time: they move the clock forward.

    ``clock()`` is real elapsed time plus every sleep so far, so deadlines still
    bound real work, and a test that waits minutes of backoff runs in milliseconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self.slept = 0.0

    def clock(self) -> float:
        with self._lock:
            return time.monotonic() - self._start + self.slept

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept += max(0.0, seconds)

    @property
    def timing(self) -> Timing:
        return Timing(clock=self.clock, sleep=self.sleep, rng=lambda: 0.5)


def settings(endpoint: str, policy: Path | None = None, **values: Any) -> Settings:
    base = Settings(
        policy_path=str(policy or ROOT / "examples" / "policy.yaml"),
        ecs_endpoint=endpoint,
        network_endpoint=endpoint,  # the emulator serves /v2.0 on its own address
        token=TOKEN,
        wait_active_s=2.0,
        deadline_s=20.0,
        wait_port_active_s=2.0,
    )
    return replace(base, **values)


def service(
    endpoint: str,
    *,
    policy: Path | None = None,
    timing: Timing | None = None,
    session: HttpSession | None = None,
    **values: Any,
) -> Service:
    """A service aimed at ``endpoint``, built by the production wiring."""
    return build_service(
        settings(endpoint, policy, **values),
        timing=timing or VirtualTime().timing,
        session=session or Session(),
    )
