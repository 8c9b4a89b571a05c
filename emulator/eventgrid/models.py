"""``FakeEventGrid``: the channels' published events, in the order they arrived."""

from __future__ import annotations

import threading
from typing import Any


class FakeEventGrid:
    """Every event published to any channel (``published``), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._published: list[dict[str, Any]] = []

    def publish(self, events: list[dict[str, Any]]) -> None:
        with self._lock:
            self._published.extend(events)

    @property
    def published(self) -> list[dict[str, Any]]:
        """A copy of what was published so far."""
        with self._lock:
            return list(self._published)

    def reset(self) -> None:
        with self._lock:
            self._published.clear()
