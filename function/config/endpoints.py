"""Endpoint URLs checked at start-up: a scheme, a host, and no credential in clear text.

A URL without ``https://`` or ``http://`` would start and then fail every event as a
retryable connection error; plain ``http`` to another machine would send the token
(or the Keystone password, or a signature) unencrypted. Both are refused, one line
each, before any network call. ``http://127.0.0.1:…`` (the emulator, a local proxy)
keeps working; another plain-http host needs ``NICATTACH_ALLOW_HTTP=true``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

ALLOW_HTTP = "NICATTACH_ALLOW_HTTP"
#: A version path (``/v2.1``, ``/v1``, ``/v2``) or a project id (32 hex digits) at the
#: end of an endpoint: each request would then hit an unknown route (404).
_VERSION_TAIL = re.compile(r"/(v\d+(\.\d+)?|[0-9a-f]{32})/?$", re.IGNORECASE)
#: Endpoints the function appends the version and the project id to.
HOST_ONLY = frozenset({"NICATTACH_ECS_ENDPOINT"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (``127.0.0.0/8``, ``::1``)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_problem(name: str, url: str, *, allow_http: bool) -> str | None:
    """Why ``url`` (the value of variable ``name``) cannot be used, or None."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("https", "http"):
        return f"{name} must be an http(s):// URL (https:// for a remote host), got {url!r}"
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname or "", parts.port
    except ValueError:
        return f"{name} is not a valid URL: {url!r}"
    if not host:
        return f"{name} has no host: {url!r}"
    if name in HOST_ONLY and _VERSION_TAIL.search(parts.path):
        return (
            f"{name} must name the host only: drop the path {parts.path!r} "
            f"(the API version and the project id are added by the function)"
        )
    if scheme == "http" and not allow_http and not is_loopback(host):
        return (
            f"{name} is plain http:// to {host}: credentials would travel unencrypted; "
            f"use https://, or set {ALLOW_HTTP}=true"
        )
    return None


def endpoint_problems(urls: Mapping[str, str | None], *, allow_http: bool) -> list[str]:
    """``endpoint_problem`` for every variable → URL that is set."""
    found = (
        endpoint_problem(name, url, allow_http=allow_http) for name, url in urls.items() if url
    )
    return [problem for problem in found if problem]
