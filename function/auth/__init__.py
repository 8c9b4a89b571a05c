"""How requests to the compute API (and to EventGrid) are authenticated.

An ``Auth`` turns a request into the headers that authenticate it, so the
client never changes with the mode:

- ``token``: a fixed ``X-Auth-Token`` (emulators, tests, short-lived operator tokens);
- ``keystone``: a Keystone v3 token from ``OS_*`` (``keystone_auth.py``, imported lazily);
- ``aksk``: ``SDK-HMAC-SHA256`` signatures with ``HUAWEICLOUD_SDK_AK``/``SK`` (``aksk.py``);
- ``functiongraph``: the temporary credentials FunctionGraph hands each invocation.

FunctionGraph credentials arrive per invocation, with the event: the native
``handler(event, context)`` has the context's getters (read once, in
``app/functiongraph.py``), an HTTP function has ``X-CFF-*`` request headers.
``FunctionGraphAuth.invocation`` binds them to the current thread (a ``ContextVar``)
for the length of one invocation, so two invocations running at once on different
threads never see each other's credentials. Without any (local runs, a context
without an agency) it falls back to the ``HUAWEICLOUD_SDK_*`` variables.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import replace
from typing import Protocol

from function import logs
from function.auth.aksk import AkSk, sign
from function.config import ConfigError, Settings
from function.domain.codes import ErrorCode
from function.domain.errors import TemporaryError
from function.transport import tls

log = logging.getLogger("nicattach.auth")

#: The project id in a compute (``/v2.1/{p}/``) or Huawei (``/v1/{p}/``) URL; the network
#: API's ``/v2.0/ports`` names none (``acting_project`` says which one is meant).
PROJECT_IN_URL = re.compile(r"/v(?!2\.0/)[0-9.]+/([A-Za-z0-9_-]{1,64})(?:/|$)")
_ACTING: ContextVar[str | None] = ContextVar("acting_project", default=None)


@contextlib.contextmanager
def acting_project(project_id: str) -> Iterator[None]:
    """Requests made in this block act in ``project_id`` when their URL names no project
    (the signed ``X-Project-Id`` of AK/SK requests to the network API)."""
    reset = _ACTING.set(project_id)
    try:
        yield
    finally:
        _ACTING.reset(reset)


class Auth(Protocol):
    def headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        """The headers that authenticate this request."""
        ...

    def invalidate(self) -> bool:
        """The API answered 401: drop cached credentials. True if a retry may succeed."""
        ...


class TokenAuth:
    """A fixed ``X-Auth-Token`` (emulators, tests, short-lived operator tokens)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(token=***)"

    def headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        return {"X-Auth-Token": self._token}

    def invalidate(self) -> bool:
        return False


class AkSkAuth:
    """Signed requests; ``X-Project-Id`` is the project in the URL, else the configured one."""

    def __init__(self, credentials: AkSk, project_id: str | None) -> None:
        self._credentials = credentials
        self._project_id = project_id

    def __repr__(self) -> str:
        return f"AkSkAuth({self._credentials!r}, project_id={self._project_id!r})"

    def headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        return signed_headers(self._credentials, self._project_id, method, url, body)

    def invalidate(self) -> bool:
        return False


def signed_headers(
    credentials: AkSk, project_id: str | None, method: str, url: str, body: bytes | None
) -> dict[str, str]:
    found = PROJECT_IN_URL.search(url)
    project = found.group(1) if found else (_ACTING.get() or project_id)
    return sign(credentials, method, url, body, {"X-Project-Id": project} if project else {})


class InvocationCredentials:
    """What one FunctionGraph invocation carries: a token, or temporary AK/SK + token."""

    def __init__(self, token: str = "", aksk: AkSk | None = None, project_id: str = "") -> None:
        self.token = token
        self.aksk = aksk
        self.project_id = project_id

    def __repr__(self) -> str:
        kind = "aksk" if self.aksk else "token" if self.token else "none"
        return f"InvocationCredentials({kind}, project_id={self.project_id!r})"

    def __bool__(self) -> bool:
        return bool(self.token or self.aksk)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> InvocationCredentials:
        """From an HTTP function's request headers ("Include Keys" in its settings)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        return cls.of(
            token=lowered.get("x-cff-auth-token", ""),
            access_key=lowered.get("x-cff-security-access-key", ""),
            secret_key=lowered.get("x-cff-security-secret-key", ""),
            security_token=lowered.get("x-cff-security-token", ""),
            project_id=lowered.get("x-cff-project-id", ""),
        )

    @classmethod
    def of(
        cls, *, token: str, access_key: str, secret_key: str, security_token: str, project_id: str
    ) -> InvocationCredentials:
        token, access_key, secret_key, security_token = (
            v.strip() for v in (token, access_key, secret_key, security_token)
        )
        for secret in (token, access_key, secret_key, security_token):
            logs.register_secret(secret)
        aksk = AkSk(access_key, secret_key, security_token) if access_key and secret_key else None
        return cls(token=token, aksk=aksk, project_id=project_id.strip())


_INVOCATION: ContextVar[InvocationCredentials | None] = ContextVar(
    "nicattach_invocation", default=None
)


class FunctionGraphAuth:
    """The current invocation's credentials: temporary AK/SK (signed, preferred, as the
    FunctionGraph docs recommend), else its token; else the ``HUAWEICLOUD_SDK_*`` fallback."""

    def __init__(self, fallback: AkSk | None, project_id: str | None) -> None:
        self._fallback = fallback
        self._project_id = project_id

    def __repr__(self) -> str:
        return f"FunctionGraphAuth(fallback={self._fallback!r}, project_id={self._project_id!r})"

    @contextlib.contextmanager
    def invocation(self, credentials: InvocationCredentials) -> Iterator[None]:
        """Use ``credentials`` in this thread until the block ends."""
        if credentials.project_id and credentials.project_id != self._project_id:
            log.warning(
                "the invocation's project %s is not the configured project %s; "
                "the configured one (and the allowlist) still decide",
                credentials.project_id,
                self._project_id,
            )
        reset = _INVOCATION.set(credentials if credentials else None)
        try:
            yield
        finally:
            _INVOCATION.reset(reset)

    def headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        current = _INVOCATION.get()
        if current is not None and current.aksk is not None:
            return signed_headers(current.aksk, self._project_id, method, url, body)
        if current is not None and current.token:
            return {"X-Auth-Token": current.token}
        if self._fallback is not None:
            return signed_headers(self._fallback, self._project_id, method, url, body)
        raise TemporaryError(  # retryable: once the agency is there, a redelivery works
            "no FunctionGraph credentials: give the function an agency, "
            "or set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK",
            code=ErrorCode.NO_CREDENTIALS,
        )

    def invalidate(self) -> bool:
        return False


def auth_from_settings(settings: Settings) -> Auth:
    if settings.auth == "token":
        return TokenAuth(settings.token)
    if settings.auth == "aksk":
        return AkSkAuth(_env_aksk(settings) or AkSk("", ""), settings.project_id)
    if settings.auth == "functiongraph":
        return FunctionGraphAuth(_env_aksk(settings), settings.project_id)
    if settings.auth == "keystone":
        from function.auth.keystone import KeystoneAuth  # lazy: keystoneauth1 is heavy

        return KeystoneAuth(dict(settings.openstack), verify=tls.verify(settings.ca_bundle))
    raise ConfigError(f"auth mode {settings.auth!r} is not supported")


def _env_aksk(settings: Settings) -> AkSk | None:
    if not (settings.access_key and settings.secret_key):
        return None
    return AkSk(settings.access_key, settings.secret_key, settings.security_token)


def bind(settings: Settings, auth: Auth, *, unscoped_level: int = logging.WARNING) -> Settings:
    """Settings completed by what the credentials know: with ``keystone`` the compute
    and network endpoints (the catalog's, unless ``NICATTACH_ECS_ENDPOINT`` /
    ``NICATTACH_NETWORK_ENDPOINT`` is set) and the token's
    project. This authenticates once, at start-up: bad credentials stop the function.

    With no project limit at all (``token`` auth, no allowlist, no project) it says so once
    per process, at ``unscoped_level``: a warning for a deployed function that serves
    events from others; the CLI passes ``DEBUG``, as its operator chose the event and the
    token."""
    if settings.auth == "keystone":
        from function.auth.keystone import KeystoneAuth

        assert isinstance(auth, KeystoneAuth)
        endpoint = settings.ecs_endpoint or auth.endpoint()
        settings = replace(settings, ecs_endpoint=endpoint)
        if not settings.network_endpoint and settings.ownership != "device-tag":
            settings = replace(settings, network_endpoint=auth.network_endpoint())
        settings = settings.with_credentials_project(auth.project_id())
    if not (settings.allowed_projects or settings.credentials_project_id or settings.project_id):
        _note_unscoped(unscoped_level)
    return settings


_UNSCOPED_NOTED = threading.Event()


def _note_unscoped(level: int) -> None:
    """At most once per process (a warm instance builds its service once, tests many times)."""
    if _UNSCOPED_NOTED.is_set():
        return
    _UNSCOPED_NOTED.set()
    log.log(
        level,
        "neither NICATTACH_ALLOWED_PROJECTS nor NICATTACH_PROJECT_ID is set: events "
        "may name any project the token can act in",
    )


def invocation(
    auth: Auth, credentials: InvocationCredentials
) -> contextlib.AbstractContextManager[None]:
    """Use an invocation's FunctionGraph credentials for its length (other modes: no-op)."""
    if isinstance(auth, FunctionGraphAuth):
        return auth.invocation(credentials)
    return contextlib.nullcontext()
