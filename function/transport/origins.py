"""Which connections a URL goes to: the origins of the process's session.

The common case (a direct origin, a plain URL) is looked up by the URL's origin string
without parsing it again on every call, and answered with that origin's kept-alive
connections (``transport/wire.py``). The environment's proxy settings are read once; an
origin they send through a proxy, and a URL with user info or a fragment, get ``None``:
``transport/proxied.py`` (urllib3) sends those. ``transport/session.py`` sends and reads;
this module only picks.
"""

from __future__ import annotations

import os
import ssl
import threading
from urllib.parse import urlsplit

from function.transport.wire import Origin, tls_context

MAX_ORIGINS = 32
"""Origins remembered at most (the function calls a handful: compute, network, sinks)."""


class Origins:
    """Thread-safe: a race on the cache only builds an origin twice (one is dropped)."""

    def __init__(self, ca_certs: str | None, maxsize: int) -> None:
        self.ca_certs = ca_certs
        self._maxsize = maxsize
        self.proxies = _environment_proxies()  # read once, not per call
        self._tls: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self._known: dict[str, Origin | None] = {}  # origin: its connections, None if proxied

    def pick(self, url: str) -> tuple[Origin | None, str]:
        """``url``'s origin and the target to ask it for; ``None`` (and the whole URL)
        for an origin reached through a proxy or an unusual URL."""
        start = url.find("://") + 3
        slash = url.find("/", start)
        origin, target = (url, "/") if slash < 0 else (url[:slash], url[slash:])
        if "#" in url or "?" in origin or "@" in origin:
            return None, url
        try:
            found = self._known[origin]
        except KeyError:
            found = self._learn(origin)
        return (found, target) if found is not None else (None, url)

    def _learn(self, origin: str) -> Origin | None:
        try:
            parts = urlsplit(origin)
            port = parts.port
        except ValueError:
            return None
        host, scheme = parts.hostname, parts.scheme.lower()
        found: Origin | None = None
        direct = not self.proxies.get(scheme) or bypass(host or "", self.proxies)
        if host and direct and scheme in ("http", "https"):
            tls = self._context() if scheme == "https" else None
            port = port or (443 if scheme == "https" else 80)
            found = Origin(scheme, _bracketed(host), port, tls, self._maxsize)
        with self._lock:
            if len(self._known) >= MAX_ORIGINS:
                self.clear()
            self._known[origin] = found
        return found

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = tls_context(self.ca_certs)
        return self._tls

    def clear(self) -> None:
        known, self._known = self._known, {}
        for origin in known.values():
            if origin is not None:
                origin.clear()


def _bracketed(host: str) -> str:
    """An IPv6 literal as the Host header writes it."""
    return f"[{host}]" if ":" in host else host


def _environment_proxies() -> dict[str, str]:
    """``http_proxy`` and the like; ``urllib.request`` (and ``http.client`` with it) is
    imported only when one is set."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return {}
    import urllib.request  # noqa: PLC0415 - the rare path

    return urllib.request.getproxies_environment()


def bypass(host: str, proxies: dict[str, str]) -> bool:
    """``no_proxy`` says this host is reached directly."""
    import urllib.request  # noqa: PLC0415 - only with a proxy set

    direct: bool = urllib.request.proxy_bypass_environment(host, proxies)  # type: ignore[attr-defined]
    return direct
