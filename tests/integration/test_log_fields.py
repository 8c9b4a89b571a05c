"""Log messages are prose; structured values (tags, summaries, dicts) go in fields.

Runs an event and the sweep with the JSON formatter and checks every line: no Python
repr of a dict or list in ``message``, and the unusable tags as a field instead."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import PROJECT  # the sample project, defined once (tests/support.py)

from emulator.client import AdminClient
from function import logs
from function.app.wiring import build_service
from function.config import Settings

EVENTS = Path(__file__).resolve().parents[2] / "events"
ODD = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
REPRS = ("{'", "['", '{"', '["')


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Every JSON log line written while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("nicattach")
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_event_and_sweep_log_no_reprs(
    function_env: None, admin: AdminClient, log_stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NICATTACH_PROJECT_ID", PROJECT)
    # a server whose API tags include two unusable ones: an empty key, a lone space
    admin.create_server(PROJECT, tags=["role=db", "env=prod", "=x", " "], id=ODD)
    service = build_service(Settings.from_env())
    try:
        event = json.dumps({"server_id": ODD, "project_id": PROJECT}).encode()
        assert service.handle({"Content-Type": "application/json"}, event).status == 200
        body = (EVENTS / "server-created.json").read_bytes()
        service.handle({"Content-Type": "application/cloudevents+json"}, body)
        summary = service.reconcile(PROJECT)
        assert summary.checked >= 2
    finally:
        service.session.close()
    check(log_stream.getvalue().splitlines())


def check(lines: list[str]) -> None:
    entries = [json.loads(line) for line in lines]
    assert entries, "nothing was logged"
    for entry in entries:
        assert not any(r in entry["message"] for r in REPRS), entry["message"]
    ignored = [e for e in entries if "ignored_tags" in e]
    assert ignored, "the unusable tags are a field"
    assert ignored[0]["ignored_tags"] == ['"=x"', '" "']
    assert "=x" not in ignored[0]["message"]
    assert any("summary" in e and isinstance(e["summary"], dict) for e in entries)
