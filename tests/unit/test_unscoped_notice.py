"""No project limit (token auth, no allowlist, no project) is said once per process, and
is a warning only where events come from others (not for the CLI's operator)."""

from __future__ import annotations

import logging
import threading

import pytest

from function import auth
from function.auth import TokenAuth, bind
from function.config import Settings

UNSCOPED = "neither NICATTACH_ALLOWED_PROJECTS nor NICATTACH_PROJECT_ID is set"


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_UNSCOPED_NOTED", threading.Event())


def notices(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if UNSCOPED in r.getMessage()]


def settings(**override: object) -> Settings:
    return Settings(policy_path="p.yaml", ecs_endpoint="http://api", token="t", **override)  # type: ignore[arg-type]


def test_warned_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="nicattach")
    for _ in range(3):
        bind(settings(), TokenAuth("t"))
    assert [r.levelno for r in notices(caplog)] == [logging.WARNING]


def test_cli_level_is_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="nicattach")
    bind(settings(), TokenAuth("t"), unscoped_level=logging.DEBUG)
    bind(settings(), TokenAuth("t"), unscoped_level=logging.DEBUG)
    assert [r.levelno for r in notices(caplog)] == [logging.DEBUG]


@pytest.mark.parametrize(
    "override", [{"project_id": "p1"}, {"allowed_projects": ("p1",)}], ids=["project", "allowlist"]
)
def test_silent_with_a_project_limit(
    caplog: pytest.LogCaptureFixture, override: dict[str, object]
) -> None:
    caplog.set_level(logging.DEBUG, logger="nicattach")
    bind(settings(**override), TokenAuth("t"))
    assert notices(caplog) == []
