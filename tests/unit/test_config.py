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
        ({"NICATTACH_AUTH": "aksk"}, "needs HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK"),
        (
            {"NICATTACH_AUTH": "aksk", "HUAWEICLOUD_SDK_AK": "a", "HUAWEICLOUD_SDK_SK": "s"},
            "needs a project",
        ),
        ({"NICATTACH_AUTH": "functiongraph"}, "needs a project"),
        ({"NICATTACH_AUTH": "keystone"}, "needs OS_AUTH_URL"),
        ({"NICATTACH_AUTH": "functiongraph", "NICATTACH_ECS_ENDPOINT": ""}, "ECS_ENDPOINT"),
        ({"NICATTACH_SINK": "eg://c"}, "needs NICATTACH_EG_ENDPOINT"),
        ({"NICATTACH_CA_BUNDLE": "/nonexistent.pem"}, "no such file"),
        (
            {
                "NICATTACH_AUTH": "aksk",
                "HUAWEICLOUD_SDK_AK": "a",
                "HUAWEICLOUD_SDK_SK": "s",
                "HUAWEICLOUD_SDK_PROJECT_ID": "p1",
                "NICATTACH_PROJECT_ID": "p2",
            },
            "credentials are for project p1",
        ),
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


AKSK = {
    "NICATTACH_AUTH": "aksk",
    "HUAWEICLOUD_SDK_AK": "AK123456789",
    "HUAWEICLOUD_SDK_SK": "sk-secret",
}


@pytest.mark.parametrize(
    ("env", "project", "allowed", "refused"),
    [
        ({**AKSK, "HUAWEICLOUD_SDK_PROJECT_ID": "p1"}, "p1", "p1", "p2"),
        ({**AKSK, "NICATTACH_PROJECT_ID": "p1"}, "p1", "p1", "p2"),
        ({"NICATTACH_AUTH": "functiongraph", "RUNTIME_PROJECT_ID": "fg"}, "fg", "fg", "p1"),
        (
            {**AKSK, "HUAWEICLOUD_SDK_PROJECT_ID": "p1", "NICATTACH_ALLOWED_PROJECTS": "p2"},
            "p1",
            "p2",
            "p1",
        ),
    ],
)
def test_credentials_project_is_the_default_and_the_only_one_allowed(
    env: dict[str, str], project: str, allowed: str, refused: str
) -> None:
    s = Settings.from_env({**BASE, **env})
    assert s.project_id == project
    assert s.project_allowed(allowed) and not s.project_allowed(refused)


def test_keystone_endpoint_is_optional_and_secrets_are_not_in_repr() -> None:
    env = {
        "NICATTACH_POLICY": "p.yaml",
        "NICATTACH_AUTH": "keystone",
        "OS_AUTH_URL": "http://k/v3",
        "OS_PASSWORD": "os-secret-pw",
    }
    s = Settings.from_env(env)
    assert s.ecs_endpoint == "" and dict(s.openstack)["OS_PASSWORD"] == "os-secret-pw"
    assert "os-secret-pw" not in repr(s)
    aksk = Settings.from_env(
        {
            **BASE,
            **AKSK,
            "HUAWEICLOUD_SDK_SECURITY_TOKEN": "sts-secret",
            "NICATTACH_PROJECT_ID": "p",
        }
    )
    assert "sk-secret" not in repr(aksk) and "sts-secret" not in repr(aksk)
    assert "AK123456789" not in repr(aksk)
