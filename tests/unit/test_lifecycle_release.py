"""The release decision as a table, the AS error map, and the releaser's idempotence over a
fake AS that answers like the real one (one answer per hook; AS.7042 after that)."""

from __future__ import annotations

from typing import Any

import pytest

from function.config import ConfigError, Settings
from function.domain.errors import ApiPermanentError, ApiTemporaryError
from function.domain.lifecycle import (
    LAUNCHING,
    TERMINATING,
    Action,
    Hanging,
    Lifecycle,
    Release,
    pick,
    seconds_left,
)
from function.domain.model import ServerRef
from function.domain.outcome import completed, failed, skipped, verdict
from function.domain.timing import Timing
from function.lifecycle.client import hanging_from_api, read_fault
from function.lifecycle.decision import decide, should_extend
from function.lifecycle.releaser import NOT_CONFIGURED, Releaser
from function.transport.api import check_response
from function.transport.session import Response

SERVER, PROJECT, GROUP = "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11", "p1", "g1"
DONE = completed(SERVER, PROJECT, ("r",), True, ())
SKIPPED = skipped(SERVER, PROJECT, "no_rule_matched")
PERMANENT = failed(SERVER, PROJECT, "network_not_found", "x", retryable=False)
RETRYABLE = failed(SERVER, PROJECT, "server_not_ready", "x", retryable=True)
LAUNCH, LEAVE = Lifecycle(GROUP, "h", "k", LAUNCHING), Lifecycle(GROUP, "h", "k", TERMINATING)
NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
TIMING = Timing(clock=lambda: 0.0, sleep=lambda s: None, rng=lambda: 0.5)


@pytest.mark.parametrize(
    ("hook", "outcome", "expected"),
    [
        (LAUNCH, DONE, Action.CONTINUE),
        (LAUNCH, SKIPPED, Action.CONTINUE),
        (LAUNCH, PERMANENT, Action.ABANDON),
        (LAUNCH, RETRYABLE, None),
        (LEAVE, PERMANENT, Action.CONTINUE),
        (Lifecycle(GROUP), DONE, Action.CONTINUE),
    ],
)
def test_decide(hook: Lifecycle, outcome: Any, expected: Action | None) -> None:
    assert decide(hook, outcome, Action.ABANDON) == expected
    if outcome is PERMANENT and not hook.terminating:
        assert decide(hook, outcome, Action.CONTINUE) is Action.CONTINUE


@pytest.mark.parametrize(
    ("outcome", "left", "expected"),
    [
        (RETRYABLE, 100.0, True),
        (RETRYABLE, 600.0, True),
        (RETRYABLE, 601.0, False),
        (RETRYABLE, -5.0, False),  # too late: the default result applies
        (RETRYABLE, None, False),
        (failed(SERVER, PROJECT, "unauthorized", "x", retryable=True), 100.0, False),
        (PERMANENT, 100.0, False),
        (DONE, 100.0, False),
    ],
)
def test_should_extend(outcome: Any, left: float | None, expected: bool) -> None:
    assert should_extend(outcome, left, 600.0) is expected


@pytest.mark.parametrize(
    ("timeout", "left"),
    [
        ("2027-01-15T08:10:00Z", 600.0),
        ("2027-01-15T08:00:00+00:00", 0.0),
        ("2027-01-15T08:00:30", 30.0),
        ("tomorrow", None),
        (None, None),
        ("", None),
    ],
)
def test_seconds_left(timeout: str | None, left: float | None) -> None:
    assert seconds_left(timeout, NOW) == left


def test_pick_prefers_the_hanging_record_of_the_hook() -> None:
    old = Hanging(SERVER, GROUP, "h", "k0", "CONTINUE")
    new = Hanging(SERVER, GROUP, "h", "k1", "HANGING")
    other = Hanging(SERVER, GROUP, "h2", "k2", "HANGING")
    assert pick([old, other, new], SERVER, "h") == new
    assert pick([old], SERVER, None) == old
    assert pick([other], SERVER, "h") is None


def test_a_pending_release_makes_the_verdict_a_retry() -> None:
    release = Release(GROUP, "h", None, "callback failed", retry=True)
    assert verdict([DONE]).http_status == 200
    assert verdict([DONE.__class__(**{**DONE.__dict__, "lifecycle": release})]).retry


def answer(status: int, body: bytes = b"", **headers: str) -> Response:
    return Response(status, "", headers, body)


@pytest.mark.parametrize(
    ("response", "kind", "code"),
    [
        (
            answer(400, b'{"error": {"code": "AS.7042", "message": "gone"}}'),
            ApiPermanentError,
            "AS.7042",
        ),
        (
            answer(403, b'{"error_code": "AS.0003", "error_msg": "no"}'),
            ApiPermanentError,
            "AS.0003",
        ),
        (answer(404, b"<html>"), ApiPermanentError, "http_404"),
        (answer(429, b"{}", **{"Retry-After": "2"}), ApiTemporaryError, "throttled"),
        (answer(503, b'{"error": {"code": "AS.0001"}}'), ApiTemporaryError, "server_error"),
        (answer(401, b"{}"), ApiTemporaryError, "unauthorized"),
        (answer(200, b"not json"), ApiTemporaryError, "bad_answer"),
    ],
)
def test_check_answer_maps_every_error_once(response: Response, kind: type, code: str) -> None:
    with pytest.raises(kind) as caught:
        check_response(response, "AS PUT x", read_fault)
    assert caught.value.code == code


def test_check_answer_accepts_204() -> None:
    assert check_response(answer(204), "AS PUT x", read_fault) == {}


def test_hanging_from_api_drops_malformed_items() -> None:
    good = {
        "instance_id": SERVER,
        "lifecycle_action_key": "k",
        "lifecycle_hook_status": "hanging",
        "scaling_group_id": GROUP,
        "lifecycle_hook_name": "h",
    }
    assert hanging_from_api(good) == Hanging(SERVER, GROUP, "h", "k", "HANGING")
    assert hanging_from_api({**good, "lifecycle_action_key": None}) is None
    assert hanging_from_api({**good, "timeout": 5}) is None
    assert hanging_from_api("x") is None


class FakeAs:
    """One hook record; a callback is accepted only while it is HANGING (else AS.7042)."""

    def __init__(
        self,
        status: str = "HANGING",
        key: str = "k",
        timeout: str | None = None,
        fail: Exception | None = None,
    ) -> None:
        self.record = Hanging(SERVER, GROUP, "h", key, status, timeout)
        self.fail = fail
        self.calls: list[tuple[str, Any]] = []

    def callback(
        self,
        project: str,
        group: str,
        action: Action,
        deadline: Any,
        *,
        key: str | None = None,
        instance_id: str | None = None,
        hook_name: str | None = None,
    ) -> None:
        self.calls.append(("callback", action.value))
        if self.fail is not None:
            raise self.fail
        matches = key == self.record.action_key if key else hook_name == self.record.hook_name
        if self.record.status != "HANGING" or not matches:
            raise ApiPermanentError("gone", code="AS.7042", status=400, request_id=None)
        if action is not Action.EXTEND:
            self.record = Hanging(SERVER, GROUP, "h", self.record.action_key, action.value)

    def hanging(self, project: str, group: str, instance_id: str, deadline: Any) -> list[Hanging]:
        self.calls.append(("list", None))
        return [self.record]


def release(fake: FakeAs | None, outcome: Any, hook: Lifecycle = LAUNCH) -> Release:
    releaser = Releaser(fake, wall=lambda: NOW)  # type: ignore[arg-type]
    result = releaser.release(
        ServerRef(SERVER, PROJECT, lifecycle=hook), outcome, TIMING.deadline(10)
    )
    assert result.lifecycle is not None
    return result.lifecycle


@pytest.mark.parametrize(
    ("fake", "outcome", "result", "detail", "calls"),
    [
        (FakeAs(), DONE, "CONTINUE", "released", ["callback"]),
        (FakeAs("CONTINUE"), DONE, "CONTINUE", "already released", ["callback", "list"]),
        (FakeAs("ABANDON"), DONE, "ABANDON", "already released as ABANDON", ["callback", "list"]),
        (FakeAs(key="k2"), DONE, "CONTINUE", "released", ["callback", "list", "callback"]),
        (FakeAs(), PERMANENT, "ABANDON", "released", ["callback"]),
        (
            FakeAs(timeout="2027-01-15T08:05:00Z"),
            RETRYABLE,
            "EXTEND",
            "extended by an hour",
            ["list", "callback"],
        ),
        (FakeAs(timeout="2027-01-15T09:05:00Z"), RETRYABLE, None, "held", ["list"]),
        (
            FakeAs(fail=ApiPermanentError("no", code="AS.0003", status=403, request_id=None)),
            DONE,
            None,
            "callback refused",
            ["callback"],
        ),
        (
            FakeAs(fail=ApiTemporaryError("x", code="timeout", status=None, request_id=None)),
            DONE,
            None,
            "callback failed (timeout)",
            ["callback"],
        ),
    ],
)
def test_the_releaser(
    fake: FakeAs, outcome: Any, result: str | None, detail: str, calls: list[str]
) -> None:
    got = release(fake, outcome)
    assert (got.result.value if got.result else None) == result
    assert got.detail.startswith(detail)
    assert [name for name, _ in fake.calls] == calls
    assert got.retry is detail.startswith("callback failed")


def test_hooks_outside_the_allowed_projects_or_without_an_endpoint_are_not_answered() -> None:
    fake = FakeAs()
    assert release(fake, skipped(SERVER, PROJECT, "project_not_allowed")).result is None
    assert release(fake, failed(SERVER, None, "no_project", "x", retryable=False)).result is None
    assert fake.calls == []
    assert release(None, DONE).detail == NOT_CONFIGURED


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"NICATTACH_HOOK_ON_FAILURE": "maybe"}, "NICATTACH_HOOK_ON_FAILURE must be one of"),
        ({"NICATTACH_AS_ENDPOINT": "as.example.com"}, "NICATTACH_AS_ENDPOINT must be an http(s)"),
        ({"NICATTACH_HOOK_EXTEND_WITHIN_S": "-1"}, "must not be negative"),
    ],
)
def test_settings(env: dict[str, str], problem: str) -> None:
    base = {
        "NICATTACH_POLICY": "p.yaml",
        "NICATTACH_ECS_ENDPOINT": "https://x",
        "NICATTACH_TOKEN": "t",
    }
    settings = Settings.from_env(
        {**base, "NICATTACH_HOOK_ON_FAILURE": "Continue", "NICATTACH_AS_ENDPOINT": "https://as.x/"}
    )
    assert (settings.hook_on_failure, settings.as_endpoint) == ("continue", "https://as.x")
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**base, **env})
    assert problem in caught.value.message
