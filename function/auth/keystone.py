"""``keystone`` auth: a Keystone v3 token from the standard ``OS_*`` variables.

Imported only when ``NICATTACH_AUTH=keystone`` (``auth.py`` imports it lazily):
keystoneauth1 and its dependencies add to every cold start, and the other
modes do not need them.

keystoneauth1 does the hard parts: one authentication for many calls, a new
token when the cached one is within ``renew_before_s`` of its expiry (under a
lock, so threads do not stampede Keystone), the service catalog and the
token's project. ``invalidate`` drops the token after a 401 so that exactly
one fresh authentication is tried (``transport.api.JsonApi`` retries the call once).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from keystoneauth1 import session as ks_session
from keystoneauth1.exceptions import ClientException
from keystoneauth1.identity import v3

from function import logs
from function.config import ConfigError
from function.domain.codes import ErrorCode
from function.domain.errors import TemporaryError

PASSWORD_TYPES = ("password", "v3password")
APP_CREDENTIAL_TYPES = ("v3applicationcredential", "applicationcredential")
#: A catalog's compute URL ends in ``/v2.1``, ``/v2.1/{project_id}`` or ``/v2/{project_id}``.
VERSION_SUFFIX = re.compile(r"/v2(\.1)?(/[^/]*)?/?$")


class KeystoneAuth:
    """``X-Auth-Token`` from Keystone, cached and renewed before it expires."""

    def __init__(
        self,
        os_env: Mapping[str, str],
        *,
        verify: bool | str = True,
        timeout: float = 10.0,
        renew_before_s: int = 120,
    ) -> None:
        self._env = dict(os_env)
        self._plugin = _plugin(self._env)
        self._plugin.MIN_TOKEN_LIFE_SECONDS = renew_before_s
        cacert = self._env.get("OS_CACERT")
        self._session = ks_session.Session(
            auth=self._plugin, verify=cacert or verify, timeout=timeout
        )

    def __repr__(self) -> str:
        return f"KeystoneAuth(auth_url={self._env.get('OS_AUTH_URL')!r}, credentials=***)"

    def headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        token = str(self._call(lambda: self._session.get_token()))
        logs.register_secret(token)
        return {"X-Auth-Token": token}

    def invalidate(self) -> bool:
        """Forget the token (the API answered 401); the next call authenticates again."""
        return bool(self._plugin.invalidate())

    def project_id(self) -> str | None:
        project = self._call(lambda: self._session.get_project_id())
        return str(project) if project else None

    def endpoint(self) -> str:
        """The compute endpoint from the catalog, without its version and project suffix."""
        url = self._call(
            lambda: self._session.get_endpoint(
                service_type="compute",
                interface=self._env.get("OS_INTERFACE", "public").removesuffix("URL"),
                region_name=self._env.get("OS_REGION_NAME") or None,
            )
        )
        if not url:
            raise ConfigError("the Keystone catalog has no compute endpoint for this region")
        return VERSION_SUFFIX.sub("", str(url).rstrip("/"))

    def network_endpoint(self) -> str | None:
        """The catalog's ``network`` endpoint without a ``/v2.0`` suffix; ``None`` if absent."""
        try:
            url = self._call(
                lambda: self._session.get_endpoint(
                    service_type="network",
                    interface=self._env.get("OS_INTERFACE", "public").removesuffix("URL"),
                    region_name=self._env.get("OS_REGION_NAME") or None,
                )
            )
        except TemporaryError:
            return None
        return re.sub(r"/v2\.0/?$", "", str(url).rstrip("/")) if url else None

    def _call(self, fetch: Any) -> Any:
        """keystoneauth1's errors become ours; a message never holds the request body."""
        try:
            return fetch()
        except ClientException as exc:
            status = getattr(exc, "http_status", None)
            raise TemporaryError(
                f"Keystone authentication failed: {type(exc).__name__}"
                + (f" (HTTP {status})" if status else ""),
                code=ErrorCode.AUTH_FAILED,
            ) from None


def _plugin(env: Mapping[str, str]) -> Any:
    """A password or application-credential plugin, named like ``openstack`` CLI options."""
    kind = env.get("OS_AUTH_TYPE", "").lower()
    if not kind:
        kind = "v3applicationcredential" if _app_credential(env) else "password"
    auth_url = env["OS_AUTH_URL"]
    if kind in APP_CREDENTIAL_TYPES:
        if not env.get("OS_APPLICATION_CREDENTIAL_SECRET"):
            raise ConfigError("an application credential needs OS_APPLICATION_CREDENTIAL_SECRET")
        return v3.ApplicationCredential(
            auth_url,
            application_credential_id=env.get("OS_APPLICATION_CREDENTIAL_ID"),
            application_credential_name=env.get("OS_APPLICATION_CREDENTIAL_NAME"),
            application_credential_secret=env["OS_APPLICATION_CREDENTIAL_SECRET"],
            user_id=env.get("OS_USER_ID"),
            username=env.get("OS_USERNAME"),
            user_domain_id=env.get("OS_USER_DOMAIN_ID"),
            user_domain_name=env.get("OS_USER_DOMAIN_NAME"),
        )
    if kind not in PASSWORD_TYPES:
        raise ConfigError(f"OS_AUTH_TYPE {kind!r}: use password or v3applicationcredential")
    if not env.get("OS_PASSWORD") or not (env.get("OS_USERNAME") or env.get("OS_USER_ID")):
        raise ConfigError("password auth needs OS_USERNAME (or OS_USER_ID) and OS_PASSWORD")
    return v3.Password(
        auth_url,
        username=env.get("OS_USERNAME"),
        user_id=env.get("OS_USER_ID"),
        password=env["OS_PASSWORD"],
        user_domain_id=env.get("OS_USER_DOMAIN_ID"),
        user_domain_name=env.get("OS_USER_DOMAIN_NAME"),
        project_id=env.get("OS_PROJECT_ID") or env.get("OS_TENANT_ID"),
        project_name=env.get("OS_PROJECT_NAME") or env.get("OS_TENANT_NAME"),
        project_domain_id=env.get("OS_PROJECT_DOMAIN_ID"),
        project_domain_name=env.get("OS_PROJECT_DOMAIN_NAME"),
    )


def _app_credential(env: Mapping[str, str]) -> bool:
    names = ("OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_NAME")
    return any(env.get(name) for name in names)
