"""How requests to the compute API are authenticated.

An ``Auth`` turns a request into the headers that authenticate it. Only
``token`` exists today; Keystone, AK/SK signing and FunctionGraph context
credentials plug in behind the same protocol, so the client never changes.
"""

from __future__ import annotations

from typing import Protocol

from function.config import ConfigError, Settings


class Auth(Protocol):
    def headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        """The headers that authenticate this request."""
        ...


class TokenAuth:
    """A fixed ``X-Auth-Token`` (emulators, tests, short-lived operator tokens)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(token=***)"

    def headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        return {"X-Auth-Token": self._token}


def auth_from_settings(settings: Settings) -> Auth:
    if settings.auth == "token":
        return TokenAuth(settings.token)
    raise ConfigError(f"auth mode {settings.auth!r} is not supported")
