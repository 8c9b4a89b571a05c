"""The FunctionGraph context, read once (``function/app/functiongraph.ContextView``).

A context is whatever object the platform passes; a getter it lacks, or one answering
something unexpected, reads as absent, never as an error; secrets never show in ``repr``.
"""

from __future__ import annotations

from typing import Any

import pytest

from function.app.functiongraph import ContextView, is_reconcile_timer, remaining_seconds


class Context:
    """FunctionGraph's Python context, as the runtime's getters answer."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers

    def __getattr__(self, name: str) -> Any:
        if name not in self.answers:
            raise AttributeError(name)
        return lambda: self.answers[name]


FULL = Context(
    getRequestID="req-1",
    getRemainingTimeInMilliSeconds=30000,
    getProjectID="p-1",
    getToken="tok-S3CRET",
    getSecurityAccessKey="AK-1",
    getSecuritySecretKey="SK-S3CRET",
    getSecurityToken="STS-S3CRET",
)


def test_every_getter_is_read_once_into_typed_fields() -> None:
    view = ContextView.read(FULL)  # type: ignore[arg-type]
    assert (view.request_id, view.remaining_ms, view.project_id) == ("req-1", 30000.0, "p-1")
    assert (view.token, view.access_key, view.secret_key) == ("tok-S3CRET", "AK-1", "SK-S3CRET")
    assert "S3CRET" not in repr(view)
    credentials = view.credentials()
    assert credentials and credentials.aksk is not None and credentials.project_id == "p-1"


@pytest.mark.parametrize("context", [None, object(), Context(), Context(getToken=None)])
def test_a_context_without_getters_reads_as_absent(context: Any) -> None:
    view = ContextView.read(context)
    assert view == ContextView()
    assert not view.credentials() and view.remaining_seconds() is None


@pytest.mark.parametrize(
    ("answer", "seconds"),
    [
        (3000, 2.7),
        (60000, 57.0),
        ("60000", 57.0),
        (0, None),
        (-5, None),
        ("soon", None),
        (float("nan"), None),
        (None, None),
    ],
)
def test_the_remaining_time_keeps_the_platform_margin(answer: Any, seconds: float | None) -> None:
    got = remaining_seconds(Context(getRemainingTimeInMilliSeconds=answer))  # type: ignore[arg-type]
    assert got == (pytest.approx(seconds) if seconds is not None else None)


def test_credentials_that_are_not_text_are_ignored() -> None:
    view = ContextView.read(Context(getToken=12345, getProjectID=["p"]))  # type: ignore[arg-type]
    assert (view.token, view.project_id) == ("", "")


@pytest.mark.parametrize(
    ("event", "timer"),
    [
        ({"trigger_type": "TIMER", "user_event": '{"nicattach": "reconcile"}'}, True),
        ({"trigger_type": "TIMER", "user_event": '{"nicattach": "other"}'}, False),
        ({"trigger_type": "TIMER", "user_event": "not json"}, False),
        ({"trigger_type": "APIG"}, False),
        (["TIMER"], False),
    ],
)
def test_only_the_reconcile_timer_runs_the_sweep(event: object, timer: bool) -> None:
    assert is_reconcile_timer(event) is timer
