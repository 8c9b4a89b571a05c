"""The function under test as a process: functions-framework (gunicorn), and /proc readings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
FF = str(Path(sys.executable).with_name("functions-framework"))
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FunctionProcess:
    """``functions-framework --source function/main.py --target handle_event`` on a free port."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        source: str = "function/main.py",
        target: str = "handle_event",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._log = log_path.open("ab")
        command = [
            FF,
            "--source",
            source,
            "--target",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.started = time.perf_counter()
        self.popen = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=self._log, stderr=self._log
        )

    def first_reply(self, headers: Mapping[str, str], body: bytes, limit: float = 30.0) -> float:
        """Post until the server answers; seconds from process start to the first reply."""
        while time.perf_counter() - self.started < limit:
            try:
                answer = requests.post(self.url, data=body, headers=dict(headers), timeout=10)
            except requests.ConnectionError:
                if self.popen.poll() is not None:
                    raise RuntimeError("the function exited; see its log") from None
                time.sleep(0.002)
                continue
            if answer.status_code != 200:
                raise RuntimeError(f"first reply: HTTP {answer.status_code}: {answer.text[:300]}")
            return time.perf_counter() - self.started
        raise RuntimeError("the function did not answer in time")

    def worker_pid(self) -> int:
        """gunicorn's worker (the process that runs the function), else the process itself."""
        pid = self.popen.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return int(children[0]) if children else pid

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self._log.close()


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


FUNCTIONGRAPH_RUN = """
import json, sys
for name in ("functions_framework", "flask"):
    sys.modules[name] = None  # as in the FunctionGraph package
from function.main import handler
handler(json.loads(sys.argv[1]), None)
"""


def functiongraph_cold_start(env: Mapping[str, str], event: str, log_path: Path) -> float:
    """Seconds from process start to ``handler`` returning, without the HTTP stack (what a
    FunctionGraph cold start runs, minus the platform's own runtime)."""
    started = time.perf_counter()
    with log_path.open("ab") as log:
        subprocess.run(
            [sys.executable, "-c", FUNCTIONGRAPH_RUN, event],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=log,
            check=True,
        )
    return time.perf_counter() - started


class EmulatorProcess:
    """``python -m emulator --port 0`` in its own process (its own GIL, apart from the senders)."""

    def __init__(self, log_path: Path) -> None:
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline()
        if not line.startswith("emulator listening on "):
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.url = line.split()[-1]

    def stop(self) -> None:
        self.popen.terminate()
        self.popen.wait(10)
        self._log.close()


FUNCTIONGRAPH_INVOKE = """
import json, resource, sys, time
for name in ("functions_framework", "flask"):
    sys.modules[name] = None  # as in the FunctionGraph package


class Context:  # FunctionGraph's getters; the agency's token only
    def __init__(self, token): self.token = token
    def getToken(self): return self.token
    def getSecurityAccessKey(self): return ""
    def getSecuritySecretKey(self): return ""
    def getSecurityToken(self): return ""
    def getProjectID(self): return ""
    def getRequestID(self): return "bench"
    def getRemainingTimeInMilliSeconds(self): return float(sys.argv[3])


from function.main import handler
started = time.perf_counter()
try:
    result = handler(json.loads(sys.argv[1]), Context(sys.argv[2]))
    raised = None
except Exception as exc:
    result, raised = None, type(exc).__name__
print(json.dumps({"seconds": time.perf_counter() - started, "raised": raised,
                  "result_items": len(result) if isinstance(result, list) else 1,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "cpu_s": time.process_time()}))
"""


def functiongraph_invoke(
    env: Mapping[str, str], event: str, token: str, log_path: Path, timeout_ms: float = 60_000
) -> dict[str, object]:
    """One ``handler(event, context)`` in a fresh process as FunctionGraph runs it (no HTTP
    stack, ``NICATTACH_AUTH=functiongraph`` if ``env`` says so): its time and peak RSS."""
    with log_path.open("ab") as log:
        done = subprocess.run(
            [sys.executable, "-c", FUNCTIONGRAPH_INVOKE, event, token, str(timeout_ms)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=log,
            check=True,
            text=True,
        )
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report
