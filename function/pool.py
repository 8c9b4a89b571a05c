"""The one way this project runs work on threads: every worker sees its caller's context.

Invocation credentials (FunctionGraph), the correlation id and the log fields
live in ``ContextVar``s; a plain ``ThreadPoolExecutor`` worker sees none of
them. Batches, the sweep and the parallel reads (flow, huawei-v1 backend) all go through here, so
none of them can lose the context again.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def submit(pool: ThreadPoolExecutor, work: Callable[[], R]) -> Future[R]:
    """Run ``work`` on ``pool`` inside a copy of the caller's context."""
    return pool.submit(contextvars.copy_context().run, work)


Admit = Callable[[], AbstractContextManager[object]]
"""Held around each item's work: when it may start (``Gate.admitted``: the gate's width)."""


def map_in_context(
    work: Callable[[T], R],
    items: Iterable[T],
    *,
    concurrency: int,
    admit: Admit | None = None,
) -> Iterator[R]:
    """``work(item)`` for each item, at most ``concurrency`` at once, results in order,
    each in a copy of the caller's context. One item runs on the caller's thread.
    ``admit``: each item also waits for it (in about their order), so the number running
    follows an adaptive width below ``concurrency`` (``function/gate.py``)."""
    listed = list(items)
    if len(listed) <= 1 or concurrency <= 1:
        yield from (work(item) for item in listed)
        return
    with ThreadPoolExecutor(max_workers=min(concurrency, len(listed))) as pool:
        futures = [submit(pool, _bind(work, item, admit)) for item in listed]
        for future in futures:
            yield future.result()


def _bind(work: Callable[[T], R], item: T, admit: Admit | None) -> Callable[[], R]:
    if admit is None:
        return lambda: work(item)

    def admitted() -> R:
        with admit():
            return work(item)

    return admitted
