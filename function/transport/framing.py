"""One HTTP/1.1 answer read off a socket, parsed by llhttp (Node.js's HTTP parser,
through ``httptools``).

The framing (Content-Length, chunked, till the connection closes, interim 1xx answers) is
llhttp's; the limits are ours: 64 KiB of status line and headers, 100 headers, a body of
at most ``max_bytes``, each read's timeout cut to what is left before the deadline.
``transport/wire.py`` sends the request and keeps the connection for the next one when
the answer allows it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httptools

MAX_HEAD = 64 * 1024
"""Bytes of status line and headers accepted before the body starts."""
MAX_HEADERS = 100
_CHUNK = 64 * 1024


class WireError(Exception):
    """No complete HTTP answer; ``kind`` says why ("connect", "tls", "timeout", "dropped",
    "malformed", "too_large", "invalid"). Messages never hold a header value."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Headers(Mapping[str, str]):
    """An answer's headers, looked up whatever the case; a repeated header's values are
    joined with ", " (as urllib3 and requests do)."""

    __slots__ = ("_items",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            key = name.lower()
            seen = items.get(key)
            items[key] = (name, value) if seen is None else (seen[0], f"{seen[1]}, {value}")
        self._items = items

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def get(self, name: str, default: Any = None) -> Any:
        found = self._items.get(name.lower())
        return default if found is None else found[1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({[name for name, _ in self._items.values()]!r})"  # names only


class _Answer:
    """llhttp's callbacks: what one answer is made of."""

    __slots__ = (
        "pairs",
        "reason",
        "body",
        "size",
        "limit",
        "head",
        "done",
        "extra",
        "again",
        "parser",
        "head_bytes",
    )

    def __init__(self, limit: int) -> None:
        self.pairs: list[tuple[str, str]] = []
        self.reason = b""
        self.body: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.head = False
        self.done = False
        self.extra = False  # bytes past the answer: the connection is not reused
        self.again = False  # the answer lets the connection carry another request
        self.parser: Any = None
        self.head_bytes = 0

    def on_message_begin(self) -> None:
        self.extra = self.done

    def on_status(self, reason: bytes) -> None:
        if not self.done:
            self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.done:
            self.pairs.append((name.decode("latin-1"), value.decode("latin-1").strip(" \t")))
            self.head_bytes += len(name) + len(value)

    def on_headers_complete(self) -> None:
        self.head = True
        self.again = self.parser.should_keep_alive()  # a HEAD answer ends here
        if self.parser.get_status_code() in (204, 304):  # no body, whatever the length says
            return
        for name, value in self.pairs:  # an announced length past the limit: refused unread
            if (
                name.lower() == "content-length"
                and value.isascii()
                and value.isdigit()
                and int(value) > self.limit
            ):
                self.size = int(value)

    def on_body(self, data: bytes) -> None:
        if not self.done:
            self.size += len(data)
            if self.size <= self.limit:
                self.body.append(data)

    def on_message_complete(self) -> None:
        if self.done:
            return
        if self.parser.get_status_code() < 200:  # an interim answer (100 Continue): the next
            self.pairs, self.reason, self.head, self.head_bytes = [], b"", False, 0
        else:
            self.done = True
            self.again = self.parser.should_keep_alive()  # llhttp forgets it after this call


def read_answer(
    sock: socket.socket, method: str, read_timeout: float, deadline: float | None, max_bytes: int
) -> tuple[tuple[int, str, Headers, bytes], bool]:
    """The whole answer, and whether the connection may carry another request."""
    answer = _Answer(max_bytes)
    parser = answer.parser = httptools.HttpResponseParser(answer)
    received = 0
    while not answer.done:
        if deadline is not None and received:  # the first read has the send's timeout
            sock.settimeout(time_left(read_timeout, deadline))
        try:
            data = sock.recv(_CHUNK)
        except TimeoutError:
            raise WireError("timeout", "ReadTimeoutError") from None
        except OSError:
            raise WireError("dropped", "connection dropped") from None
        if not data:
            if answer.head and not _framed(answer.pairs):  # the body ends with the connection
                break
            raise WireError("dropped", "connection dropped")
        received += len(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            raise WireError("malformed", "an upgrade was not asked for") from None
        except httptools.HttpParserError:
            if not answer.done:  # past a complete answer: only the connection is spoilt
                raise WireError("malformed", "malformed answer") from None
            answer.extra = True
        if (not answer.head and received > MAX_HEAD) or answer.head_bytes > MAX_HEAD:
            raise WireError("malformed", "answer headers too long")
        if len(answer.pairs) > MAX_HEADERS:
            raise WireError("malformed", "answer headers too many")
        if method == "HEAD" and answer.head:  # no body follows, whatever the headers say
            return _made(answer, parser), answer.again and not answer.body
        if answer.size > max_bytes:
            raise WireError("too_large", f"answer exceeds {max_bytes} bytes")
    reusable = answer.done and answer.again and not answer.extra
    return _made(answer, parser), reusable


def time_left(read_timeout: float, deadline: float | None) -> float:
    """The next socket operation's timeout: the read timeout, or less if the deadline is near."""
    if deadline is None:
        return read_timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise WireError("timeout", "the answer took longer than allowed")
    return min(read_timeout, left)


def _framed(pairs: list[tuple[str, str]]) -> bool:
    return any(name.lower() in ("content-length", "transfer-encoding") for name, _ in pairs)


def _made(answer: _Answer, parser: Any) -> tuple[int, str, Headers, bytes]:
    status = parser.get_status_code()
    reason = answer.reason.decode("latin-1", "replace")
    return status, reason, Headers(answer.pairs), b"".join(answer.body)
