"""W3C Trace Context ``traceparent`` (https://www.w3.org/TR/trace-context/): parse and continue.

Pure: a malformed value is ``None`` (ignored), never an error; new span ids come from
the caller (``function.telemetry`` draws them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX = re.compile(r"[0-9a-f]+")
MAX_LENGTH = 512
"""Longer values are refused unread (a future version may append fields, not kilobytes)."""


@dataclass(frozen=True)
class TraceParent:
    """A W3C ``traceparent`` header's fields (version 00)."""

    trace_id: str  # 32 lowercase hex digits, not all zero
    span_id: str  # 16 lowercase hex digits, not all zero
    flags: str = "01"  # 2 hex digits; bit 0 is "sampled"

    def __str__(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    @property
    def sampled(self) -> bool:
        return int(self.flags, 16) & 1 == 1

    def child(self, span_id: str) -> TraceParent:
        """The same trace, continued by span ``span_id`` (16 hex digits)."""
        if parse_id(span_id, 16) is None:
            raise ValueError("a span id is 16 lowercase hex digits, not all zero")
        return TraceParent(self.trace_id, span_id, self.flags)


def parse_id(value: str, length: int) -> str | None:
    """``value`` if it is ``length`` lowercase hex digits and not all zero."""
    if len(value) != length or not _HEX.fullmatch(value) or value == "0" * length:
        return None
    return value


def parse(value: object) -> TraceParent | None:
    """The ``traceparent`` header or CloudEvents extension attribute, or ``None`` when it
    is absent or malformed. Version ``00`` must have exactly four fields; a later version
    may append fields (read as ``00``); version ``ff`` is invalid."""
    if not isinstance(value, str) or len(value) > MAX_LENGTH:
        return None
    fields = value.strip().split("-")
    if len(fields) < 4:
        return None
    version, trace_id, span_id, flags = fields[:4]
    if len(version) != 2 or not _HEX.fullmatch(version) or version == "ff":
        return None
    if version == "00" and len(fields) != 4:
        return None
    if len(flags) != 2 or not _HEX.fullmatch(flags):
        return None
    trace, span = parse_id(trace_id, 32), parse_id(span_id, 16)
    if trace is None or span is None:
        return None
    return TraceParent(trace, span, flags)
