"""The FunctionGraph zip (scripts/package.py) runs on its own: unpacked into an empty folder,
its handler imports with only that folder (and the standard library) on ``sys.path`` and
brings a real server to its NICs through the emulator.

Building needs the package registry (``pip install --target``); the import does not.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from emulator.client import AdminClient
from emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "0605767a5a80d5762fe6c0125d3c5b0e"
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
    runtime = {"urllib3", "certifi", "yaml", "cloudevents"}
    assert {"index.py", "policy.yaml", "function", *runtime} <= tops
    assert not tops & {"emulator", "tests", "bench", "scripts", "examples", "events"}
    assert not tops & {"flask", "functions_framework", "werkzeug", "gunicorn", "bin"}
    assert "requests" not in tops, "the function's HTTP is urllib3 (function/transport.py)"


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
