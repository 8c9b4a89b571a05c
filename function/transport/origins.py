"""Which urllib3 pool a URL goes to: the connection cache of the process's session.

The common case (a direct origin, a plain URL) is looked up by the URL's origin string
without parsing it again on every call; the environment's proxy settings are read once,
and an origin they send through a proxy gets that proxy's manager. ``transport/session.py``
sends and reads; this module only picks the pool.
"""

from __future__ import annotations

import threading
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.connectionpool import HTTPConnectionPool

from function.transport.watchdog import watched

MAX_ORIGINS = 32
"""Origins remembered at most (the function calls a handful: compute, network, sinks)."""


class Origins:
    """Thread-safe: urllib3's pools are; a race on the cache only builds a pool twice."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        self.direct = watched(urllib3.PoolManager(num_pools=8, **options))
        self._proxies = urllib.request.getproxies_environment()  # read once, not per call
        self._via: dict[tuple[str, str], urllib3.PoolManager] = {}
        self._lock = threading.Lock()
        self._pools: dict[str, HTTPConnectionPool | None] = {}  # origin: its direct pool

    def pool(self, url: str) -> tuple[HTTPConnectionPool | None, str]:
        """The direct pool of ``url``'s origin and the path to ask it for; ``None`` for a
        proxy's host or an unusual URL (``manager`` then sends it)."""
        start = url.find("://") + 3
        slash = url.find("/", start)
        origin, path = (url, "/") if slash < 0 else (url[:slash], url[slash:])
        if "#" in url or "?" in origin or "@" in origin:
            return None, url
        pool = self._pools.get(origin)
        if pool is None or pool.pool is None:  # new, or closed (evicted by the manager)
            if origin in self._pools and pool is None:
                return None, url
            parts = urlsplit(origin)
            proxy = self._proxies.get(parts.scheme)
            if proxy and not _bypass(parts.hostname or "", self._proxies):
                self._pools[origin] = None
                return None, url
            pool = self.direct.connection_from_host(parts.hostname, parts.port, parts.scheme)
            if len(self._pools) > MAX_ORIGINS:
                self._pools.clear()
            self._pools[origin] = pool
        return pool, path

    def manager(self, url: str) -> urllib3.PoolManager:
        """The direct pool, or a proxy's for hosts the environment sends through one."""
        parts = urlsplit(url)
        proxy = self._proxies.get(parts.scheme)
        if not proxy or _bypass(parts.hostname or "", self._proxies):
            return self.direct
        with self._lock:
            key = (parts.scheme, proxy)
            if key not in self._via:
                proxied = urllib3.ProxyManager(proxy, num_pools=8, **self._options)
                self._via[key] = watched(proxied)
            return self._via[key]

    def clear(self) -> None:
        self._pools.clear()
        self.direct.clear()
        for pool in self._via.values():
            pool.clear()


def _bypass(host: str, proxies: dict[str, str]) -> bool:
    """``no_proxy`` says this host is reached directly."""
    bypass: bool = urllib.request.proxy_bypass_environment(host, proxies)  # type: ignore[attr-defined]
    return bypass
