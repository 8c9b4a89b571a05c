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


def test_ownership_defaults_per_backend() -> None:
    nova = Settings.from_env(BASE)
    assert (nova.ownership, nova.port_first, nova.network_endpoint) == ("auto", False, None)
    v1 = Settings.from_env(
        {
            **BASE,
            "NICATTACH_BACKEND": "huawei-v1",
            "NICATTACH_NETWORK_ENDPOINT": "https://vpc.example/",
        }
    )
    assert (v1.port_first, v1.network_endpoint) == (True, "https://vpc.example")


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
            {"NICATTACH_BACKEND": "huawei-v1"},
            "^NICATTACH_NETWORK_ENDPOINT is not set: the huawei-v1",
        ),
        (
            {"NICATTACH_OWNERSHIP": "port"},
            "NICATTACH_NETWORK_ENDPOINT is not set: NICATTACH_OWNERSH",
        ),
        ({"NICATTACH_OWNERSHIP": "mine"}, "NICATTACH_OWNERSHIP must be one of"),
        (
            {"NICATTACH_BACKEND": "huawei-v1", "NICATTACH_OWNERSHIP": "device-tag"},
            "huawei-v1 API has no device tags",
        ),
        ({"NICATTACH_NETWORK_ENDPOINT": "vpc.example"}, "must be an http"),
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
        "OS_AUTH_URL": "https://k/v3",
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


def problems_of(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**BASE, **env})
    return info.value.problems


def test_every_mistake_is_reported_at_once() -> None:
    wrong = {
        "NICATTACH_LOG_LEVEL": "LOUD",
        "NICATTACH_DEADLINE_S": "soon",
        "NICATTACH_API_VERSION": "v3",
    }
    problems = problems_of(wrong)
    assert len(problems) == 3, problems
    assert sorted(problem.split(" ")[0] for problem in problems) == sorted(wrong)
    assert all("\n" not in problem for problem in problems)


@pytest.mark.parametrize("level", ["LOUD", "verbose", "5"])
def test_log_level_is_refused(level: str) -> None:
    assert problems_of({"NICATTACH_LOG_LEVEL": level}) == [
        f"NICATTACH_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got {level!r}"
    ]


@pytest.mark.parametrize("level", ["debug", " WARNING ", ""])
def test_log_level_is_accepted_in_any_case(level: str) -> None:
    Settings.from_env({**BASE, "NICATTACH_LOG_LEVEL": level})


@pytest.mark.parametrize("name", ["NICATTACH_DEADLINE_S", "NICATTACH_MAX_BODY_BYTES"])
@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("nan", "must be a finite number"),
        ("NaN", "must be a finite number"),
        ("inf", "must be a finite number"),
        ("-inf", "must be a finite number"),
        ("0", "must be above 0"),
        ("0.0", "must be above 0"),
        ("-1", "must not be negative"),
        ("-0.5", "must not be negative"),
        ("1e12", "is too large"),
        ("ten", "must be a number"),
    ],
)
def test_deadline_and_body_limit_must_be_positive_finite(name: str, raw: str, problem: str) -> None:
    (found,) = problems_of({name: raw})
    assert found.startswith(f"{name} ") and problem in found, found


def test_token_with_a_trailing_newline_is_stripped() -> None:
    settings = Settings.from_env({**BASE, "NICATTACH_TOKEN": "s3cret-token\n"})
    assert settings.token == "s3cret-token"


@pytest.mark.parametrize("token", ["s3cret\ntoken", "s3cret token", "s3cret\x00token"])
def test_token_with_inner_white_space_is_refused_without_showing_it(token: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**BASE, "NICATTACH_TOKEN": token})
    assert info.value.problems[0] == ("NICATTACH_TOKEN contains white space or control characters")
    shown = str(info.value) + repr(info.value) + " ".join(info.value.problems)
    assert "s3cret" not in shown and "token\n" not in shown
