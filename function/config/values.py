"""How the policy loader shows values in messages: the text as written, and the fix.

YAML 1.1 reads unquoted ``off``, ``yes``, ``1`` or ``2024-01-01`` as booleans, numbers
and dates; :class:`YamlScalar` keeps the text as written so that a message can say
"quote it" (and a key that wants a boolean can still take one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "YamlScalar", "got", "scalar", "show", "show_key"]

MISSING: Any = object()


@dataclass(frozen=True)
class YamlScalar:
    """A YAML scalar that is not a string (boolean, number, date), with the text as written."""

    value: object
    text: str
    kind: str


def scalar(raw: object) -> object:
    """The value YAML made of ``raw`` (``True`` for an unquoted ``true``), else ``raw``."""
    return raw.value if isinstance(raw, YamlScalar) else raw


def show_key(key: object) -> str:
    if isinstance(key, YamlScalar):
        return key.text
    return key if isinstance(key, str) else repr(key)


def show(raw: object) -> str:
    if isinstance(raw, list):
        return "[" + ", ".join(show(item) for item in raw) + "]"
    return raw.text if isinstance(raw, YamlScalar) else repr(raw)


def got(raw: object) -> str:
    """How a wrong value looks, with the fix when YAML changed what was written."""
    if isinstance(raw, YamlScalar):
        return f'YAML reads unquoted {raw.text} as a {raw.kind}: quote it: "{raw.text}"'
    if isinstance(raw, bool):
        return f"got the boolean {str(raw).lower()}: quote it"
    if isinstance(raw, int | float):
        return f"got the number {raw}: quote it"
    if raw is None or raw is MISSING:
        return "got nothing (an empty value)"
    if isinstance(raw, str):
        return f"got the string {raw!r}"
    if isinstance(raw, list | Mapping):
        return "got a list" if isinstance(raw, list) else "got a mapping"
    return f"got a {type(raw).__name__}"
