"""The request log behind ``GET /_admin/requests``: the most recent calls, never a token."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

#: The request log keeps the most recent this many requests.
REQUEST_LOG_LIMIT = 100_000


class RequestLog:
    """A bounded, thread-safe list of JSON-ready entries."""

    def __init__(self, limit: int = REQUEST_LOG_LIMIT) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)

    def record(self, entry: Mapping[str, Any]) -> None:
        with self._lock:
            self._entries.append(dict(entry))

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
