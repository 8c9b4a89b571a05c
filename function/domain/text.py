"""Small text helpers every layer shares: one way to shorten, one way to check a UUID."""

from __future__ import annotations

import uuid


def shorten(text: str, limit: int = 80) -> str:
    """One line (white space collapsed) of at most ``limit`` characters, for messages."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def canonical_uuid(text: str) -> str | None:
    """The lower-case, hyphenated form of a UUID written with or without hyphens;
    ``None`` for anything else (``uuid.UUID`` also takes urn: and {braced} forms: not we)."""
    text = text.strip()
    if len(text) not in (32, 36):
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
