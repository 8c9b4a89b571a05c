"""SMN messages arriving over HTTP: admitted only when SMN signed them, for a listed topic.

Anyone who can reach the function's HTTP endpoint can POST a body shaped like an
SMN notification; a lifecycle hook notification is an order (CONTINUE, ABANDON).
So, over HTTP (``Service.handle(..., trusted=False)``):

- an SMN HTTP(S) message (``X-SMN-MESSAGE-TYPE``, or a body with SMN's ``type`` and
  ``topic_urn``) is admitted only if its topic is in ``NICATTACH_SMN_TOPICS``, its
  timestamp is recent (``MAX_AGE_S``: a captured message cannot be replayed later),
  and its signature verifies (``sources/smn_signature.py``) against the certificate at
  its ``signing_cert_url``, which must be ``https://smn.{region}.myhuaweicloud.com/…``
  (or another Huawei SMN domain); certificates are cached per URL in the process;
- a ``SubscriptionConfirmation`` so admitted is confirmed by a GET of its
  ``subscribe_url``; a ``Notification`` is handled as FunctionGraph's SMN trigger
  would deliver it; an ``UnsubscribeConfirmation`` is acknowledged;
- FunctionGraph's own SMN record shape (``{"record": [{"smn": …}]}``) is refused:
  the platform delivers it to ``handler``, never over HTTP.

Refusals are 403 ``smn_refused`` before any API call. FunctionGraph's SMN trigger
(``handler``, ``trusted``) does not pass through here: the platform authenticated it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from function.domain.codes import ErrorCode
from function.domain.errors import InputError
from function.domain.model import Ignored
from function.domain.timing import Deadline
from function.sources.inbound import is_smn
from function.transport.session import HttpSession, TransportError

if TYPE_CHECKING:  # the checker itself is imported by verify: most processes never see SMN
    from function.sources.smn_signature import SigningKey

log = logging.getLogger("nicattach.smn")

TYPE_HEADER = "x-smn-message-type"
MAX_AGE_S = 3600.0
"""An SMN message older than this (or more than ``CLOCK_SKEW_S`` in the future) is refused."""
CLOCK_SKEW_S = 300.0
CERT_HOST = re.compile(r"smn\.[a-z0-9-]+\.(myhuaweicloud\.(com|eu|cn)|huaweicloud\.com)")
CACHED_CERTS = 16
RECORD_FIELDS = ("topic_urn", "message", "subject", "message_id", "timestamp", "type")
NOTIFICATION, CONFIRMATION = "Notification", "SubscriptionConfirmation"
SIGNED_TYPES = frozenset((NOTIFICATION, CONFIRMATION, "UnsubscribeConfirmation"))
"""The types of SMN's HTTP messages (``smn_signature.SIGNED_FIELDS`` signs each)."""


class Forbidden(InputError):
    """A message the function will not act on: unsigned, forged, stale, or another topic."""

    code = ErrorCode.SMN_REFUSED
    http_status = 403


class CertificateUnavailable(InputError):
    """The signing certificate could not be fetched now: SMN redelivers (503)."""

    code = ErrorCode.SMN_CERTIFICATE_UNAVAILABLE
    http_status = 503


def official_url(url: str) -> bool:
    """``https://`` on one of Huawei's SMN hosts, where SMN serves its certificates."""
    match = re.fullmatch(r"https://([^/:?#]+)(/[^?#]*)?", url)
    return match is not None and CERT_HOST.fullmatch(match.group(1).lower()) is not None


def https_url(url: str) -> bool:
    return url.lower().startswith("https://")


class SmnGate:
    """Thread-safe; one per service. ``cert_url_allowed`` and ``confirm_url_allowed`` are
    seams for tests (a local certificate server); production keeps the defaults."""

    def __init__(
        self,
        session: HttpSession,
        topics: tuple[str, ...],
        *,
        wall: Callable[[], float] = time.time,
        cert_url_allowed: Callable[[str], bool] = official_url,
        confirm_url_allowed: Callable[[str], bool] = https_url,
    ) -> None:
        self._session, self._topics, self._wall = session, frozenset(topics), wall
        self._cert_allowed, self._confirm_allowed = cert_url_allowed, confirm_url_allowed
        self._keys: OrderedDict[str, SigningKey] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, headers: Mapping[str, str], data: object, deadline: Deadline) -> object:
        """The data to parse; raises ``Forbidden``, or ``Ignored`` once a confirmation is done."""
        if isinstance(data, Mapping) and is_smn(data):
            raise Forbidden(
                "an SMN record over HTTP carries no signature: FunctionGraph's SMN "
                "trigger calls handler; an HTTP(S) subscription sends signed messages"
            )
        typed = any(name.lower() == TYPE_HEADER for name in headers)
        if not isinstance(data, Mapping) or not (typed or _looks_signed(data)):
            return data
        self.verify(data, deadline)
        kind, topic = data["type"], data["topic_urn"]
        if kind == NOTIFICATION:
            return {
                "record": [{"event_source": "smn", "smn": {k: data.get(k) for k in RECORD_FIELDS}}]
            }
        if kind == CONFIRMATION:
            self._confirm(str(data["subscribe_url"]), deadline)
            raise Ignored(f"SMN subscription to {topic} confirmed")
        raise Ignored(f"SMN subscription to {topic} ended")

    def verify(self, message: Mapping[str, Any], deadline: Deadline) -> None:
        from function.sources.smn_signature import BadSignature, string_to_sign

        topic = message.get("topic_urn")
        if topic not in self._topics:
            raise Forbidden(f"SMN topic {str(topic)[:200]!r} is not in NICATTACH_SMN_TOPICS")
        self._check_age(message.get("timestamp"))
        url, signature = message.get("signing_cert_url"), message.get("signature")
        if not isinstance(url, str) or not self._cert_allowed(url):
            raise Forbidden("signing_cert_url is not an https:// URL on a Huawei SMN host")
        if not isinstance(signature, str) or not signature:
            raise Forbidden("SMN message without a signature")
        try:
            self._key(url, deadline).verify(string_to_sign(message), signature, self._wall())
        except BadSignature as exc:
            log.warning("refused an SMN message for %s: %s", topic, exc)
            raise Forbidden(f"SMN signature refused: {exc}") from None

    def _check_age(self, stamp: object) -> None:
        try:
            sent = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            raise Forbidden("SMN message without a valid timestamp") from None
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=dt.timezone.utc)
        age = self._wall() - sent.timestamp()
        if not -CLOCK_SKEW_S <= age <= MAX_AGE_S:
            raise Forbidden(f"SMN message timestamp {str(stamp)[:40]} is not recent")

    def _key(self, url: str, deadline: Deadline) -> SigningKey:
        with self._lock:
            if url in self._keys:
                self._keys.move_to_end(url)
                return self._keys[url]
        from function.sources.smn_signature import signing_key

        key = signing_key(self._get(url, deadline, "signing certificate"))
        with self._lock:
            self._keys[url] = key
            while len(self._keys) > CACHED_CERTS:
                self._keys.popitem(last=False)
        return key

    def _confirm(self, url: str, deadline: Deadline) -> None:
        if not self._confirm_allowed(url):
            raise Forbidden("subscribe_url is not an https:// URL")
        self._get(url, deadline, "subscription confirmation")
        log.info("confirmed an SMN subscription")

    def _get(self, url: str, deadline: Deadline, what: str) -> bytes:
        remaining = deadline.remaining()
        try:
            answer = self._session.request(
                "GET", url, timeout=(min(3.05, remaining), min(10.0, remaining)), total=remaining
            )
        except TransportError as exc:
            raise CertificateUnavailable(f"{what}: {exc}") from None
        if answer.status_code != 200:
            raise CertificateUnavailable(f"{what}: HTTP {answer.status_code}")
        return answer.content


def _looks_signed(data: Mapping[str, Any]) -> bool:
    """SMN's HTTP body: its ``type`` and ``topic_urn`` (signed or not: either way checked)."""
    return data.get("type") in SIGNED_TYPES and "topic_urn" in data
