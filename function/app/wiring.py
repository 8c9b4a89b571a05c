"""Wiring, in one function: settings (and clock, sleep, random) in, a service out.

The only place that chooses concrete parts: the auth mode, the compute
backend, the sink, the HTTP session. Everything else receives them. Tests
build services here with a fake ``Timing`` and never sleep for real.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from function.app import reserves
from function.app.service import Service
from function.auth import Auth, auth_from_settings, bind
from function.compute.base import ComputeBackend
from function.config import ConfigError, Settings
from function.config.checks import network_problem
from function.config.policy_file import load_policy
from function.config.profile_keys import profile_refusals
from function.converge.convergence import Converger
from function.converge.flow import Flow, FlowScope
from function.converge.ports import PortOwner
from function.converge.waiter import Waiter
from function.delivery import emit
from function.domain.errors import PolicyError
from function.domain.policy import Policy
from function.domain.port_profile import Flavour
from function.domain.timing import Timing
from function.gate import Gate
from function.network.bandwidths import BandwidthClient
from function.network.client import NetworkClient
from function.network.eips import EipClient, FloatingIps, PublicIps
from function.transport import tls
from function.transport.session import Counted, HttpSession, Session

if TYPE_CHECKING:
    from function.compute.huawei_v1.backend import HuaweiV1Backend
    from function.compute.nova.backend import NovaBackend
    from function.lifecycle.releaser import Releaser

log = logging.getLogger("nicattach.wiring")
REAL = Timing(clock=time.monotonic, sleep=time.sleep, rng=random.random)


def build_service(
    settings: Settings,
    *,
    timing: Timing = REAL,
    session: HttpSession | None = None,
    policy: Policy | None = None,
    unscoped_level: int = logging.WARNING,
    wall: Callable[[], float] = time.time,
) -> Service:
    """Authenticate (``keystone`` does so now: bad credentials stop the start) and assemble.
    ``unscoped_level``: how loudly to say that no project limit is set (see ``auth.bind``)."""
    policy = policy if policy is not None else load_policy(settings.policy_path)
    refuse_unsupported(policy, settings.backend, port_first=settings.port_first)
    session = session if session is not None else new_session(settings)
    auth = auth_from_settings(settings)
    settings = bind(settings, auth, unscoped_level=unscoped_level)  # keystone: endpoint, project
    if settings.backend == "nova" and settings.api_version == "v2":
        log.warning(
            "NICATTACH_API_VERSION=v2 has no microversions: the API shows no tags, so events "
            "must carry them (else tags_unavailable) and the sweep sees none"
        )
    reads = ThreadPoolExecutor(
        max_workers=max(2, settings.concurrency), thread_name_prefix="nicattach-read"
    )
    counted = Counted(session)  # the compute calls of each event, for its log line
    gate = Gate(settings.concurrency, timing)  # adaptive; the setting is its ceiling
    backend = compute_backend(settings, counted, auth, timing, reads, gate)
    waiter = Waiter(
        backend,
        timing,
        wait_active_s=settings.wait_active_s,
        wait_port_active_s=settings.wait_port_active_s,
    )
    ports = port_owner(settings, counted, auth, timing)
    converger = Converger(
        backend,
        waiter,
        prune=settings.prune,
        ports=ports,
        ownership=settings.ownership,
        reads=reads,
        fix_drift=settings.fix_drift,
        write_reserve=reserves.WRITES.of,
    )
    flow = Flow(FlowScope.of(settings), policy, backend, waiter, converger, reads)
    sink = emit.sink_from_settings(settings, session, auth, timing=timing)
    # Made on the first event with a lifecycle hook: most processes never see one.
    releaser = functools.cache(lambda: hook_releaser(settings, session, auth, timing, wall))
    ready = None
    if settings.ready_event and sink is not None:
        from function.app.ready import ReadyEvents  # NICATTACH_READY_EVENT only

        ready = ReadyEvents(sink, ports.client if ports else None, settings.event_source)
    return Service(
        settings,
        policy,
        auth,
        backend,
        flow,
        sink,
        session,
        timing,
        releaser,
        compute_calls=lambda: counted.calls,
        ready=ready,
        admit=gate.admitted,
    )


def hook_releaser(
    settings: Settings,
    session: HttpSession,
    auth: Auth,
    timing: Timing,
    wall: Callable[[], float] = time.time,
) -> Releaser:
    """Answers Auto Scaling lifecycle hooks (``NICATTACH_AS_ENDPOINT``; else reports only)."""
    from function.domain.lifecycle import Action
    from function.lifecycle.releaser import Releaser

    client = None
    if settings.as_endpoint:
        from function.lifecycle.client import AsClient  # NICATTACH_AS_ENDPOINT only

        timeout = (settings.connect_timeout_s, settings.read_timeout_s)
        client = AsClient(session, settings.as_endpoint, auth, timing=timing, timeout=timeout)
        client.limiter = Gate(settings.concurrency, timing)  # its own API, its own limit
    return Releaser(
        client,
        on_failure=Action(settings.hook_on_failure.upper()),
        extend_within_s=settings.hook_extend_within_s,
        wall=wall,
    )


def port_owner(
    settings: Settings, session: HttpSession, auth: Auth, timing: Timing
) -> PortOwner | None:
    """The function's ports through the network API, when an ownership mode may use them
    (``NICATTACH_NETWORK_ENDPOINT``, or the Keystone catalog's); refused with one line when
    the chosen ownership needs them and no endpoint is known."""
    problem = network_problem(settings)
    if problem:
        raise ConfigError(problem)
    if settings.port_first and not settings.network_endpoint:
        raise ConfigError(
            "NICATTACH_NETWORK_ENDPOINT is not set and the Keystone catalog "
            "has no network endpoint: ports first need the network API"
        )
    if not settings.network_endpoint or settings.ownership == "device-tag":
        return None
    timeout = (settings.connect_timeout_s, settings.read_timeout_s)
    client = NetworkClient(session, settings.network_endpoint, auth, timing=timing, timeout=timeout)
    client.limiter = Gate(settings.concurrency, timing)  # its own API, its own limit
    huawei = settings.backend == "huawei-v1"
    flavour = Flavour.HUAWEI_VPC if huawei else Flavour.NEUTRON
    if settings.network_flavour != "auto":
        flavour = Flavour(settings.network_flavour)
    eips: PublicIps = FloatingIps(client)
    bandwidths = None
    if huawei:
        eip = EipClient(session, settings.network_endpoint, auth, timing=timing, timeout=timeout)
        eip.limit(Gate(settings.concurrency, timing))  # each API throttles on its own
        bandwidths = BandwidthClient(
            session, settings.network_endpoint, auth, timing=timing, timeout=timeout
        )
        bandwidths.limit(Gate(settings.concurrency, timing))
        eips = eip
    return PortOwner(client, describe=not huawei, flavour=flavour, eips=eips, bandwidths=bandwidths)


def compute_backend(
    settings: Settings,
    session: HttpSession,
    auth: Auth,
    timing: Timing,
    reads: ThreadPoolExecutor | None = None,
    gate: Gate | None = None,
) -> ComputeBackend:
    """The backend ``NICATTACH_BACKEND`` names; its requests pass ``gate`` (a new one if
    none is given: adaptive, ``NICATTACH_CONCURRENCY`` its ceiling)."""
    gate = gate or Gate(settings.concurrency, timing)
    # Each backend imported when chosen: a process runs one, never both.
    if settings.backend == "nova":
        from function.compute.nova.backend import NovaBackend
        from function.compute.nova.client import NovaClient

        client = NovaClient(
            session,
            settings.ecs_endpoint,
            auth,
            api_version=settings.api_version,
            timeout=(settings.connect_timeout_s, settings.read_timeout_s),
            timing=timing,
        )
        client.limiter = gate
        return NovaBackend(client, marks=settings.device_tags)
    if settings.backend == "huawei-v1":
        from function.compute.huawei_v1.backend import HuaweiV1Backend
        from function.compute.huawei_v1.client import HuaweiV1Client

        v1 = HuaweiV1Client(
            session,
            settings.ecs_endpoint,
            auth,
            timing=timing,
            timeout=(settings.connect_timeout_s, settings.read_timeout_s),
        )
        v1.limiter = gate
        return HuaweiV1Backend(v1, reads)
    raise ConfigError(f"backend {settings.backend!r} is not available")


def backend_class(backend: str) -> type[NovaBackend] | type[HuaweiV1Backend] | None:
    """The class of a backend by its setting's name (imported then: only the one in use)."""
    if backend == "nova":
        from function.compute.nova.backend import NovaBackend

        return NovaBackend
    if backend == "huawei-v1":
        from function.compute.huawei_v1.backend import HuaweiV1Backend

        return HuaweiV1Backend
    return None


def refuse_unsupported(policy: Policy, backend: str, *, port_first: bool = True) -> None:
    """A backend that cannot set security groups (``nova``): a policy asking for them is
    refused (one line per rule and field), never silently half-applied. Decided on the
    backend's capabilities, before anything is built or authenticated. ``port_first``:
    whether the ownership in effect makes every NIC from a port (a NIC profile lives on
    the port; a Nova attach by ``net_id`` with a device tag cannot carry one)."""
    kind = backend_class(backend)
    if kind is None:
        return
    problems = [
        f"{policy.source}: rule {rule.name!r} attach[{index}].security_groups: the "
        f"{backend} backend cannot set security groups (use NICATTACH_BACKEND=huawei-v1)"
        for rule in policy.rules
        for index, spec in enumerate(rule.attach)
        if spec.security_groups and not kind.capabilities.security_groups
    ]
    problems += profile_refusals(policy, backend, kind.capabilities.profiles)
    if not port_first:
        problems += [
            f"{policy.source}: rule {rule.name!r} attach[{index}].{spec.profile.keys[0]}: "
            f"a NIC profile needs ports first, and the {backend} backend may attach by "
            f"device tag here (set NICATTACH_OWNERSHIP=port)"
            for rule in policy.rules
            for index, spec in enumerate(rule.attach)
            if spec.profile.keys
        ]
    if problems:
        raise PolicyError(problems)


def new_session(settings: Settings) -> Session:
    """One keep-alive session per process, shared by threads (see ``transport/session.py``)."""
    verify = tls.verify(settings.ca_bundle)
    pool = max(32, settings.concurrency * 4)
    return Session(ca_certs=verify if isinstance(verify, str) else None, maxsize=pool)
