"""Microversions and version discovery, as Nova does them.

The version a request asks for comes from ``OpenStack-API-Version: compute 2.N``
(preferred) or ``X-OpenStack-Nova-API-Version: 2.N``; none means 2.1,
``latest`` means the highest this emulator knows. The legacy ``/v2`` API
ignores both headers, as Nova's LegacyV2CompatibleWrapper does. The discovery
documents are what keystoneauth reads to negotiate (unauthenticated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulator.core.errors import BadRequest, NotAcceptable

Microversion = tuple[int, int]

MIN_VERSION: Microversion = (2, 1)
MAX_VERSION: Microversion = (2, 96)
LEGACY_V2: Microversion = (2, 0)
NEW_HEADER = "openstack-api-version"
LEGACY_HEADER = "x-openstack-nova-api-version"
_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")
_V21_UPDATED = "2013-07-23T11:33:21Z"
_V20_UPDATED = "2011-01-21T11:33:21Z"


def format_version(version: Microversion) -> str:
    return f"{version[0]}.{version[1]}"


def _requested(headers: Mapping[str, str]) -> str | None:
    """The version string asked for; ``headers`` has lower-case names."""
    for item in headers.get(NEW_HEADER, "").split(","):
        service, _, version = item.strip().partition(" ")
        if service.lower() == "compute" and version.strip():
            return version.strip()
    legacy = headers.get(LEGACY_HEADER)
    return legacy.strip() if legacy is not None else None


def parse_microversion(headers: Mapping[str, str]) -> Microversion:
    """The microversion of a request; 400 for a malformed one, 406 out of range."""
    text = _requested(headers)
    if text is None:
        return MIN_VERSION
    if text.lower() == "latest":
        return MAX_VERSION
    match = _VERSION_RE.match(text)
    if match is None:
        raise BadRequest(
            f"API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum."
        )
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise NotAcceptable(
            f"Version {text} is not supported by the API. Minimum is "
            f"{format_version(MIN_VERSION)} and maximum is {format_version(MAX_VERSION)}."
        )
    return version


def version_headers(version: Microversion) -> dict[str, str]:
    """The headers Nova answers with; none on the legacy v2 API."""
    if version == LEGACY_V2:
        return {}
    text = format_version(version)
    return {
        "OpenStack-API-Version": f"compute {text}",
        "X-OpenStack-Nova-API-Version": text,
        "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
    }


def _v21(base_url: str) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": format_version(MAX_VERSION),
        "min_version": format_version(MIN_VERSION),
        "updated": _V21_UPDATED,
        "links": [{"rel": "self", "href": f"{base_url}/v2.1/"}],
    }


def _v20(base_url: str) -> dict[str, Any]:
    return {
        "id": "v2.0",
        "status": "SUPPORTED",
        "version": "",
        "min_version": "",
        "updated": _V20_UPDATED,
        "links": [{"rel": "self", "href": f"{base_url}/v2/"}],
    }


def _media_types(version: str) -> list[dict[str, str]]:
    return [
        {
            "base": "application/json",
            "type": f"application/vnd.openstack.compute+json;version={version}",
        }
    ]


def versions_document(base_url: str) -> dict[str, Any]:
    """``GET /``: every API version."""
    return {"versions": [_v20(base_url), _v21(base_url)]}


def version_document(base_url: str, api: str) -> dict[str, Any]:
    """``GET /v2.1/`` or ``GET /v2/``: one API version."""
    version = _v21(base_url) if api == "v2.1" else _v20(base_url)
    described = {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"}
    version["links"].append(described)
    version["media-types"] = _media_types("2.1" if api == "v2.1" else "2")
    return {"version": version}
