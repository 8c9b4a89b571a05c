"""config.py: settings from the environment, and the mistakes it refuses."""

from __future__ import annotations

import pytest

from function.config import ConfigError, Settings

BASE = {
    "NICATTACH_POLICY": "policy.yaml",
    "NICATTACH_ECS_ENDPOINT": "http://127.0.0.1:8774/",
    "NICATTACH_TOKEN": "s3cret-token",
}


def test_defaults_and_parsing() -> None:
    s = Settings.from_env({**BASE, "NICATTACH_ALLOWED_PROJECTS": " a, b ,,", "K_SINK": "http://k"})
    assert s.ecs_endpoint == "http://127.0.0.1:8774"
    assert (s.api_version, s.auth, s.allowed_projects, s.sink) == (
        "v2.1",
        "token",
        ("a", "b"),
        "http://k",
    )
    assert "s3cret" not in repr(s)
    assert (
        Settings.from_env({**BASE, "NICATTACH_SINK": "http://n", "K_SINK": "http://k"}).sink
        == "http://n"
    )


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"NICATTACH_POLICY": ""}, "NICATTACH_POLICY is not set"),
        ({"NICATTACH_ECS_ENDPOINT": ""}, "NICATTACH_ECS_ENDPOINT is not set"),
        ({"NICATTACH_API_VERSION": "v3"}, "NICATTACH_API_VERSION must be one of"),
        ({"NICATTACH_AUTH": "magic"}, "NICATTACH_AUTH must be one of"),
        ({"NICATTACH_TOKEN": ""}, "needs NICATTACH_TOKEN"),
        ({"NICATTACH_DEADLINE_S": "soon"}, "must be a number"),
        ({"NICATTACH_WAIT_ACTIVE_S": "-1"}, "must not be negative"),
    ],
)
def test_bad_configuration_is_refused(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env({**BASE, **env})


@pytest.mark.parametrize(
    ("allowed", "project", "ok"),
    [
        ({"NICATTACH_ALLOWED_PROJECTS": "a,b"}, "b", True),
        ({"NICATTACH_ALLOWED_PROJECTS": "a,b", "NICATTACH_PROJECT_ID": "c"}, "c", False),
        ({"NICATTACH_PROJECT_ID": "c"}, "c", True),
        ({"NICATTACH_PROJECT_ID": "c"}, "d", False),
        ({}, "anything", True),
    ],
)
def test_project_allowlist(allowed: dict[str, str], project: str, ok: bool) -> None:
    assert Settings.from_env({**BASE, **allowed}).project_allowed(project) is ok
