"""The packaged function run as FunctionGraph runs it: ``make package``'s zip unpacked, a
fresh interpreter (``python -I -S``) whose ``sys.path`` is the unpacked folder plus the
standard library and nothing else, ``index.handler(event, context)`` with a
FunctionGraph-shaped context that carries the agency's credentials only (here a token:
``NICATTACH_AUTH=functiongraph``, the emulator's token from ``getToken``), against an
emulator this test starts. One fresh interpreter per invocation: a CTS create trace, a CTS
batch, the TIMER sweep; each on both compute backends (``NICATTACH_BACKEND`` nova, and
huawei-v1, which serverless.yml deploys).

The zip carries wheels for serverless.yml's runtime (Python 3.10); compiled extensions and
``.pyc`` files only load in that version, so the package is built here for this
interpreter's version (``build(python_version=...)``, ``--python-version`` on the command
line), as tests/integration/test_package.py does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from emulator.compute.models import FakeBackend
from emulator.core.clock import AdjustableClock
from emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
STORAGE_NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"  # examples/policy.yaml: db-storage
BACKUP_NET = "0dc714fa-9022-4a03-bb22-9821a396bb9d"  # examples/policy.yaml: db-backup
PRIVATE_NET = "5b1f2c3d-0a4e-4f6b-9c8d-7e6f5a4b3c2d"
TOKEN = "emulator-token"
HERE = "{}.{}".format(*sys.version_info[:2])
TAGS = ["role=db", "env=prod"]

#: Run in ``python -I -S``: no site, no user site, no PYTHON* variables, no script folder.
PROBE = """
import json, sys
code, event, spec = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
sys.path.insert(0, code)


class Context:
    # The getters of FunctionGraph's Python runtime context (fg_runtime/context.py);
    # without AK/SK they answer "" as the runtime does.
    def __init__(self, spec):
        self.spec = spec

    def getToken(self): return self.spec["token"]
    def getAccessKey(self): return ""
    def getSecretKey(self): return ""
    def getSecurityAccessKey(self): return ""
    def getSecuritySecretKey(self): return ""
    def getSecurityToken(self): return ""
    def getProjectID(self): return self.spec["project_id"]
    def getRequestID(self): return self.spec["request_id"]
    def getRemainingTimeInMilliSeconds(self): return self.spec["remaining_ms"]
    def getFunctionName(self): return "nic_autoattach"
    def getMemorySize(self): return 256


import index
try:
    result = {"result": index.handler(event, Context(spec))}
except Exception as exc:
    result = {"raised": type(exc).__name__, "message": str(exc)}
result["path"] = sys.path
result["modules"] = sorted(sys.modules)
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def code_folder(tmp_path_factory: pytest.TempPathFactory, packager: ModuleType) -> Path:
    build = tmp_path_factory.mktemp("packaged")
    output = build / "nic-autoattach-functiongraph.zip"
    try:
        packager.build(build / "staging", output, python_version=HERE)
    except subprocess.CalledProcessError as exc:  # pragma: no cover - offline machine
        pytest.skip(f"pip could not install the dependencies (registry unreachable?): {exc}")
    folder = build / "code"
    zipfile.ZipFile(output).extractall(folder)
    return folder


class Cloud:
    def __init__(self, server: EmulatorServer, clock: AdjustableClock) -> None:
        self.server, self.clock = server, clock
        self.admin = AdminClient(server.url)
        self.admin.create_network("192.168.0.0/16", id=PRIVATE_NET, name="private")
        self.admin.create_network("10.20.0.0/16", id=STORAGE_NET, name="storage")
        self.admin.create_network("10.30.0.0/16", id=BACKUP_NET, name="backup")

    def new_servers(self, n: int, tags: list[str] = TAGS) -> list[str]:
        first_nic = [{"net_id": PRIVATE_NET}]
        servers = [
            self.admin.create_server(PROJECT, tags=tags, interfaces=first_nic) for _ in range(n)
        ]
        return [str(server["id"]) for server in servers]

    def nets(self, server_id: str) -> list[str]:
        return sorted(i["net_id"] for i in self.admin.interfaces(server_id))


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    """An emulator on an adjustable clock: servers made "an hour ago" are outside the
    sweep's window (the clock is set back while they are made, then returns)."""
    clock = AdjustableClock()
    with EmulatorServer(backend=FakeBackend(clock=clock), tokens=(TOKEN,)) as server:
        yield Cloud(server, clock)


def invoke(
    code: Path,
    cloud: Cloud,
    event: dict[str, Any],
    backend: str,
    *,
    token: str = TOKEN,
    remaining_ms: int = 60_000,
) -> dict[str, Any]:
    env = {
        "NICATTACH_BACKEND": backend,
        "PATH": "/usr/bin:/bin",
        "NICATTACH_POLICY": str(code / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": cloud.server.url,
        "NICATTACH_NETWORK_ENDPOINT": cloud.server.url,
        "NICATTACH_AUTH": "functiongraph",
        "NICATTACH_PROJECT_ID": PROJECT,
        "NICATTACH_API_VERSION": "v2.1",
        "NICATTACH_DEADLINE_S": "50",
        "NICATTACH_LOG_LEVEL": "WARNING",
        "RUNTIME_CODE_ROOT": str(code),
    }
    spec = {
        "token": token,
        "project_id": PROJECT,
        "request_id": f"req-{time.time_ns()}",
        "remaining_ms": remaining_ms,
    }
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, str(code), json.dumps(event), json.dumps(spec)],
        cwd=code.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    outside = [p for p in report["path"] if not _is_stdlib(p) and p != str(code)]
    assert not outside, f"sys.path reaches outside the package: {outside}"
    assert not {"flask", "functions_framework", "werkzeug", "emulator", "requests"} & set(
        report["modules"]
    )
    report["stderr"] = done.stderr
    return report


def _is_stdlib(path: str) -> bool:
    return path.startswith((sys.base_prefix, sys.base_exec_prefix))


def cts_trace(sample: str, server_ids: list[str]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / sample).read_text())
    trace = event["cts"]
    trace["project_id"] = PROJECT
    if len(server_ids) == 1:
        trace["resource_id"] = server_ids[0]
        trace["response"] = json.dumps(
            {"status": "SUCCESS", "entities": {"server_id": server_ids[0]}}
        )
    else:
        trace["response"] = {"job_id": "ff8080829361a5c2019371b5f0e17b22", "serverIds": server_ids}
    return event


TIMER = {
    "version": "v1.0",
    "time": "2026-11-30T10:00:00+08:00",
    "trigger_type": "TIMER",
    "trigger_name": "nic_autoattach_reconcile",
    "user_event": '{"nicattach": "reconcile"}',
}


def test_a_cts_create_trace(code_folder: Path, cloud: Cloud, backend: str) -> None:
    [server] = cloud.new_servers(1)
    report = invoke(code_folder, cloud, cts_trace("cts-create-server.json", [server]), backend)
    assert "raised" not in report, report
    assert report["result"]["type"] == "nicattach.attachment.completed"
    assert report["result"]["data"]["status"] == "attached"
    assert cloud.nets(server) == sorted([PRIVATE_NET, STORAGE_NET, BACKUP_NET])


def test_a_cts_batch_runs_its_servers_on_worker_threads_with_the_credentials(
    code_folder: Path, cloud: Cloud, backend: str
) -> None:
    servers = cloud.new_servers(12)
    event = cts_trace("cts-create-servers-batch.json", servers)
    report = invoke(code_folder, cloud, event, backend)
    assert "raised" not in report, report
    assert isinstance(report["result"], list) and len(report["result"]) == 12
    assert {e["data"]["status"] for e in report["result"]} == {"attached"}
    assert all(len(cloud.nets(s)) == 3 for s in servers)


def test_the_timer_sweep_looks_at_the_window_only_under_functiongraph_auth(
    code_folder: Path, cloud: Cloud, backend: str
) -> None:
    cloud.clock.offset = -3600.0  # these were made an hour ago: outside the 20-minute window
    old = cloud.new_servers(5)
    cloud.clock.offset = 0.0
    new = cloud.new_servers(20)
    cloud.admin.clear_requests()
    report = invoke(code_folder, cloud, TIMER, backend)
    assert "raised" not in report, report
    summary = report["result"]
    assert "no_credentials" not in json.dumps(summary), summary
    assert summary["checked"] == 20 and summary["attached"] == 20, summary
    assert not summary.get("failed") and not summary.get("incomplete"), summary
    assert all(len(cloud.nets(s)) == 3 for s in new)
    assert all(cloud.nets(s) == [PRIVATE_NET] for s in old), "outside the window: untouched"
    if backend == "nova":  # Nova filters: the list asks for the window
        listed = [r for r in cloud.admin.requests_log() if r["path"].endswith("/servers/detail")]
        assert listed and all("changes-since" in r["query"] for r in listed)


def test_without_credentials_a_batch_raises_for_a_redelivery(
    code_folder: Path, cloud: Cloud, backend: str
) -> None:
    servers = cloud.new_servers(3)
    event = cts_trace("cts-create-servers-batch.json", servers)
    report = invoke(code_folder, cloud, event, backend, token="")
    assert report.get("raised") == "RetryableFailure", report
    assert "no_credentials" in report["message"]
    assert all(cloud.nets(s) == [PRIVATE_NET] for s in servers)


def test_the_timer_sweep_finds_an_old_server_retagged_within_the_window(
    code_folder: Path, cloud: Cloud, backend: str
) -> None:
    """A server made long ago whose tags changed just now (its CTS tag trace lost) is in
    the window, however deep in the newest-first list it sits (huawei-v1 filters the
    window client-side, so a page can come back empty with more behind it)."""
    cloud.clock.offset = -7200.0
    [retagged] = cloud.new_servers(1, tags=["role=web"])
    cloud.clock.offset = -3600.0
    cloud.new_servers(120, tags=["role=web"])  # newer than it, unchanged since: a page and more
    cloud.clock.offset = 0.0
    cloud.admin.update_server(retagged, tags=TAGS)
    report = invoke(code_folder, cloud, TIMER, backend)
    assert "raised" not in report, report
    assert cloud.nets(retagged) == sorted([PRIVATE_NET, STORAGE_NET, BACKUP_NET]), report["result"]
