"""What a dry run found for one server (``Flow.preview``): reads only, a typed value.

The sweep counts these by their fields; the JSON form is made once, at the edge
(``app/views.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from function.domain.codes import SkipReason
from function.domain.policy import NicRequest


@dataclass(frozen=True)
class PreviewError:
    """Why the server could not be looked at (what ``run`` would fail with)."""

    code: str
    message: str
    retryable: bool


@dataclass(frozen=True)
class Preview:
    """The tags, the matching rules and what ``run`` would do now. A field left ``None``
    was not reached (the server was skipped, failed or pending before it)."""

    server_id: str
    project_id: str | None
    status: str | None = None
    tags: tuple[str, ...] | None = None
    """Set once the server's tags were read (with ``status`` and ``rules``)."""
    rules: tuple[str, ...] = ()
    skipped: SkipReason | None = None
    error: PreviewError | None = None
    pending: str | None = None
    """The server is not ready (``server is BUILD``): nothing planned yet."""
    would_attach: tuple[NicRequest, ...] | None = None
    would_detach: tuple[str, ...] = ()
    stale: tuple[str, ...] | None = None
    """Set when a plan was made: the function's NICs no request wants any more."""
    suspected_duplicates: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        """Something would be attached or undone."""
        return bool(self.would_attach or self.would_detach)
