"""``nic-autoattach invoke`` with token auth and no project limit prints no warning."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from function import auth
from function.cli import main

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_invoke_does_not_warn_about_the_allowlist(
    function_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(auth, "_UNSCOPED_NOTED", threading.Event())
    for _ in range(2):
        assert main(["invoke", str(EVENTS / "server-created.json")]) == 0
    err = capsys.readouterr().err
    assert "NICATTACH_ALLOWED_PROJECTS" not in err
    assert '"level": "WARNING"' not in err
