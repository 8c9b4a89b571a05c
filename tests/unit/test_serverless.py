"""serverless.yml names handlers that exist in the package and only variables the function reads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from function import config

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL_PREFIXES = ("OS_", "HUAWEICLOUD_SDK_")


@pytest.fixture(scope="module")
def serverless() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "serverless.yml").read_text())
    return document


@pytest.fixture(scope="module")
def functions(serverless: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = serverless["functions"]
    assert found, "serverless.yml defines no function"
    return found


def _variables(block: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = (block.get("environment") or {}).get("variables") or {}
    return variables


def test_provider_is_the_huawei_plugin_with_a_python_runtime(serverless: dict[str, Any]) -> None:
    assert serverless["provider"]["name"] == "huawei"
    assert "serverless-huawei-functions" in serverless["plugins"]
    runtime = serverless["provider"]["runtime"]
    assert runtime.startswith("Python3.")
    assert int(runtime.removeprefix("Python3.")) >= 10, "pyproject requires Python >= 3.10"


def test_every_environment_variable_is_read_by_the_function(
    serverless: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    blocks = [serverless["provider"], *functions.values()]
    names = {name for block in blocks for name in _variables(block)}
    unknown = {n for n in names if n not in config.ENV_VARS and not n.startswith(EXTERNAL_PREFIXES)}
    assert not unknown, f"serverless.yml sets variables the function never reads: {unknown}"
    assert {config.POLICY, config.ECS_ENDPOINT} <= names, "the required settings are missing"


def test_timeout_leaves_room_for_the_event_deadline(functions: dict[str, dict[str, Any]]) -> None:
    for function in functions.values():
        deadline = float(_variables(function).get(config.DEADLINE_S, 50))
        assert deadline < function["timeout"], "NICATTACH_DEADLINE_S must be below the timeout"
        assert function["memorySize"] >= 128


def test_cts_trigger_covers_server_creation_and_tag_changes(
    functions: dict[str, dict[str, Any]],
) -> None:
    events = [e for f in functions.values() for e in f["events"]]
    operations = [
        op for e in events if e["triggerTypeCode"] == "CTS" for op in e["eventData"]["operations"]
    ]
    assert "ECS:ecs:createServer;createServerV2;createServerV21" in operations
    assert "ECS:ecsTags:dealUnifiedTags" in operations


def test_timer_trigger_asks_for_the_reconcile_sweep(functions: dict[str, dict[str, Any]]) -> None:
    timers = [
        e["eventData"]
        for f in functions.values()
        for e in f["events"]
        if e["triggerTypeCode"] == "TIMER"
    ]
    assert len(timers) == 1
    assert timers[0]["scheduleType"] in ("Rate", "Cron") and timers[0]["schedule"]
    assert json.loads(timers[0]["userEvent"]) == {"nicattach": "reconcile"}


def test_every_handler_is_importable_from_the_package_layout(
    functions: dict[str, dict[str, Any]], tmp_path: Path, packager: ModuleType
) -> None:
    """The code part of ``make package`` (no pip): each ``module.attribute`` imports and is
    callable, with the package root first on sys.path as FunctionGraph puts it."""
    packager.stage_code(tmp_path)
    for name, function in functions.items():
        module, _, attribute = function["handler"].rpartition(".")
        code = (
            f"import {module} as m, function; assert callable(m.{attribute}), {name!r}; "
            f"assert function.__file__.startswith({str(tmp_path)!r}), function.__file__"
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(tmp_path),
            config.POLICY: str(tmp_path / "policy.yaml"),
            config.ECS_ENDPOINT: "http://127.0.0.1:9",
            config.TOKEN: "unused",
        }
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, f"{name}: {function['handler']}: {result.stderr[-2000:]}"


def resolve(value: Any, serverless: dict[str, Any], env: dict[str, str]) -> Any:
    """The Serverless Framework's ``${param:x}`` and ``${env:X}`` substitutions (stage
    ``default``), as `serverless deploy` makes them; an unset variable is an error there."""
    if isinstance(value, dict):
        return {k: resolve(v, serverless, env) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, serverless, env) for v in value]
    if not isinstance(value, str):
        return value
    params = serverless["params"]["default"]

    def one(match: re.Match[str]) -> str:
        source, name = match.group(1), match.group(2)
        if source == "env":
            return env[name]
        return str(resolve(params[name], serverless, env))

    return re.sub(r"\$\{(param|env):([A-Za-z_][A-Za-z0-9_]*)\}", one, value)


def test_the_region_is_a_parameter_set_in_one_place(serverless: dict[str, Any]) -> None:
    text = (ROOT / "serverless.yml").read_text()
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert not re.search(r"\b[a-z]{2}-[a-z]+-\d\b", code), "a region written into the file"
    env = {
        "NICATTACH_REGION": "ap-southeast-1",
        "NICATTACH_PROJECT_ID": "p1",
        "NICATTACH_AGENCY": "a",
    }
    resolved = resolve(serverless, serverless, env)
    assert resolved["provider"]["region"] == "ap-southeast-1"
    (function,) = resolved["functions"].values()
    variables = function["environment"]["variables"]
    assert variables[config.ECS_ENDPOINT] == "https://ecs.ap-southeast-1.myhuaweicloud.com"
    assert variables[config.AS_ENDPOINT] == "https://as.ap-southeast-1.myhuaweicloud.com"
    assert variables[config.PROJECT_ID] == "p1" and function["agencyName"] == "a"
    with pytest.raises(KeyError):  # without the region nothing deploys
        resolve(serverless, serverless, {k: v for k, v in env.items() if k != "NICATTACH_REGION"})


def test_the_async_retry_settings_are_in_the_file(serverless: dict[str, Any]) -> None:
    """FunctionGraph's async-invoke-config keys, within the API's ranges; the events live at
    least as long as the sweep window, so a retried event is never older than the sweep."""
    settings = serverless["custom"]["asyncInvokeConfig"]
    assert set(settings) == {"max_async_retry_attempts", "max_async_event_age_in_seconds"}
    assert settings["max_async_retry_attempts"] in (1, 2, 3)
    age = settings["max_async_event_age_in_seconds"]
    assert config.Settings.sweep_window_s <= age <= 86_400


def test_wait_for_active_is_not_above_the_deadline(functions: dict[str, dict[str, Any]]) -> None:
    for function in functions.values():
        variables = _variables(function)
        assert float(variables[config.WAIT_ACTIVE_S]) <= float(variables[config.DEADLINE_S])
    defaults = config.Settings(policy_path="p", ecs_endpoint="e")
    assert defaults.wait_active_s <= defaults.deadline_s
    from_env = config.Settings.from_env(
        {config.POLICY: "p", config.ECS_ENDPOINT: "http://127.0.0.1:9", config.TOKEN: "t"}
    )
    assert from_env.wait_active_s <= from_env.deadline_s


def test_the_install_steps_are_written_down() -> None:
    steps = (ROOT / "deploy" / "functiongraph.md").read_text()
    for needed in (
        "npm install",
        "serverless@3",
        "serverless-huawei-functions",
        "~/.fg/credentials",
        "NICATTACH_REGION",
        "make package POLICY=",
        "async-invoke-config",
        "max_async_retry_attempts",
    ):
        assert needed in steps, needed
