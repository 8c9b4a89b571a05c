"""Wiring, in one function: settings (and clock, sleep, random) in, a service out.

The only place that chooses concrete parts: the auth mode, the compute
backend, the sink, the HTTP session. Everything else receives them. Tests
build services here with a fake ``Timing`` and never sleep for real.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from function.app.service import Service
from function.auth import Auth, auth_from_settings, bind
from function.compute.base import ComputeBackend
from function.compute.os_interface import EcsClient, NovaBackend
from function.config import ConfigError, Settings
from function.config.policy_file import load_policy
from function.converge.convergence import Converger
from function.converge.flow import Flow
from function.converge.waiter import Waiter
from function.delivery import emit
from function.domain.lifecycle import Action
from function.domain.policy import Policy
from function.domain.timing import Timing
from function.lifecycle.client import AsClient
from function.lifecycle.releaser import Releaser
from function.transport import tls
from function.transport.session import HttpSession, Session

REAL = Timing(clock=time.monotonic, sleep=time.sleep, rng=random.random)


def build_service(
    settings: Settings,
    *,
    timing: Timing = REAL,
    session: HttpSession | None = None,
    policy: Policy | None = None,
    wall: Any = time.time,
) -> Service:
    """Authenticate (``keystone`` does so now: bad credentials stop the start) and assemble."""
    policy = policy if policy is not None else load_policy(settings.policy_path)
    session = session if session is not None else new_session(settings)
    auth = auth_from_settings(settings)
    settings = bind(settings, auth)  # keystone: catalog endpoint, token's project
    backend = compute_backend(settings, session, auth, timing)
    waiter = Waiter(backend, timing, wait_active_s=settings.wait_active_s,
                    wait_port_active_s=settings.wait_port_active_s)  # fmt: skip
    converger = Converger(backend, waiter, prune=settings.prune,
                          write_reserve=min(5.0, settings.deadline_s * 0.2))  # fmt: skip
    reads = ThreadPoolExecutor(max_workers=max(2, settings.concurrency),
                               thread_name_prefix="nicattach-read")  # fmt: skip
    flow = Flow(settings, policy, backend, waiter, converger, reads)
    sink = emit.sink_from_settings(settings, session, auth, timing=timing)
    releaser = hook_releaser(settings, session, auth, timing, wall)
    return Service(settings, policy, auth, backend, flow, sink, session, timing, releaser)


def hook_releaser(
    settings: Settings, session: HttpSession, auth: Auth, timing: Timing, wall: Any = time.time
) -> Releaser:
    """Answers Auto Scaling lifecycle hooks (``NICATTACH_AS_ENDPOINT``; else reports only)."""
    client = None
    if settings.as_endpoint:
        timeout = (settings.connect_timeout_s, settings.read_timeout_s)
        client = AsClient(session, settings.as_endpoint, auth, timing=timing, timeout=timeout)
    return Releaser(client, on_failure=Action(settings.hook_on_failure.upper()),
                    extend_within_s=settings.hook_extend_within_s, wall=wall)  # fmt: skip


def compute_backend(
    settings: Settings, session: HttpSession, auth: Auth, timing: Timing
) -> ComputeBackend:
    if settings.backend == "nova":
        client = EcsClient(session, settings.ecs_endpoint, auth, api_version=settings.api_version,
                           timeout=(settings.connect_timeout_s, settings.read_timeout_s),
                           timing=timing)  # fmt: skip
        return NovaBackend(client, marks=settings.device_tags)
    raise ConfigError(f"backend {settings.backend!r} is not available")


def new_session(settings: Settings) -> Session:
    """One keep-alive session per process, shared by threads (see ``transport/session.py``)."""
    verify = tls.verify(settings.ca_bundle)
    pool = max(32, settings.concurrency * 4)
    return Session(ca_certs=verify if isinstance(verify, str) else None, maxsize=pool)
