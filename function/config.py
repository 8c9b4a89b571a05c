"""Settings, read once from the environment (DESIGN.md §5).

Every knob is a field of one frozen dataclass with a documented default;
the variable names are constants so the CLI, the tests and serverless.yml
can name them without typos.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from function.errors import InputError

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
)

AUTH_MODES = ("token",)
API_VERSIONS = ("v2.1", "v2")


class ConfigError(InputError):
    """The environment is incomplete or contradictory; the function cannot start."""

    code = "bad_config"


@dataclass(frozen=True)
class Settings:
    """Everything the function reads from its environment."""

    policy_path: str
    """Path of the policy file (YAML or JSON)."""
    ecs_endpoint: str
    """Compute API base URL, without the ``/v2.1`` suffix."""
    api_version: str = "v2.1"
    auth: str = "token"
    token: str = field(default="", repr=False)
    """``X-Auth-Token`` for ``token`` auth. Never logged (repr=False)."""
    project_id: str | None = None
    """The project to act in when an event names none."""
    allowed_projects: tuple[str, ...] = ()
    """Projects the function may act in; empty means only ``project_id`` (if set)."""
    sink: str | None = None
    """Where completion events are POSTed (``NICATTACH_SINK``, else ``K_SINK``)."""
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
        settings = cls(
            policy_path=_required(env, POLICY),
            ecs_endpoint=_required(env, ECS_ENDPOINT).rstrip("/"),
            api_version=_choice(env, API_VERSION, API_VERSIONS, "v2.1"),
            auth=_choice(env, AUTH, AUTH_MODES, "token"),
            token=env.get(TOKEN, ""),
            project_id=env.get(PROJECT_ID) or None,
            allowed_projects=_csv(env.get(ALLOWED_PROJECTS, "")),
            sink=env.get(SINK) or env.get(K_SINK) or None,
            wait_active_s=_number(env, WAIT_ACTIVE_S, 120.0),
            deadline_s=_number(env, DEADLINE_S, 50.0),
            max_body_bytes=int(_number(env, MAX_BODY_BYTES, 1_048_576)),
            event_source=env.get(EVENT_SOURCE) or "/nic-autoattach",
            wait_port_active_s=_number(env, WAIT_PORT_ACTIVE_S, 10.0),
            device_tags=_flag(env, DEVICE_TAGS),
        )
        if settings.auth == "token" and not settings.token:
            raise ConfigError(f"{AUTH}=token needs {TOKEN}")
        return settings

    def project_allowed(self, project_id: str) -> bool:
        """The allowlist if set, else only ``project_id``; with neither, any project
        the credentials can act in (a warning is logged at start-up)."""
        allowed = self.allowed_projects or ((self.project_id,) if self.project_id else ())
        return not allowed or project_id in allowed


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
