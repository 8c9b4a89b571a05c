"""Structured logs: one JSON object per line on stderr.

Context (event id, server id, …) is passed with ``extra={"ctx": {...}}``.
Secrets never reach a log record: the code never formats credentials, and
``redact`` cuts every registered credential and anything that looks like one
from messages as a last guard. The same ``redact`` guards every other way out
of the process: error messages in outcome events, replies and sink bodies.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

_FIELDS: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("nicattach_log_fields")


@contextlib.contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every log line written inside this block (this thread/context)."""
    token = _FIELDS.set({**_FIELDS.get({}), **fields})
    try:
        yield
    finally:
        _FIELDS.reset(token)


def bound(name: str) -> Any:
    """A field bound by an enclosing ``bind`` (e.g. the correlation id), or None."""
    return _FIELDS.get({}).get(name)


def snapshot() -> dict[str, Any]:
    """The bound fields, to re-bind in a worker thread."""
    return dict(_FIELDS.get({}))


_SECRET = re.compile(
    r"(?i)(x-auth-token|token|password|secret|signature|authorization)"
    r"([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"
)


_KEYWORDS = ("token", "password", "secret", "signature", "authorization")
"""What ``_SECRET`` looks for: an ASCII text without any of them (lower-cased) has no match."""

_KNOWN: set[str] = set()
_ORDERED: tuple[str, ...] = ()
"""``_KNOWN``, longest first (a secret inside a longer one is cut after it), kept sorted."""
_KNOWN_LOCK = threading.Lock()
MIN_SECRET_LENGTH = 6
"""Shorter values are not registered: replacing them would mangle ordinary text."""


def register_secret(value: str | None) -> None:
    """Remember a credential (a token, a secret key, a password) so that ``redact`` cuts
    it from everything that leaves the process, wherever it shows up."""
    global _ORDERED
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        with _KNOWN_LOCK:
            _KNOWN.add(value.strip())
            _ORDERED = tuple(sorted(_KNOWN, key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` without any registered credential and without anything that looks like
    one (``token=...``, ``password: ...``, ``signature=...``)."""
    for secret in _ORDERED:
        if secret in text:
            text = text.replace(secret, "***")
    if text.isascii():  # the common case: a few substring tests instead of the pattern
        lower = text.lower()
        for word in _KEYWORDS:
            if word in lower:
                break
        else:
            return text
    return _SECRET.sub(r"\1\2***", text)


def scrub(value: Any) -> Any:
    """A JSON-ready ``value`` with ``redact`` applied to every string in it (keys too)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


def redact_bytes(body: bytes) -> bytes:
    """``redact`` over an outgoing body (UTF-8 text; other bytes pass unchanged)."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return body
    cut = redact(text)
    return body if cut == text else cut.encode()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_FIELDS.get({}))
        ctx = getattr(record, "ctx", None)
        if isinstance(ctx, dict):
            entry.update(ctx)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return redact(json.dumps(entry, default=str))  # every field, not only the message


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (test runners and CLIs swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


_PLAIN_FACTORY = logging.getLogRecordFactory()


def _redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """A ``nicattach`` record whose message is redacted before any handler sees it (ours,
    the platform's, a test's), not only when our formatter writes it."""
    record = _PLAIN_FACTORY(*args, **kwargs)
    if record.name.startswith("nicattach"):
        record.msg, record.args = redact(record.getMessage()), None
    return record


def configure(level: str = "INFO") -> None:
    """Send the ``nicattach`` loggers to stderr as JSON lines (idempotent)."""
    logging.setLogRecordFactory(_redacted_record)
    logging._srcfile = None  # no caller-frame walk per record: no field names a file or line
    logger = logging.getLogger("nicattach")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(level.upper() if level.upper() in logging._nameToLevel else "INFO")
