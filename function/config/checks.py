"""The start-up checks of ``Settings``: every mistake at once, one line each.

Kept beside the settings (``config/__init__.py`` holds what they are, this module
what makes a combination of them unusable).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from function.config import (
    API_VERSION,
    AS_ENDPOINT,
    AUTH,
    CA_BUNDLE,
    ECS_ENDPOINT,
    EG_ENDPOINT,
    NETWORK_ENDPOINT,
    OS_AUTH_URL,
    OWNERSHIP,
    PROJECT_ID,
    READY_EVENT,
    RUNTIME_PROJECT_ID,
    SDK_AK,
    SDK_PROJECT_ID,
    SDK_SK,
    SINK,
    TOKEN,
    Settings,
)
from function.config.endpoints import endpoint_problems


def problems(settings: Settings) -> list[str]:
    """Every mistake in ``settings`` at once, one line each (the start is refused)."""
    problems = []
    if settings.auth == "token" and not settings.token:
        problems.append(f"{AUTH}=token needs {TOKEN}")
    if settings.auth == "aksk" and not (settings.access_key and settings.secret_key):
        problems.append(f"{AUTH}=aksk needs {SDK_AK} and {SDK_SK}")
    if settings.auth == "keystone" and not dict(settings.openstack).get("OS_AUTH_URL"):
        problems.append(f"{AUTH}=keystone needs OS_AUTH_URL (and the other OS_* variables)")
    if settings.auth in ("aksk", "functiongraph") and not (
        settings.credentials_project_id or settings.project_id or settings.allowed_projects
    ):
        problems.append(
            f"{AUTH}={settings.auth} needs a project: {SDK_PROJECT_ID}, {RUNTIME_PROJECT_ID} "
            f"or {PROJECT_ID}"
        )
    if settings.sink and settings.sink.startswith("eg://") and not settings.eg_endpoint:
        problems.append(f"an eg:// sink needs {EG_ENDPOINT}")
    if settings.sink and not settings.sink.startswith(("eg://", "http://", "https://")):
        problems.append(f"{SINK} must be an http(s):// URL or eg://<channel id>")
    if settings.ready_event and not settings.sink:
        problems.append(f"{READY_EVENT} sends its events to a sink: set {SINK} (or K_SINK)")
    if settings.ca_bundle and not os.path.isfile(settings.ca_bundle):
        problems.append(f"{CA_BUNDLE}: no such file: {settings.ca_bundle!r}")
    problems += endpoint_lines(settings)
    if settings.backend == "huawei-v1" and settings.api_version != "v2.1":
        problems.append(f"{API_VERSION} applies to the nova backend only")
    problem = network_problem(settings)
    if problem:
        problems.append(problem)
    return problems


def network_problem(settings: Settings) -> str | None:
    """The one line that refuses a start where the chosen ownership cannot work."""
    if settings.backend == "huawei-v1" and settings.ownership == "device-tag":
        return f"{OWNERSHIP}=device-tag: the huawei-v1 API has no device tags (use port)"
    if settings.port_first and not settings.network_endpoint and settings.auth != "keystone":
        why = (
            f"{OWNERSHIP}=port"
            if settings.ownership == "port"
            else f"the {settings.backend} backend"
        )
        return (
            f"{NETWORK_ENDPOINT} is not set: {why} makes every NIC from a port it "
            "names first (Huawei: the VPC endpoint)"
        )
    return None


def endpoint_lines(settings: Settings) -> list[str]:
    """Every URL that carries a credential: a scheme, a host, no plain http elsewhere
    (``config/endpoints.py``). A sink gets events, not credentials: any http(s)."""
    urls = {
        ECS_ENDPOINT: settings.ecs_endpoint,
        AS_ENDPOINT: settings.as_endpoint,
        NETWORK_ENDPOINT: settings.network_endpoint,
        EG_ENDPOINT: settings.eg_endpoint,
        OS_AUTH_URL: dict(settings.openstack).get(OS_AUTH_URL),
    }
    return endpoint_problems(urls, allow_http=settings.allow_http)


def credentials_project(env: Mapping[str, str], auth: str) -> str | None:
    """The project the credentials name in the environment (Keystone's comes from its token)."""
    if auth == "aksk":
        return env.get(SDK_PROJECT_ID) or None
    if auth == "functiongraph":
        return env.get(RUNTIME_PROJECT_ID) or env.get(SDK_PROJECT_ID) or None
    return None
