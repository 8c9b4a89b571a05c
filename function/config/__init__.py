"""Settings, read once from the environment (docs/configuration.md): every knob a field of
one frozen dataclass with a documented default; the variable names are constants so the
CLI, the tests and serverless.yml can name them without typos."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from function import logs
from function.config.endpoints import ALLOW_HTTP
from function.config.reader import ConfigError as ConfigError
from function.config.reader import Reader, csv_values

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
BACKEND = "NICATTACH_BACKEND"
NETWORK_ENDPOINT = "NICATTACH_NETWORK_ENDPOINT"
OWNERSHIP = "NICATTACH_OWNERSHIP"
PRUNE = "NICATTACH_PRUNE"
FIX_DRIFT = "NICATTACH_FIX_DRIFT"
READY_EVENT = "NICATTACH_READY_EVENT"
NETWORK_FLAVOUR = "NICATTACH_NETWORK_FLAVOUR"
CONCURRENCY = "NICATTACH_CONCURRENCY"
SWEEP_WINDOW_S = "NICATTACH_SWEEP_WINDOW_S"
EG_ENDPOINT = "NICATTACH_EG_ENDPOINT"
AS_ENDPOINT = "NICATTACH_AS_ENDPOINT"
HOOK_ON_FAILURE = "NICATTACH_HOOK_ON_FAILURE"
HOOK_EXTEND_WITHIN_S = "NICATTACH_HOOK_EXTEND_WITHIN_S"
OS_AUTH_URL = "OS_AUTH_URL"
SMN_TOPICS = "NICATTACH_SMN_TOPICS"
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
    BACKEND,
    NETWORK_ENDPOINT,
    OWNERSHIP,
    PRUNE,
    FIX_DRIFT,
    READY_EVENT,
    NETWORK_FLAVOUR,
    CONCURRENCY,
    SWEEP_WINDOW_S,
    EG_ENDPOINT,
    AS_ENDPOINT,
    HOOK_ON_FAILURE,
    HOOK_EXTEND_WITHIN_S,
    ALLOW_HTTP,
    SMN_TOPICS,
    SDK_AK,
    SDK_SK,
    SDK_SECURITY_TOKEN,
    SDK_PROJECT_ID,
)

AUTH_MODES = ("token", "keystone", "aksk", "functiongraph")
API_VERSIONS = ("v2.1", "v2")
BACKENDS = ("nova", "huawei-v1")
MARK_MODES = ("auto", "on", "off")
OWNERSHIP_MODES = ("auto", "device-tag", "port")
NETWORK_FLAVOURS = ("auto", "huawei-vpc", "neutron")
HOOK_RESULTS = ("abandon", "continue")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECRETS = (TOKEN, SDK_AK, SDK_SK, SDK_SECURITY_TOKEN)
"""Read stripped of surrounding white space (a secret read from a file ends in a newline)."""


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
    wait_active_s: float = 45.0
    """How long to wait for a BUILDing server to become ACTIVE (never past the deadline)."""
    deadline_s: float = 50.0
    """The whole budget of one event; keep it below the platform's function timeout."""
    max_body_bytes: int = 1_048_576
    """Larger request bodies are refused with HTTP 413."""
    event_source: str = "/nic-autoattach"
    """``source`` attribute of the events this function emits."""
    wait_port_active_s: float = 10.0
    """How long to wait for a new NIC's ``port_state`` to become ACTIVE (0 disables)."""
    device_tags: str = "auto"
    """Mark the NICs this function creates with a device tag (set at 2.49, read at 2.70):
    ``auto`` when the endpoint's version document offers 2.70, ``on``, ``off``."""
    backend: str = "nova"
    """``nova`` (the ``os-interface`` API) or ``huawei-v1`` (ECS native NIC API)."""
    network_endpoint: str | None = None
    """The network API (Neutron's ``/v2.0``; Huawei: the VPC endpoint) base URL, without
    ``/v2.0``; with ``keystone`` auth the catalog's ``network`` endpoint when unset."""
    ownership: str = "auto"
    """How the function proves a NIC is its own: ``port`` (a port it names first, then
    attaches by id: every backend, needs the network API), ``device-tag`` (Nova's device
    tag written with the attach, 2.49/2.70); ``auto``: ``port`` on ``huawei-v1``, on
    ``nova`` the device tag where the endpoint offers 2.70, else ``port`` when a network
    endpoint is known."""
    prune: bool = False
    """Detach NICs this function made (marked) that no request wants any more."""
    network_flavour: str = "auto"
    """How the network API spells a NIC profile: ``huawei-vpc`` (source/destination check
    off is the pair ``1.1.1.1/0``), ``neutron`` (the pair ``0.0.0.0/0`` and eight IPv6
    prefixes that cover all but multicast: Neutron refuses ``::/0``); ``auto``:
    ``huawei-vpc`` with ``huawei-v1``, ``neutron`` with ``nova`` (set ``huawei-vpc`` for
    Huawei's Nova-compatible endpoint)."""
    fix_drift: bool = True
    """Put back what a NIC profile asks for when a port of the function's lost it (someone
    re-enabled the source/destination check, removed a pair or the IPv6 address); false:
    only report it (``profile_drift`` on the completed event)."""
    ready_event: bool = False
    """After a completed outcome, also send one ``nicattach.nic.ready`` event per policy NIC
    whose port is ACTIVE (and bound on the host, where the network API shows it) to the sink."""
    concurrency: int = 32
    """The ceiling of the adaptive concurrency (``function/gate.py``): servers of one event
    handled at once (they start as the compute API's gate admits them) and of a sweep, and
    requests in flight to each API (compute, network, Auto Scaling: a gate each)."""
    sweep_window_s: float = 1200.0
    """The TIMER sweep looks at servers changed within this window (twice the timer)."""
    as_endpoint: str | None = None
    """Auto Scaling API base URL (``https://as.{region}.myhuaweicloud.com``), for answering
    lifecycle hooks; without it hook events are handled but the hooks are not answered."""
    hook_on_failure: str = "abandon"
    """The answer to a lifecycle hook when the server's NICs failed for good:
    ``abandon`` (the instance is removed) or ``continue`` (it enters service anyway)."""
    hook_extend_within_s: float = 600.0
    """EXTEND a hook (one more hour) after a retryable failure when it times out sooner."""
    smn_topics: tuple[str, ...] = ()
    """SMN topics whose messages the HTTP entry accepts (signed) and whose HTTP(S)
    subscription it confirms; empty: SMN over HTTP is refused (docs/smn.md)."""
    allow_http: bool = False
    """Plain ``http://`` endpoints on other hosts than this one (``NICATTACH_ALLOW_HTTP``)."""
    connect_timeout_s: float = 3.05
    read_timeout_s: float = 20.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable; raise one ``ConfigError`` listing every mistake."""
        from function.config.checks import credentials_project, problems  # beside the checks

        env = os.environ if environ is None else environ
        read = Reader(env)
        auth = read.choice(AUTH, AUTH_MODES, "token")
        endpoint = env.get(ECS_ENDPOINT, "").strip()
        if not endpoint and auth != "keystone":
            read.problems.append(f"{ECS_ENDPOINT} is not set")
        read.choice(LOG_LEVEL, LOG_LEVELS, "INFO", upper=True)
        settings = cls(
            policy_path=read.required(POLICY),
            ecs_endpoint=endpoint.rstrip("/"),
            api_version=read.choice(API_VERSION, API_VERSIONS, "v2.1"),
            auth=auth,
            token=read.secret(TOKEN),
            project_id=env.get(PROJECT_ID, "").strip() or None,
            credentials_project_id=credentials_project(env, auth),
            allowed_projects=csv_values(env.get(ALLOWED_PROJECTS, "")),
            sink=(env.get(SINK) or env.get(K_SINK) or "").strip() or None,
            eg_endpoint=(env.get(EG_ENDPOINT) or "").strip().rstrip("/") or None,
            ca_bundle=env.get(CA_BUNDLE, "").strip() or None,
            access_key=read.secret(SDK_AK),
            secret_key=read.secret(SDK_SK),
            security_token=read.secret(SDK_SECURITY_TOKEN),
            openstack=tuple(sorted((k, v) for k, v in env.items() if k.startswith(OS_PREFIX))),
            wait_active_s=read.number(WAIT_ACTIVE_S, 45.0),
            deadline_s=read.number(DEADLINE_S, 50.0, positive=True),
            max_body_bytes=int(read.number(MAX_BODY_BYTES, 1_048_576, positive=True)),
            event_source=env.get(EVENT_SOURCE, "").strip() or "/nic-autoattach",
            wait_port_active_s=read.number(WAIT_PORT_ACTIVE_S, 10.0),
            device_tags=read.marks(DEVICE_TAGS),
            backend=read.choice(BACKEND, BACKENDS, "nova"),
            network_endpoint=(env.get(NETWORK_ENDPOINT) or "").strip().rstrip("/") or None,
            ownership=read.choice(OWNERSHIP, OWNERSHIP_MODES, "auto", lower=True),
            prune=read.flag(PRUNE),
            fix_drift=read.flag(FIX_DRIFT, default=True),
            ready_event=read.flag(READY_EVENT),
            network_flavour=read.choice(NETWORK_FLAVOUR, NETWORK_FLAVOURS, "auto", lower=True),
            concurrency=int(read.number(CONCURRENCY, 32, positive=True, limit=64)),
            sweep_window_s=read.number(SWEEP_WINDOW_S, 1200.0, positive=True),
            as_endpoint=(env.get(AS_ENDPOINT) or "").strip().rstrip("/") or None,
            hook_on_failure=read.choice(HOOK_ON_FAILURE, HOOK_RESULTS, "abandon", lower=True),
            hook_extend_within_s=read.number(HOOK_EXTEND_WITHIN_S, 600.0),
            allow_http=read.flag(ALLOW_HTTP),
            smn_topics=csv_values(env.get(SMN_TOPICS, "")),
        )
        found = read.problems + problems(settings)
        if found:
            raise ConfigError(found)
        for secret in (
            settings.token,
            settings.access_key,
            settings.secret_key,
            settings.security_token,
            env.get("OS_PASSWORD", "").strip(),
            env.get("OS_APPLICATION_CREDENTIAL_SECRET", "").strip(),
        ):
            logs.register_secret(secret)
        return settings.with_credentials_project(settings.credentials_project_id)

    @property
    def port_first(self) -> bool:
        """Whether every network request is made from a port the function names first
        (``None`` cases, Nova with ``auto``, are decided once the endpoint is asked)."""
        return self.ownership == "port" or (self.ownership == "auto" and self.backend != "nova")

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

    @property
    def allowed_project_ids(self) -> tuple[str, ...]:
        """The allowlist if set, else only the credentials' project, else ``project_id``;
        empty with none of them (``token`` auth): any project the token can act in (a
        warning is logged at start-up)."""
        default = self.credentials_project_id or self.project_id
        return self.allowed_projects or ((default,) if default else ())

    def project_allowed(self, project_id: str) -> bool:
        return not self.allowed_project_ids or project_id in self.allowed_project_ids
