"""The tokens the compute API accepts (``--token``, ``POST /_admin/tokens``, the seed).

A token is accepted for every project, or only for the projects it is bound
to; Keystone's 401 and Nova's 403 are raised here, before any compute work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from emulator.core.errors import Forbidden, Unauthorized


class TokenStore:
    """Accepted tokens → the projects they may act in (None = any). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, frozenset[str] | None] = {}

    def add(self, token: str, projects: Iterable[str] | None = None) -> None:
        """Accept ``token``; with ``projects``, only for those projects."""
        with self._lock:
            self._tokens[token] = None if projects is None else frozenset(projects)

    def authorize(self, token: str | None, project_id: str) -> None:
        """Unauthorized for an unknown token, Forbidden for a token bound elsewhere."""
        with self._lock:
            if token is None or token not in self._tokens:
                raise Unauthorized()
            projects = self._tokens[token]
        if projects is not None and project_id not in projects:
            raise Forbidden(f"Policy doesn't allow this token to act in project {project_id}.")

    def project_of(self, token: str | None, claimed: str | None) -> str:
        """The project a token acts in where no URL names one (the network API).

        A token bound to one project acts in it; a token for any project (or for
        several) names its project in ``X-Project-Id``, as keystonemiddleware passes
        it on. Unauthorized for an unknown token, Forbidden otherwise.
        """
        with self._lock:
            if token is None or token not in self._tokens:
                raise Unauthorized()
            projects = self._tokens[token]
        if claimed is None and projects is not None and len(projects) == 1:
            return next(iter(projects))
        if claimed is None:
            raise Forbidden("This token is not scoped to one project: send X-Project-Id.")
        if projects is not None and claimed not in projects:
            raise Forbidden(f"Policy doesn't allow this token to act in project {claimed}.")
        return claimed
