"""One server, start to outcome: tags, desired NICs, wait, read, attach, re-read, undo duplicates.

Converge, don't replay: every write is preceded by a read, and the loop
that re-reads is the retry. Whatever happens, ``run`` returns exactly one
``Outcome``; only programming errors escape it.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from typing import Any

from function.compute.os_interface import EcsClient
from function.config import Settings
from function.domain.errors import (
    ApiPermanentError,
    ApiTemporaryError,
    PermanentError,
    TemporaryError,
)
from function.domain.model import ServerRef
from function.domain.outcome import Outcome, completed, failed, skipped
from function.domain.plan import Interface, attach_body, kept, plan_attach, plan_detach
from function.domain.policy import Desired, NicRequest, Policy, evaluate
from function.domain.tags import Tags, parse_tags

log = logging.getLogger("nicattach.flow")

READY = frozenset({"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"})
GONE = frozenset({"DELETED", "SOFT_DELETED"})
SETTLE_ROUNDS = 8  # re-read/detach rounds after the attaches, each bounded by the deadline
ATTACH_ROUNDS = 6  # read → attach → re-read rounds, each also bounded by the deadline
DEVICE_TAG_PREFIX = "nicattach:"
DEVICE_TAG_ATTACH = "2.49"  # attach with a device tag
DEVICE_TAG_READ = "2.70"  # the tag shows in os-interface answers


class Flow:
    """Brings one server to the policy's NICs. Stateless between servers; thread-safe."""

    def __init__(
        self,
        settings: Settings,
        policy: Policy,
        client: EcsClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._policy = policy
        self._client = client
        self._sleep = sleep
        self._clock = clock

    def preview(self, ref: ServerRef, tags: Tags | None) -> dict[str, Any]:
        """Reads only: the tags, the matching rules and the attach requests ``run`` would send."""
        project = ref.project_id or self._settings.project_id
        view: dict[str, Any] = {"server_id": ref.server_id, "project_id": project}
        if project is None or not self._settings.project_allowed(project):
            return {**view, "skipped": "no_project" if project is None else "project_not_allowed"}
        try:
            return _Run(self, ref.server_id, project, self._clock() + 60).preview(ref.status, tags)
        except _ServerGone:
            return {**view, "skipped": "server_gone"}
        except (TemporaryError, PermanentError) as exc:
            return {**view, "error": {"code": exc.code, "message": exc.message}}

    def run(self, ref: ServerRef, tags: Tags | None) -> Outcome:
        project = ref.project_id or self._settings.project_id
        if project is None:
            return failed(
                ref.server_id,
                None,
                "no_project",
                "the event names no project and NICATTACH_PROJECT_ID is not set",
                retryable=False,
            )
        if not self._settings.project_allowed(project):
            return skipped(ref.server_id, project, "project_not_allowed")
        run = _Run(self, ref.server_id, project, self._clock() + self._settings.deadline_s)
        try:
            return run.execute(ref.status, tags)
        except _ServerGone:
            return skipped(ref.server_id, project, "server_gone")
        except TemporaryError as exc:
            return failed(
                ref.server_id, project, exc.code, exc.message, retryable=True, rules=run.rules
            )
        except PermanentError as exc:
            return failed(
                ref.server_id, project, exc.code, exc.message, retryable=False, rules=run.rules
            )


class _ServerGone(Exception):
    """The server disappeared (404 or DELETED): nothing to do, not a failure."""


class _Run:
    """The state of one server's run: ids, deadline, what the first read saw."""

    def __init__(self, flow: Flow, server_id: str, project_id: str, deadline: float) -> None:
        self.flow = flow
        self.client = flow._client.bounded(deadline)
        self.server_id = server_id
        self.project_id = project_id
        self.deadline = deadline
        self.rules: tuple[str, ...] = ()

    def execute(self, status: str | None, tags: Tags | None) -> Outcome:
        status, tags = self._status_and_tags(status, tags)
        desired = evaluate(self.flow._policy, tags)
        self.rules = desired.rules
        if not desired.nics:
            return skipped(self.server_id, self.project_id, "no_rule_matched")
        if status is not None and status.upper() not in READY:
            self._wait_ready(status)
        return self._converge(desired)

    def preview(self, status: str | None, tags: Tags | None) -> dict[str, Any]:
        """What ``execute`` would do, using reads only (``invoke --dry-run``)."""
        status, tags = self._status_and_tags(status, tags)
        view: dict[str, Any] = {"server_id": self.server_id, "project_id": self.project_id,
                                "status": status, "tags": tags.as_strings()}  # fmt: skip
        desired = evaluate(self.flow._policy, tags)
        view["rules"] = list(desired.rules)
        missing = plan_attach(desired.nics, self._list()) if desired.nics else []
        view["planned"] = [attach_body(nic) for nic in missing]
        return view

    def _status_and_tags(self, status: str | None, tags: Tags | None) -> tuple[str | None, Tags]:
        if tags is not None:
            return status, tags
        server = self._get_server()
        return str(server.get("status", "")) or None, parse_tags(self._tags_of(server))

    def _converge(self, desired: Desired) -> Outcome:
        actual = self._list()
        first_read = frozenset(i.port_id for i in actual)
        # NICs carrying our device tag are ours even if an earlier delivery made them.
        before = first_read - {i.port_id for i in actual if i.tag.startswith(DEVICE_TAG_PREFIX)}
        attached = False
        last_error: Exception | None = None
        for _ in range(ATTACH_ROUNDS):
            missing = plan_attach(desired.nics, actual)
            if not missing:
                break
            for nic in missing:
                if not self._time_for_writes():
                    last_error = TemporaryError("deadline near", code="deadline_exceeded")
                    break
                posted, last_error = self._attach(nic)
                attached = attached or posted
            actual = self._settle(desired, before)
        if plan_attach(desired.nics, actual):
            raise last_error or TemporaryError("NICs still missing", code="not_converged")
        interfaces = [kept(nic, actual, before) for nic in desired.nics]
        observed = tuple(self._await_active(i) for i in interfaces if i is not None)
        return completed(self.server_id, self.project_id, desired.rules, attached, observed)

    def _attach(self, nic: NicRequest) -> tuple[bool, Exception | None]:
        """POST one NIC. Ambiguous or busy answers are left to the re-read that follows."""
        tag = _device_tag(nic) if self.flow._settings.device_tags else None
        try:
            self.client.attach(
                self.project_id, self.server_id, attach_body(nic, tag),
                microversion=DEVICE_TAG_ATTACH if tag else None,
            )  # fmt: skip
            log.info("attached %s to server %s", _describe(nic), self.server_id)
            return True, None
        except ApiPermanentError as exc:
            if exc.code != "fixed_ip_in_use":  # a racing copy may hold it: re-read decides
                raise
            return False, exc
        except ApiTemporaryError as exc:
            log.warning("attach %s: %s; re-reading", _describe(nic), exc.code)
            if exc.code == "server_busy":
                self._wait_ready("BUSY")
            else:
                self._pause(exc.delay)
            return False, exc

    def _settle(self, desired: Desired, before: frozenset[str]) -> list[Interface]:
        """Re-read, and detach the duplicates racing copies made, until none is left.

        DELETE is idempotent (202 even for a port already gone), so a failed one is
        retried after a re-read.
        """
        gone: set[str] = set()
        for attempt in range(1, SETTLE_ROUNDS + 1):
            try:
                actual = [i for i in self._list() if i.port_id not in gone]
                detach = plan_detach(desired.nics, before, actual)
                if not detach:
                    return actual
                for item in detach:
                    log.warning("detaching duplicate NIC %s from server %s (keeping %s)",
                                item.port_id, self.server_id, item.keep)  # fmt: skip
                    self.client.detach(self.project_id, self.server_id, item.port_id)
                    gone.add(item.port_id)
            except ApiTemporaryError as exc:
                # Keep trying while time is left: a duplicate left behind now could not be
                # told apart from an operator's NIC by a later delivery.
                if attempt == SETTLE_ROUNDS or self.flow._clock() >= self.deadline:
                    raise
                self._pause(exc.delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _await_active(self, interface: Interface) -> Interface:
        """Poll a new NIC until its port is ACTIVE; report the state actually observed."""
        wait = self.flow._settings.wait_port_active_s
        limit = min(self.deadline, self.flow._clock() + wait)
        attempt = 0
        while interface.port_state != "ACTIVE" and wait > 0 and self.flow._clock() < limit:
            attempt += 1
            self.flow._sleep(min(0.1 * 2**attempt, 2.0, max(0.0, limit - self.flow._clock())))
            try:
                interface = self.client.get_interface(
                    self.project_id, self.server_id, interface.port_id
                )
            except (ApiTemporaryError, ApiPermanentError) as exc:
                log.info("port %s state unknown (%s)", interface.port_id, exc.code)
                break
        return interface

    def _time_for_writes(self) -> bool:
        """Keep a reserve of the deadline for the re-read and duplicate undo after a POST."""
        reserve = min(5.0, self.flow._settings.deadline_s * 0.2)
        return self.flow._clock() < self.deadline - reserve

    def _wait_ready(self, status: str) -> None:
        """Poll until the server can take a NIC (capped exponential backoff with jitter)."""
        limit = min(self.deadline, self.flow._clock() + self.flow._settings.wait_active_s)
        attempt = 0
        while True:
            if status.upper() == "ERROR":
                raise PermanentError(
                    f"server {self.server_id} is in ERROR", code="server_error_state"
                )
            if status.upper() in GONE:
                raise _ServerGone()
            if status.upper() in READY:
                return
            if self.flow._clock() >= limit:
                raise TemporaryError(
                    f"server {self.server_id} still {status}", code="server_not_ready"
                )
            attempt += 1
            self.flow._sleep(min(0.25 * 2**attempt, 5.0) * (0.5 + random.random() / 2))
            status = str(self._get_server().get("status", ""))

    def _get_server(self) -> dict[str, object]:
        try:
            return self.client.get_server(self.project_id, self.server_id)
        except ApiPermanentError as exc:
            if exc.status == 404:
                raise _ServerGone() from exc
            raise

    def _tags_of(self, server: dict[str, object]) -> object:
        if "tags" in server:
            return server["tags"]
        return self.client.get_tags(self.project_id, self.server_id)

    def _list(self) -> list[Interface]:
        version = DEVICE_TAG_READ if self.flow._settings.device_tags else None
        try:
            return self.client.list_interfaces(self.project_id, self.server_id, version)
        except ApiPermanentError as exc:
            if exc.status == 404:
                raise _ServerGone() from exc
            raise

    def _pause(self, hint: float | None) -> None:
        delay = hint if hint is not None else 0.2 + random.random() * 0.3
        self.flow._sleep(min(delay, max(0.0, self.deadline - self.flow._clock())))


def _device_tag(nic: NicRequest) -> str:
    """``nicattach:<first rule>``, within Nova's 60 characters and without '/' or ','."""
    rule = re.sub(r"[/,]", "-", nic.rules[0] if nic.rules else "policy")
    return (DEVICE_TAG_PREFIX + rule)[:60]


def _describe(nic: NicRequest) -> str:
    if nic.port_id is not None:
        return f"port {nic.port_id}"
    return f"net {nic.net_id}" + (f" ip {nic.fixed_ip}" if nic.fixed_ip else "")
