"""Huawei Cloud API request signing (``SDK-HMAC-SHA256``), written out in ~60 lines.

Why not ``huaweicloudsdkcore``: importing its signer costs ~50 ms and pulls in
~20 MB of dependencies (pymongo, dnspython, pyasn1, simplejson, ...) for one HMAC.
``tests/unit/test_auth_aksk.py`` checks these signatures against the SDK's own
signer for many generated requests, so the two cannot drift apart unnoticed.

The algorithm (huaweicloudsdkcore ``signer/signer.py``)::

    canonical request = METHOD \\n canonical URI (each path segment percent-encoded, ending in /)
                        \\n canonical query (sorted, percent-encoded) \\n "name:value\\n" per signed
                        header \\n signed header names (;-joined) \\n hex sha256 of the body
    string to sign    = "SDK-HMAC-SHA256" \\n X-Sdk-Date \\n hex sha256 of the canonical request
    Authorization     = SDK-HMAC-SHA256 Access=AK, SignedHeaders=..., Signature=hex hmac(SK, ...)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class AkSk:
    """An access key pair; with ``security_token``, temporary (STS / FunctionGraph agency)."""

    access_key: str
    secret_key: str = field(repr=False)
    security_token: str = field(default="", repr=False)

    def __repr__(self) -> str:
        temporary = ", security_token=***" if self.security_token else ""
        return f"AkSk(access_key={_mask(self.access_key)}, secret_key=***{temporary})"


def sign(
    credentials: AkSk,
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str],
    *,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
) -> dict[str, str]:
    """``headers`` plus ``Host``, ``X-Sdk-Date``, ``X-Security-Token`` (if temporary) and
    ``Authorization``. Every returned header is signed, so send them all unchanged."""
    parts = urlsplit(url)
    signed = {
        **headers,
        "Host": parts.netloc.rpartition("@")[2],
        "X-Sdk-Date": now().strftime(DATE_FORMAT),
    }
    if credentials.security_token:
        signed["X-Security-Token"] = credentials.security_token
    names = sorted(name.lower() for name in signed)
    canonical = canonical_request(method, parts.path, parts.query, signed, names, body)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"{ALGORITHM}\n{signed['X-Sdk-Date']}\n{digest}"
    signature = hmac.new(credentials.secret_key.encode(), to_sign.encode(), hashlib.sha256)
    signed["Authorization"] = (
        f"{ALGORITHM} Access={credentials.access_key}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature.hexdigest()}"
    )
    return signed


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    names: list[str],
    body: bytes | None,
) -> str:
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    payload = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            canonical_headers,
            ";".join(names),
            payload,
        ]
    )


def canonical_uri(path: str) -> str:
    uri = "/".join(_encode(segment) for segment in unquote(path or "/").split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query: str) -> str:
    """``a=1&b`` → sorted ``name=value`` pairs, each part decoded then percent-encoded."""
    pairs = []
    for item in query.split("&") if query else []:
        name, _, value = item.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in sorted(pairs))


def _encode(text: str) -> str:
    return quote(text, safe="~")


def _mask(access_key: str) -> str:
    """Enough of an AK to tell two apart in a log, not enough to use it."""
    return access_key[:4] + "***" if len(access_key) > 8 else "***"
