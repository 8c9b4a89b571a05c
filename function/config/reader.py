"""Reading variables: every mistake collected, one line each, never a secret's value."""

from __future__ import annotations

import math
from collections.abc import Mapping

from function.domain.errors import NicAttachError

REFUSED = "<refused>"
"""Stands for a refused secret in settings that are never used (``from_env`` raises)."""


class ConfigError(NicAttachError):
    """The environment is incomplete or contradictory; the function cannot start.

    Not an ``InputError``: a start-up fault is the operator's, not a caller's 400.
    ``problems`` lists every mistake found, one line each."""

    code = "bad_config"

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class Reader:
    """Reads variables, collecting every mistake instead of stopping at the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def required(self, name: str) -> str:
        value = self.env.get(name, "").strip()
        if not value:
            self.problems.append(f"{name} is not set")
        return value

    def secret(self, name: str) -> str:
        """Stripped of surrounding white space; a value with white space or control
        characters inside is refused, naming the variable, never showing the value."""
        value = self.env.get(name, "").strip()
        if any(c.isspace() or not c.isprintable() for c in value):
            self.problems.append(f"{name} contains white space or control characters")
            return REFUSED  # not "": that would add a second, misleading "needs {name}"
        return value

    def choice(
        self,
        name: str,
        choices: tuple[str, ...],
        default: str,
        upper: bool = False,
        lower: bool = False,
    ) -> str:
        raw = self.env.get(name, "").strip()
        value = (raw.upper() if upper else raw.lower() if lower else raw) or default
        if value not in choices:
            self.problems.append(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
            return default
        return value

    def number(
        self, name: str, default: float, *, positive: bool = False, limit: float | None = None
    ) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            self.problems.append(f"{name} must be a number, got {raw!r}")
            return default
        if not math.isfinite(value):
            self.problems.append(f"{name} must be a finite number, got {raw!r}")
        elif value < 0:
            self.problems.append(f"{name} must not be negative, got {raw!r}")
        elif positive and value == 0:
            self.problems.append(f"{name} must be above 0, got {raw!r}")

        elif limit is not None and value > limit:
            self.problems.append(f"{name} must be at most {limit:g}, got {raw!r}")
        elif value > 1e9:
            self.problems.append(f"{name} is too large: {raw!r}")
        else:
            return value
        return default

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.env.get(name, "").strip().lower()
        if raw == "":
            return default
        if raw in ("0", "false", "no", "off"):
            return False
        if raw in ("1", "true", "yes", "on"):
            return True
        self.problems.append(f"{name} must be true or false, got {raw!r}")
        return False

    def marks(self, name: str) -> str:
        """``auto`` (default), or a flag: true/on → ``on``, false/off → ``off``."""
        raw = self.env.get(name, "").strip().lower()
        if raw in ("", "auto"):
            return "auto"
        return "on" if self.flag(name) else "off"


def csv_values(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())
