"""Every shape a server's tags arrive in, reduced to one model the policy can match.

Tags come as Nova/ECS strings (``"key=value"``, ``"key"`` alone for an empty
value), as Huawei ``[{"key": ..., "value": ...}]`` objects, as Nova
notification tag lists, or as a generic ``{"key": "value"}`` object. Nova
tags are a set of strings, so one key may carry several values; the policy
treats a condition as holding when ANY of them matches.

Normalization (the same for every shape):

- keys and values are case-sensitive and kept as written, except that
  white space around a key and around a value is stripped (``" env = prod"``
  is ``env=prod``): no console or CLI lets an operator see it, so it is
  never meant;
- a ``"k=v"`` string is split at the FIRST ``=``: the value may contain ``=``;
- a missing or ``None`` value is the empty value ``""``;
- an empty key, a non-string key or value, a number, a nested object: the
  whole input is rejected with :class:`~function.domain.errors.InputError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from function.domain.errors import InputError

__all__ = ["Tags", "parse_tags", "salvage_tags"]


@dataclass(frozen=True)
class Tags:
    """key -> frozenset of values (a key may carry several values)."""

    values: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def get(self, key: str) -> frozenset[str]:
        """The values of ``key``; an empty frozenset if the server has no such tag."""
        return self.values.get(key, frozenset())

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def __len__(self) -> int:
        return len(self.values)

    def __hash__(self) -> int:
        return hash(frozenset(self.values.items()))

    def as_strings(self) -> list[str]:
        """Sorted ``"k=v"`` strings (``"k"`` alone for an empty value), as Nova shows them."""
        return sorted(
            f"{key}={value}" if value else key
            for key, values in self.values.items()
            for value in values
        )


def parse_tags(raw: object) -> Tags:
    """Normalize any supported tag shape into :class:`Tags`; ``None`` is no tags.

    Accepted: a list of ``"k=v"`` strings and/or ``{"key": k, "value": v}``
    objects (other keys of such an object are ignored), or a mapping
    ``{k: v | [v, ...] | None}``. Raises ``InputError`` for anything else.
    """
    if raw is None:
        return Tags({})
    if isinstance(raw, Mapping):
        return _collect(_pairs_from_mapping(raw))
    if isinstance(raw, list | tuple):
        return _collect(_pair_from_item(item, index) for index, item in enumerate(raw))
    raise InputError(f"tags must be a list or an object, got {_kind(raw)}")


def _describe(item: object, limit: int = 64) -> str:
    """An unusable tag as its JSON text (cut), for a log field: never a Python repr."""
    try:
        text = json.dumps(item, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = type(item).__name__
    return text if len(text) <= limit else text[:limit] + "…"


def _collect(pairs: Iterable[tuple[str, str]]) -> Tags:
    collected: dict[str, set[str]] = {}
    for key, value in pairs:
        collected.setdefault(key, set()).add(value)
    return Tags({key: frozenset(values) for key, values in collected.items()})


def _pairs_from_mapping(raw: Mapping[object, object]) -> Iterable[tuple[str, str]]:
    for raw_key, raw_value in raw.items():
        key = _check_key(raw_key, f"tags key {raw_key!r}")
        if isinstance(raw_value, list | tuple):
            for index, item in enumerate(raw_value):
                yield key, _check_value(item, f"tags[{key!r}][{index}]")
        else:
            yield key, _check_value(raw_value, f"tags[{key!r}]")


def _pair_from_item(item: object, index: int) -> tuple[str, str]:
    where = f"tags[{index}]"
    if isinstance(item, str):
        key, _, value = item.partition("=")
        return _check_key(key, where), value.strip()
    if isinstance(item, Mapping):
        if "key" not in item:
            raise InputError(f"{where}: a tag object needs a 'key'")
        return _check_key(item["key"], f"{where}.key"), _check_value(
            item.get("value"), f"{where}.value"
        )
    raise InputError(f"{where}: a tag must be a 'key=value' string or an object, got {_kind(item)}")


def _check_key(raw: object, where: str) -> str:
    if not isinstance(raw, str):
        raise InputError(f"{where}: a tag key must be a string, got {_kind(raw)}")
    key = raw.strip()
    if not key:
        raise InputError(f"{where}: a tag key must not be empty")
    return key


def _check_value(raw: object, where: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InputError(f"{where}: a tag value must be a string, got {_kind(raw)}")
    return raw.strip()


def _kind(raw: object) -> str:
    if isinstance(raw, bool | int | float):
        return f"{type(raw).__name__} {raw!r}"
    return type(raw).__name__


def salvage_tags(raw: object) -> tuple[Tags, tuple[str, ...]]:
    """Tags read from an API, where one unusable tag must not cost the others: the
    usable ones, and a short description of each one left out (an empty key, a
    lone space, a wrong type). Anything but a list or an object is no tags at all."""
    items: list[object]
    if isinstance(raw, Mapping):
        items = [{"key": k, "value": v} for k, v in raw.items()]
    elif isinstance(raw, list | tuple):
        items = list(raw)
    elif raw is None:
        return Tags({}), ()
    else:
        return Tags({}), (f"tags: {_kind(raw)}",)
    pairs: list[tuple[str, str]] = []
    ignored: list[str] = []
    for index, item in enumerate(items):
        try:
            if isinstance(item, Mapping) and isinstance(item.get("value"), list | tuple):
                pairs.extend(_pairs_from_mapping({item.get("key"): item["value"]}))
            else:
                pairs.append(_pair_from_item(item, index))
        except InputError:
            ignored.append(_describe(item))
    return _collect(pairs), tuple(ignored)
