"""The FunctionGraph zip (scripts/package.py) runs on its own: unpacked into an empty folder,
its handler imports with only that folder (and the standard library) on ``sys.path`` and
brings a real server to its NICs through the emulator. A build that fails (a policy the
function would refuse at start-up, a missing policy, pip) says why in one line and leaves the
previous staging folder and zip exactly as they were.

Building needs the package registry (``pip install --target``); the import does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
STORAGE_NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"  # examples/policy.yaml: db-storage
BACKUP_NET = "0dc714fa-9022-4a03-bb22-9821a396bb9d"  # examples/policy.yaml: db-backup
HERE = "{}.{}".format(*sys.version_info[:2])

PROBE = """
import json, sys
import index
result = index.handler(json.loads(sys.argv[1]), None)
print(json.dumps({"path": sys.path, "modules": sorted(sys.modules), "result": result}))
"""


@pytest.fixture(scope="module")
def package_zip(tmp_path_factory: pytest.TempPathFactory, packager: ModuleType) -> Path:
    """Built for this interpreter's version, so compiled extensions and .pyc files load."""
    build = tmp_path_factory.mktemp("build")
    output = build / "nic-autoattach-functiongraph.zip"
    try:
        packager.build(build / "staging", output, python_version=HERE)
    except subprocess.CalledProcessError as exc:  # pragma: no cover - offline machine
        pytest.skip(f"pip could not install the dependencies (registry unreachable?): {exc}")
    return output


def test_the_zip_holds_the_function_and_its_runtime_dependencies_only(package_zip: Path) -> None:
    names = zipfile.ZipFile(package_zip).namelist()
    tops = {name.split("/")[0] for name in names}
    runtime = {"httptools", "urllib3", "certifi", "yaml", "cloudevents"}
    assert {"index.py", "policy.yaml", "function", *runtime} <= tops
    assert not tops & {"emulator", "tests", "bench", "scripts", "examples", "events"}
    assert not tops & {"flask", "functions_framework", "werkzeug", "gunicorn", "bin"}
    assert "requests" not in tops, "the function's HTTP is function/transport/ (wire, proxied)"


def test_the_handler_runs_with_only_the_unpacked_folder_on_sys_path(
    package_zip: Path, tmp_path: Path, emulator: EmulatorServer, admin: AdminClient
) -> None:
    admin.create_network("10.20.0.0/24", id=STORAGE_NET)
    admin.create_network("10.30.0.0/24", id=BACKUP_NET)
    server = admin.create_server(PROJECT, tags=["role=db", "env=prod"])
    folder = tmp_path / "code"
    zipfile.ZipFile(package_zip).extractall(folder)
    event = {"server_id": server["id"], "project_id": PROJECT}
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(folder),  # with -S: no site-packages, no venv, no user site
        "PYTHONDONTWRITEBYTECODE": "1",  # FunctionGraph's code folder is read-only
        "NICATTACH_POLICY": str(folder / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": emulator.url,
        "NICATTACH_TOKEN": "emulator-token",
        "NICATTACH_LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, json.dumps(event)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    outside = [p for p in report["path"] if p and not _is_stdlib(p) and p != str(folder)]
    assert not outside, f"sys.path reaches outside the package: {outside}"
    assert not {"flask", "functions_framework", "werkzeug"} & set(report["modules"])
    assert report["result"]["type"] == "nicattach.attachment.completed"
    assert report["result"]["data"]["status"] == "attached"
    nets = {i["net_id"] for i in admin.interfaces(server["id"])}
    assert {STORAGE_NET, BACKUP_NET} <= nets


def _is_stdlib(path: str) -> bool:
    return path.startswith((sys.base_prefix, sys.base_exec_prefix))


def run_packager(*args: str, allow_example: bool = True) -> subprocess.CompletedProcess[str]:
    """scripts/package.py; the examples' policies are allowed unless told otherwise."""
    command = [sys.executable, "scripts/package.py", *args]
    env = {k: v for k, v in os.environ.items() if k != "ALLOW_EXAMPLE_POLICY"}
    if allow_example:
        env["ALLOW_EXAMPLE_POLICY"] = "1"
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args", [(), ("--policy", "examples/policy.yaml")])
def test_the_example_policy_is_refused_in_one_line_unless_allowed(
    previous: tuple[Path, Path], tmp_path: Path, args: tuple[str, ...]
) -> None:
    """`make package` without POLICY= would ship made-up network ids: exit 2, nothing built."""
    staging, output = previous
    before = snapshot(tmp_path)
    where = ("--staging", str(staging), "--output", str(output))
    done = run_packager(*args, *where, allow_example=False)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
    assert "example policy" in done.stderr and "ALLOW_EXAMPLE_POLICY=1" in done.stderr
    assert snapshot(tmp_path) == before


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for a folder)."""
    return {
        str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes()
        for p in folder.rglob("*")
    }


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, Path]:
    """A staging folder and a zip left by an earlier `make package`."""
    staging, output = tmp_path / "build" / "functiongraph", tmp_path / "dist" / "package.zip"
    (staging / "function").mkdir(parents=True)
    (staging / "index.py").write_text("# the previous build\n")
    output.parent.mkdir()
    output.write_bytes(b"the previous zip")
    return staging, output


@pytest.mark.parametrize(
    ("policy", "said"),
    [
        ("examples/policy-invalid-five.yaml", "5 problems in the policy, the first: rule 'web'"),
        ("no-such-policy.yaml", "no-such-policy.yaml: cannot read the policy"),
        # the policy is fine, the dependencies cannot be installed for this platform
        ("examples/policy.yaml", "pip exited 1: ERROR"),
    ],
)
def test_a_failed_build_says_why_in_one_line_and_replaces_nothing(
    previous: tuple[Path, Path], tmp_path: Path, policy: str, said: str
) -> None:
    staging, output = previous
    before = snapshot(tmp_path)
    platform = "no_such_platform" if policy == "examples/policy.yaml" else "manylinux2014_x86_64"
    paths = ["--policy", policy, "--staging", str(staging), "--output", str(output)]
    done = run_packager(*paths, "--python-version", HERE, "--platform", platform)
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("package: failed, nothing replaced: ") and said in done.stderr
    assert snapshot(tmp_path) == before, "no half-staged folder, no partial zip, nothing left over"


def test_a_good_build_replaces_the_staging_folder_and_the_zip(
    previous: tuple[Path, Path], tmp_path: Path
) -> None:
    staging, output = previous
    paths = ["--policy", "examples/policy.yaml", "--staging", str(staging), "--output", str(output)]
    done = run_packager(*paths, "--python-version", HERE)
    if done.returncode != 0 and "pip exited" in done.stderr:  # pragma: no cover - offline
        pytest.skip(f"pip could not install the dependencies: {done.stderr}")
    assert done.returncode == 0, done.stderr
    assert "package: failed" not in done.stderr
    assert "# the previous build" not in (staging / "index.py").read_text()
    assert {p.name for p in tmp_path.glob("*/.*")} == set(), "no temporary folder or zip left"
    names = zipfile.ZipFile(output).namelist()
    assert "index.py" in names and "function/main.py" in names
    assert sorted(
        p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()
    ) == sorted(names)
