"""Neutron's list filters: ``?name=a&name=b&device_id=&fixed_ips=ip_address=10.0.0.5``.

A field given several times matches any of its values; different fields must
all match; ``fixed_ips=ip_address=X`` / ``fixed_ips=subnet_id=Y`` match a port
with such a fixed IP. Booleans compare as Neutron converts them ("true", "True").
Paging and sorting parameters are accepted and ignored (one page holds every
match); ``fields`` chooses the fields of each item. A name that is not a field
is Neutron's 400 "['x'] is invalid attribute for filtering".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from emulator.network_api.errors import bad_request

#: Query parameters that are not filters.
NOT_FILTERS = frozenset({"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse"})
#: Fields Neutron will not filter on (lists and timestamps are not filters in its schema).
NOT_FILTERABLE = frozenset(
    {
        "allowed_address_pairs",
        "extra_dhcp_opts",
        "security_groups",
        "created_at",
        "updated_at",
        "subnets",
        "allocation_pools",
        "security_group_rules",
        "dns_nameservers",
        "host_routes",
    }
)


def check_filters(query: Mapping[str, list[str]], fields: set[str]) -> dict[str, list[str]]:
    """The filters of ``query`` for items with ``fields``; 400 for a name that is none."""
    filters = {k: v for k, v in query.items() if k not in NOT_FILTERS}
    invalid = [k for k in filters if k not in fields or k in NOT_FILTERABLE]
    if invalid:
        raise bad_request(f"{invalid} is invalid attribute for filtering")
    return filters


def _same(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return wanted.lower() == str(value).lower()
    return value is not None and str(value) == wanted


def _fixed_ips_match(fixed_ips: list[dict[str, str]], wanted: list[str]) -> bool:
    by_key: dict[str, set[str]] = {}
    for item in wanted:
        key, _, value = item.partition("=")
        by_key.setdefault(key, set()).add(value)
    return any(all(ip.get(key) in values for key, values in by_key.items()) for ip in fixed_ips)


def matches(view: Mapping[str, Any], filters: Mapping[str, list[str]]) -> bool:
    for name, wanted in filters.items():
        if name == "fixed_ips":
            if not _fixed_ips_match(view["fixed_ips"], wanted):
                return False
        elif not any(_same(view.get(name), value) for value in wanted):
            return False
    return True


def select(view: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Only the ``fields=`` asked for (all when none)."""
    return {k: v for k, v in view.items() if k in fields} if fields else view


def paginate(
    items: list[dict[str, Any]], query: Mapping[str, list[str]], url: str, collection: str
) -> dict[str, Any]:
    """``{collection: page, collection_links?}`` as Neutron pages with ``limit``: sorted by
    id, after ``marker`` (before it with ``page_reverse=True``); a ``next`` link while a
    page is full, a ``previous`` link whenever there are items. Without ``limit``: all."""
    limit = (query.get("limit") or [""])[-1]
    if not limit:
        return {collection: items}
    if not limit.isdigit() or int(limit) < 1:
        raise bad_request(f"Limit must be an integer 0 or greater and not '{limit}'")
    markers = query.get("marker") or []
    size, marker = int(limit), markers[-1] if markers else None
    reverse = (query.get("page_reverse") or ["false"])[-1].lower() == "true"
    ordered = sorted(items, key=lambda item: str(item["id"]))
    if reverse:
        before = [i for i in ordered if marker is None or str(i["id"]) < marker]
        page = before[-size:]
    else:
        page = [i for i in ordered if marker is None or str(i["id"]) > marker][:size]
    kept = [
        (k, v) for k, values in query.items() for v in values if k not in ("marker", "page_reverse")
    ]
    links = []
    if page and not (len(page) < size and not reverse):
        links.append({"rel": "next", "href": _link(url, kept, page[-1]["id"], False)})
    if page and not (len(page) < size and reverse):
        links.append({"rel": "previous", "href": _link(url, kept, page[0]["id"], True)})
    body: dict[str, Any] = {collection: page}
    if links:
        body[f"{collection}_links"] = links
    return body


def _link(url: str, kept: list[tuple[str, str]], marker: str, reverse: bool) -> str:
    pairs = [*kept, ("marker", marker), *([("page_reverse", "True")] if reverse else [])]
    return f"{url}?{urlencode(pairs)}"
