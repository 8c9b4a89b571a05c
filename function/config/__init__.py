"""Settings, read once from the environment (DESIGN.md §5).

Every knob is a field of one frozen dataclass with a documented default;
the variable names are constants so the CLI, the tests and serverless.yml
can name them without typos.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from function.domain.errors import InputError

POLICY = "NICATTACH_POLICY"
ECS_ENDPOINT = "NICATTACH_ECS_ENDPOINT"
API_VERSION = "NICATTACH_API_VERSION"
AUTH = "NICATTACH_AUTH"
TOKEN = "NICATTACH_TOKEN"
PROJECT_ID = "NICATTACH_PROJECT_ID"
ALLOWED_PROJECTS = "NICATTACH_ALLOWED_PROJECTS"
SINK = "NICATTACH_SINK"
K_SINK = "K_SINK"
WAIT_ACTIVE_S = "NICATTACH_WAIT_ACTIVE_S"
DEADLINE_S = "NICATTACH_DEADLINE_S"
MAX_BODY_BYTES = "NICATTACH_MAX_BODY_BYTES"
EVENT_SOURCE = "NICATTACH_EVENT_SOURCE"
LOG_LEVEL = "NICATTACH_LOG_LEVEL"
WAIT_PORT_ACTIVE_S = "NICATTACH_WAIT_PORT_ACTIVE_S"
DEVICE_TAGS = "NICATTACH_DEVICE_TAGS"
CA_BUNDLE = "NICATTACH_CA_BUNDLE"
EG_ENDPOINT = "NICATTACH_EG_ENDPOINT"
SDK_AK = "HUAWEICLOUD_SDK_AK"
SDK_SK = "HUAWEICLOUD_SDK_SK"
SDK_SECURITY_TOKEN = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
SDK_PROJECT_ID = "HUAWEICLOUD_SDK_PROJECT_ID"
RUNTIME_PROJECT_ID = "RUNTIME_PROJECT_ID"
"""Set by FunctionGraph in every function's environment."""
OS_PREFIX = "OS_"
"""``keystone`` auth reads the standard OpenStack variables (``OS_AUTH_URL``, ...)."""

ENV_VARS = (
    POLICY,
    ECS_ENDPOINT,
    API_VERSION,
    AUTH,
    TOKEN,
    PROJECT_ID,
    ALLOWED_PROJECTS,
    SINK,
    K_SINK,
    WAIT_ACTIVE_S,
    DEADLINE_S,
    MAX_BODY_BYTES,
    EVENT_SOURCE,
    LOG_LEVEL,
    WAIT_PORT_ACTIVE_S,
    DEVICE_TAGS,
    CA_BUNDLE,
    EG_ENDPOINT,
    SDK_AK,
    SDK_SK,
    SDK_SECURITY_TOKEN,
    SDK_PROJECT_ID,
)

AUTH_MODES = ("token", "keystone", "aksk", "functiongraph")
API_VERSIONS = ("v2.1", "v2")


class ConfigError(InputError):
    """The environment is incomplete or contradictory; the function cannot start."""

    code = "bad_config"


@dataclass(frozen=True)
class Settings:
    """Everything the function reads from its environment.

    Secrets are fields with ``repr=False``: a logged or printed ``Settings``
    never shows them.
    """

    policy_path: str
    """Path of the policy file (YAML or JSON)."""
    ecs_endpoint: str
    """Compute API base URL, without the ``/v2.1`` suffix; ``""`` with ``keystone``
    auth means: take it from the service catalog."""
    api_version: str = "v2.1"
    auth: str = "token"
    """``token``, ``keystone``, ``aksk`` or ``functiongraph`` (see ``auth.py``)."""
    token: str = field(default="", repr=False)
    """``X-Auth-Token`` for ``token`` auth. Never logged (repr=False)."""
    project_id: str | None = None
    """The project to act in when an event names none."""
    credentials_project_id: str | None = None
    """The project the credentials are scoped to (Keystone token, ``HUAWEICLOUD_SDK_PROJECT_ID``,
    FunctionGraph's ``RUNTIME_PROJECT_ID``); filled in by ``with_credentials_project``."""
    allowed_projects: tuple[str, ...] = ()
    """Projects the function may act in; empty means only the credentials' project,
    else ``project_id`` (if set)."""
    sink: str | None = None
    """Where completion events are POSTed (``NICATTACH_SINK``, else ``K_SINK``);
    ``eg://{channel_id}`` publishes to a Huawei EventGrid custom channel."""
    eg_endpoint: str | None = None
    """EventGrid API base URL, for an ``eg://`` sink."""
    ca_bundle: str | None = None
    """A PEM file of extra CAs to trust (added to the default ones); TLS is always verified."""
    access_key: str = field(default="", repr=False)
    """``HUAWEICLOUD_SDK_AK`` for ``aksk`` auth (and ``functiongraph`` without a context)."""
    secret_key: str = field(default="", repr=False)
    security_token: str = field(default="", repr=False)
    """``HUAWEICLOUD_SDK_SECURITY_TOKEN``: set for temporary AK/SK."""
    openstack: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """Every ``OS_*`` variable, for ``keystone`` auth."""
    wait_active_s: float = 120.0
    """How long to wait for a BUILDing server to become ACTIVE."""
    deadline_s: float = 50.0
    """The whole budget of one event; keep it below the platform's function timeout."""
    max_body_bytes: int = 1_048_576
    """Larger request bodies are refused with HTTP 413."""
    event_source: str = "/nic-autoattach"
    """``source`` attribute of the events this function emits."""
    wait_port_active_s: float = 10.0
    """How long to wait for a new NIC's ``port_state`` to become ACTIVE (0 disables)."""
    device_tags: bool = False
    """Tag the NICs this function creates (microversion 2.49); off for Huawei ECS."""
    connect_timeout_s: float = 3.05
    read_timeout_s: float = 20.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        auth = _choice(env, AUTH, AUTH_MODES, "token")
        endpoint = env.get(ECS_ENDPOINT, "").strip()
        if not endpoint and auth != "keystone":
            raise ConfigError(f"{ECS_ENDPOINT} is not set")
        settings = cls(
            policy_path=_required(env, POLICY),
            ecs_endpoint=endpoint.rstrip("/"),
            api_version=_choice(env, API_VERSION, API_VERSIONS, "v2.1"),
            auth=auth,
            token=env.get(TOKEN, ""),
            project_id=env.get(PROJECT_ID) or None,
            credentials_project_id=_credentials_project(env, auth),
            allowed_projects=_csv(env.get(ALLOWED_PROJECTS, "")),
            sink=env.get(SINK) or env.get(K_SINK) or None,
            eg_endpoint=(env.get(EG_ENDPOINT) or "").rstrip("/") or None,
            ca_bundle=env.get(CA_BUNDLE) or None,
            access_key=env.get(SDK_AK, "").strip(),
            secret_key=env.get(SDK_SK, "").strip(),
            security_token=env.get(SDK_SECURITY_TOKEN, "").strip(),
            openstack=tuple(sorted((k, v) for k, v in env.items() if k.startswith(OS_PREFIX))),
            wait_active_s=_number(env, WAIT_ACTIVE_S, 120.0),
            deadline_s=_number(env, DEADLINE_S, 50.0),
            max_body_bytes=int(_number(env, MAX_BODY_BYTES, 1_048_576)),
            event_source=env.get(EVENT_SOURCE) or "/nic-autoattach",
            wait_port_active_s=_number(env, WAIT_PORT_ACTIVE_S, 10.0),
            device_tags=_flag(env, DEVICE_TAGS),
        )
        settings._check()
        return settings.with_credentials_project(settings.credentials_project_id)

    def _check(self) -> None:
        if self.auth == "token" and not self.token:
            raise ConfigError(f"{AUTH}=token needs {TOKEN}")
        if self.auth == "aksk" and not (self.access_key and self.secret_key):
            raise ConfigError(f"{AUTH}=aksk needs {SDK_AK} and {SDK_SK}")
        if self.auth == "keystone" and not dict(self.openstack).get("OS_AUTH_URL"):
            raise ConfigError(f"{AUTH}=keystone needs OS_AUTH_URL (and the other OS_* variables)")
        if self.auth in ("aksk", "functiongraph") and not (
            self.credentials_project_id or self.project_id or self.allowed_projects
        ):
            raise ConfigError(
                f"{AUTH}={self.auth} needs a project: {SDK_PROJECT_ID}, {RUNTIME_PROJECT_ID} "
                f"or {PROJECT_ID}"
            )
        if self.sink and self.sink.startswith("eg://") and not self.eg_endpoint:
            raise ConfigError(f"an eg:// sink needs {EG_ENDPOINT}")
        if self.ca_bundle and not os.path.isfile(self.ca_bundle):
            raise ConfigError(f"{CA_BUNDLE}: no such file: {self.ca_bundle!r}")

    def with_credentials_project(self, project: str | None) -> Settings:
        """These settings with the credentials' project known (from a Keystone token, or
        the environment). ``project_id`` defaults to it; a different ``project_id`` and
        no allowlist is a contradiction: the function could act nowhere it was asked to."""
        if not project:
            return self
        if self.project_id and self.project_id != project and not self.allowed_projects:
            raise ConfigError(
                f"{PROJECT_ID}={self.project_id} but the credentials are for project {project}; "
                f"unset one, or list both in {ALLOWED_PROJECTS}"
            )
        return replace(self, credentials_project_id=project, project_id=self.project_id or project)

    def project_allowed(self, project_id: str) -> bool:
        """The allowlist if set, else only the credentials' project, else ``project_id``;
        with none of them (``token`` auth), any project the token can act in (a warning
        is logged at start-up)."""
        default = self.credentials_project_id or self.project_id
        allowed = self.allowed_projects or ((default,) if default else ())
        return not allowed or project_id in allowed


def _credentials_project(env: Mapping[str, str], auth: str) -> str | None:
    """The project the credentials name in the environment (Keystone's comes from its token)."""
    if auth == "aksk":
        return env.get(SDK_PROJECT_ID) or None
    if auth == "functiongraph":
        return env.get(RUNTIME_PROJECT_ID) or env.get(SDK_PROJECT_ID) or None
    return None


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(name, "").strip() or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())
