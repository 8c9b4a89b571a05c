"""Resource ids: the caller's, or a fresh UUID like OpenStack's."""

from __future__ import annotations

import uuid


def new_id(given: str | None) -> str:
    return given.strip() if given and given.strip() else str(uuid.uuid4())
