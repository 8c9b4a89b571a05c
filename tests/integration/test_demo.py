"""``make demo`` as the README shows it: one completion event on stdout, exit 0.

The demo lives in ``scripts/`` (it drives the emulator and the function, so it belongs to
neither package); it is run here as ``make demo`` runs it, a file for the venv's Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICY_NETWORKS = {
    "3cb9bc59-5699-4588-a4b1-b87f96708bc6",  # storage (rule db-storage)
    "0dc714fa-9022-4a03-bb22-9821a396bb9d",  # backup (rule db-backup)
}


def test_the_demo_prints_the_readme_completion_event() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/demo.py"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    event = json.loads(lines[0])
    assert event["type"] == "nicattach.attachment.completed"
    assert event["source"] == "/nic-autoattach"
    assert event["data"]["status"] == "attached"
    assert event["data"]["rules"] == ["db-storage", "db-backup"]
    assert {i["net_id"] for i in event["data"]["interfaces"]} >= POLICY_NETWORKS
    assert "emulator at http://" in done.stderr


def test_the_function_package_holds_no_demo() -> None:
    assert not (ROOT / "function" / "demo.py").exists()
    done = subprocess.run(
        [sys.executable, "-m", "function", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2  # not a command of the deployed function's CLI
