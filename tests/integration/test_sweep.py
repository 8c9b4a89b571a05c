"""nic-autoattach reconcile: the sweep over every server of a project, paged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from function.cli import main

ROOT = Path(__file__).resolve().parents[2]
STORAGE = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
BACKUP = "0dc714fa-9022-4a03-bb22-9821a396bb9d"


@pytest.fixture
def env(function_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NICATTACH_PROJECT_ID", PROJECT)


def test_sweep_pages_through_every_server_and_converges(
    backend: str, env: None, admin: AdminClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # the seeded db servers + 150 more (two pages of 100), of which 40 web, 5 BUILD, 5 ERROR
    seeded = sum(s["project_id"] == PROJECT for s in admin.state()["servers"])
    for i in range(150):
        tags = ["role=web"] if i < 40 else ["role=db", "env=prod"]
        status = "BUILD" if 40 <= i < 45 else "ERROR" if 45 <= i < 50 else "ACTIVE"
        admin.create_server(
            PROJECT, tags=tags, status=status, id=f"00000000-0000-4000-8000-{i:012d}"
        )
    admin.create_server("someone-else", tags=["role=db", "env=prod"])

    assert main(["reconcile", "--all", "--dry-run"]) == 0
    planned = json.loads(capsys.readouterr().out)
    # every listed server counted once: 140 + seeded ACTIVE + 10 BUILD/ERROR left to their events
    assert (planned["checked"], planned["pending"]) == (150 + seeded, 10)
    assert planned["would_attach"] == len(planned["planned"]) == 100 + seeded
    assert planned["would_attach"] + planned["skipped"] + planned["pending"] == 150 + seeded
    assert not [r for r in admin.requests_log() if r["method"] != "GET"]

    assert main(["reconcile", "--all", "--concurrency", "8"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["checked"], summary["attached"]) == (150 + seeded, 100 + seeded)
    assert (summary["skipped"], summary["failed"]) == (40, 0)
    paged = [r for r in admin.requests_log() if r["path"].endswith("servers/detail")]
    assert len(paged) >= 2 * 2, "two sweeps of two pages each"

    assert main(["reconcile", "--all"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["attached"], again["already"]) == (0, 100 + seeded)
    for i in range(50, 150, 25):
        nets = sorted(x["net_id"] for x in admin.interfaces(f"00000000-0000-4000-8000-{i:012d}"))
        assert nets == sorted([STORAGE, BACKUP])


def test_sweep_refuses_a_bad_or_foreign_project(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["reconcile", "--project", "../x"]) == 2
    monkeypatch.setenv("NICATTACH_ALLOWED_PROJECTS", "only-this")
    assert main(["reconcile", "--project", PROJECT]) == 2
