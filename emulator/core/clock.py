"""Time as the emulator sees it: an injectable monotonic clock and sleep.

Everything that changes with time (BUILD → ACTIVE, ports DOWN → ACTIVE,
delayed detaches, latency) reads a ``Clock`` or calls a ``Sleep`` handed in
at construction, so tests drive time instead of waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Monotonic seconds (``time.monotonic`` or a test's fake).
Clock = Callable[[], float]
#: Blocks the calling thread for that many seconds (``time.sleep`` or a test's recorder).
Sleep = Callable[[float], None]

monotonic: Clock = time.monotonic
sleep: Sleep = time.sleep
