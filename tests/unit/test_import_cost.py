"""Cold start: importing ``function.main`` the FunctionGraph way (flask and
functions-framework absent) loads none of the modules of the rare paths.

Each of these is imported where it runs (a TIMER sweep, the CLI, an SMN message over
HTTP, a lifecycle hook with an Auto Scaling endpoint, the ready event, the backend not
chosen, a proxy), so an ordinary event's process never pays for it. Deterministic: the module
list of a fresh interpreter, no timing (timings are bench/imports.py's and
bench/import_ab.py's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
for name in ("functions_framework", "flask"):
    sys.modules[name] = None  # as in the FunctionGraph package: not installed
import function.main
print(json.dumps(sorted(sys.modules)))
"""
RARE = (
    "function.app.check",  # the CLI's check
    "function.app.check_network",
    "function.app.ready",  # NICATTACH_READY_EVENT
    "function.app.smn_gate",  # SMN messages over HTTP (the HTTP entry only)
    "function.app.views",  # JSON of a sweep summary or a dry run
    "function.cli",
    "function.converge.preview",  # dry runs and sweeps
    "function.converge.sweep",  # TIMER events and the CLI
    "function.delivery.ready",
    "function.domain.explain",  # the CLI's explain
    "function.domain.lifecycle",  # Auto Scaling lifecycle hooks (SMN)
    "function.lifecycle.client",  # NICATTACH_AS_ENDPOINT
    "function.lifecycle.decision",  # an event with a lifecycle hook
    "function.lifecycle.releaser",
    "function.sources.smn",  # a lifecycle hook's SMN notification
    "function.sources.smn_signature",
    "function.transport.proxied",  # an HTTP(S) proxy in the environment
    "urllib3",  # with it: the function's own HTTP needs none (function/transport/wire.py)
    "urllib.request",  # proxy settings read only when a *_proxy variable is set
)
OTHER_BACKEND = {"nova": "function.compute.huawei_v1", "huawei-v1": "function.compute.nova"}


def modules_after_import(backend: str) -> set[str]:
    env = {
        **os.environ,
        "NICATTACH_POLICY": str(ROOT / "examples" / "policy.yaml"),
        "NICATTACH_ECS_ENDPOINT": "http://127.0.0.1:9",  # never contacted at import
        "NICATTACH_NETWORK_ENDPOINT": "http://127.0.0.1:9",
        "NICATTACH_TOKEN": "import-test-token",
        "NICATTACH_PROJECT_ID": "0" * 32,
        "NICATTACH_BACKEND": backend,
    }
    for name in ("NICATTACH_READY_EVENT", "NICATTACH_AS_ENDPOINT", "NICATTACH_SINK", "K_SINK"):
        env.pop(name, None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("backend", sorted(OTHER_BACKEND))
def test_the_functiongraph_import_leaves_the_rare_paths_unloaded(backend: str) -> None:
    loaded = modules_after_import(backend)
    assert "function.main" in loaded and "function.app.service" in loaded  # it did import
    assert sorted(loaded & set(RARE)) == []
    other = OTHER_BACKEND[backend]
    assert sorted(m for m in loaded if m == other or m.startswith(other + ".")) == []


def test_the_gate_knows_every_message_type_the_signature_check_signs() -> None:
    """``app/smn_gate.py`` names SMN's message types itself, so that admitting a body
    needs no import of the checker: the two lists must stay one."""
    from function.app.smn_gate import SIGNED_TYPES
    from function.sources.smn_signature import SIGNED_FIELDS

    assert SIGNED_TYPES == set(SIGNED_FIELDS)
