"""An entry point's event → ``ParsedEvent``: the one way in, for bytes or a parsed event.

The size limit first (``NICATTACH_MAX_BODY_BYTES``: a body over it is refused before it
is decoded), then the transport's decoding (``sources/inbound.py``), SMN's gate for a
request that came over HTTP (``smn_gate.py``) and the source's parser
(``sources/parse.py``). Whatever is wrong is an ``InputError`` (a clear 4xx).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from function.domain.errors import BodyTooLarge, InputError
from function.domain.model import Ignored, ParsedEvent
from function.domain.timing import Deadline
from function.sources.inbound import decode_parsed, decode_request
from function.sources.parse import parse_event

if TYPE_CHECKING:
    from function.app.smn_gate import SmnGate
    from function.transport.session import HttpSession


class Intake:
    def __init__(self, max_body_bytes: int, session: HttpSession, topics: tuple[str, ...]) -> None:
        self.max_body_bytes = max_body_bytes
        self._session, self._topics = session, topics
        self._smn: SmnGate | None = None

    @property
    def smn(self) -> SmnGate:
        """Made (and imported) when a request over HTTP first needs it: FunctionGraph's
        handler never does, so its cold start skips the module."""
        if self._smn is None:  # two first requests at once may make two: both are equal
            from function.app.smn_gate import SmnGate

            self._smn = SmnGate(self._session, self._topics)
        return self._smn

    @smn.setter
    def smn(self, gate: SmnGate) -> None:
        self._smn = gate

    def request(
        self, headers: Mapping[str, str], body: bytes, untrusted: Deadline | None = None
    ) -> ParsedEvent:
        """A request's body; with ``untrusted`` (the deadline of a request that came over
        HTTP), SMN messages pass ``SmnGate`` first (signed, listed topic; 403 otherwise)."""
        self._check_size(len(body), "body")
        trigger, data = decode_request(headers, body)
        if untrusted is not None:
            try:
                data = self.smn.admit(headers, data, untrusted)
            except Ignored as done:  # a subscription confirmed: nothing else to do
                return ParsedEvent(trigger=trigger, ignored_reason=done.reason)
        return parse_event(trigger, data)

    def parsed(self, headers: Mapping[str, str], event: object) -> ParsedEvent:
        """An event the platform already parsed (FunctionGraph's ``handler``): decoded as
        the JSON body of the same content would be, with no bytes to decode. Its JSON text
        is measured against the same limit and is a bare event's identity."""
        text = json_text(event)
        self._check_size(len(text), "event")
        trigger, data = decode_parsed(headers, event, text)
        return parse_event(trigger, data)

    def _check_size(self, size: int, what: str) -> None:
        if size > self.max_body_bytes:
            raise BodyTooLarge(f"{what} is {size} bytes; the limit is {self.max_body_bytes}")


def json_text(event: object) -> bytes:
    """``event`` as compact JSON text; what no JSON body could be (a cycle, nesting beyond
    any real event, a value JSON has not, NaN) is refused."""
    try:
        return json.dumps(event, allow_nan=False).encode()
    except (ValueError, TypeError) as exc:
        raise InputError(f"the event is not a JSON value: {type(exc).__name__}") from None
    except RecursionError:
        raise InputError("the event is nested too deeply") from None
