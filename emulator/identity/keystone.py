"""A fake Keystone: v3 tokens, Huawei AK/SK signatures, and the checks a cloud's gateway makes.

``FakeKeystone`` issues and checks credentials the way the real services do;
``emulator.gateway.KeystoneGateway`` puts it in front of the services
(``emulator.server.FakeCloudServer`` hosts that):

- ``POST /v3/auth/tokens``: password or application-credential authentication;
  answers ``X-Subject-Token`` and a token with ``expires_at``, the project and a
  catalog whose compute endpoint is ``{url}/compute/v2.1/{project_id}`` and whose
  network endpoint is ``{url}`` (Neutron's ``/v2.0/...`` under it);
- every other call: a Keystone token it issued (not expired, not revoked), a
  fixed token, or an ``SDK-HMAC-SHA256`` signature by a registered access key
  (with its ``X-Security-Token`` for temporary keys).

The signature check is written from the algorithm's description, separately
from ``function/auth/aksk.py``, so the two are not the same code checking itself.
Counters (``auth_requests``) let tests prove caching and re-authentication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

SIGNATURE = re.compile(r"^SDK-HMAC-SHA256 Access=([^,]+), SignedHeaders=([^,]+), Signature=(\w+)$")
CLOCK_SKEW = dt.timedelta(minutes=15)


@dataclass
class FakeKeystone:
    """Users, application credentials, access keys and the tokens issued to them."""

    project_id: str
    project_name: str = "demo"
    ttl_s: float = 3600.0
    users: dict[str, tuple[str, str]] = field(default_factory=dict)
    """name → (user id, password)."""
    app_credentials: dict[str, str] = field(default_factory=dict)
    """application credential id → secret."""
    access_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    """AK → (SK, security token or "")."""
    tokens: dict[str, dt.datetime] = field(default_factory=dict)
    fixed_tokens: set[str] = field(default_factory=set)
    auth_requests: int = 0
    issued: list[str] = field(default_factory=list)
    """Every token ever issued (tests look for them in logs)."""
    reject_all: bool = False
    """Answer 401 to every API call, as if every token were revoked at once."""
    rejected: list[str] = field(default_factory=list)
    """Why requests were refused (never a secret)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def revoke_all(self) -> None:
        with self.lock:
            self.tokens.clear()

    def authenticate(self, body: Any, compute_url: str) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.auth_requests += 1
        identity = body.get("auth", {}).get("identity", {}) if isinstance(body, dict) else {}
        user_id = self._check_identity(identity)
        if user_id is None:
            message = "The request you have made requires authentication."
            return 401, {}, {"error": {"code": 401, "message": message, "title": "Unauthorized"}}
        token = secrets.token_hex(16)
        now = dt.datetime.now(dt.timezone.utc)
        expires = now + dt.timedelta(seconds=self.ttl_s)
        with self.lock:
            self.tokens[token] = expires
            self.issued.append(token)
        document = {"token": self._token_body(user_id, now, expires, compute_url)}
        return 201, {"X-Subject-Token": token}, document

    def _check_identity(self, identity: dict[str, Any]) -> str | None:
        methods = identity.get("methods", [])
        if "password" in methods:
            user = identity.get("password", {}).get("user", {})
            for name, (user_id, password) in self.users.items():
                if user.get("name") in (name, None) and user.get("id") in (user_id, None):
                    if hmac.compare_digest(str(user.get("password", "")), password):
                        return user_id
        if "application_credential" in methods:
            credential = identity.get("application_credential", {})
            secret = self.app_credentials.get(str(credential.get("id")))
            if secret is not None and hmac.compare_digest(str(credential.get("secret")), secret):
                return "app-user"
        return None

    def _token_body(
        self, user_id: str, now: dt.datetime, expires: dt.datetime, compute_url: str
    ) -> dict[str, Any]:
        compute = f"{compute_url}/v2.1/{self.project_id}"
        return {
            "methods": ["password"],
            "user": {
                "id": user_id,
                "name": user_id,
                "domain": {"id": "default", "name": "Default"},
            },
            "project": {
                "id": self.project_id,
                "name": self.project_name,
                "domain": {"id": "default", "name": "Default"},
            },
            "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "roles": [{"id": "r1", "name": "member"}],
            "catalog": [
                {
                    "type": "compute",
                    "name": "nova",
                    "id": "c1",
                    "endpoints": [
                        {
                            "id": f"e-{i}",
                            "interface": i,
                            "region": "RegionOne",
                            "region_id": "RegionOne",
                            "url": compute,
                        }
                        for i in ("public", "internal", "admin")
                    ],
                },
                {
                    "type": "network",
                    "name": "neutron",
                    "id": "n1",
                    "endpoints": [
                        {
                            "id": f"n-{i}",
                            "interface": i,
                            "region": "RegionOne",
                            "region_id": "RegionOne",
                            "url": compute_url.removesuffix("/compute"),
                        }
                        for i in ("public", "internal", "admin")
                    ],
                },
            ],
        }

    def check(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> str | None:
        """None if the request is authenticated, else why not."""
        if self.reject_all:
            return "every credential is refused"
        token = headers.get("x-auth-token")
        if token is not None:
            with self.lock:
                expires = self.tokens.get(token)
            if token in self.fixed_tokens:
                return None
            if expires is None:
                return "unknown or revoked token"
            return None if expires > dt.datetime.now(dt.timezone.utc) else "expired token"
        if "authorization" in headers:
            return self._check_signature(method, raw_path, headers, body)
        return "no credentials"

    def _check_signature(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> str | None:
        found = SIGNATURE.match(headers["authorization"])
        if found is None:
            return "malformed Authorization"
        access_key, names, signature = found.group(1), found.group(2).split(";"), found.group(3)
        if access_key not in self.access_keys:
            return "unknown access key"
        secret, security_token = self.access_keys[access_key]
        if security_token and headers.get("x-security-token") != security_token:
            return "missing or wrong X-Security-Token"
        if not {"host", "x-sdk-date"} <= set(names) or any(n not in headers for n in names):
            return "a required header is not signed"
        date = dt.datetime.strptime(headers["x-sdk-date"], "%Y%m%dT%H%M%SZ")
        if (
            abs(date.replace(tzinfo=dt.timezone.utc) - dt.datetime.now(dt.timezone.utc))
            > CLOCK_SKEW
        ):
            return "X-Sdk-Date too far from now"
        expected = _signature(secret, method, raw_path, headers, names, body)
        return None if hmac.compare_digest(expected, signature) else "signature mismatch"


def _signature(
    secret: str, method: str, raw_path: str, headers: dict[str, str], names: list[str], body: bytes
) -> str:
    parts = urlsplit(raw_path)
    path = "/".join(quote(unquote(s), safe="~") for s in parts.path.split("/"))
    path = path if path.endswith("/") else path + "/"
    pairs = sorted(
        (unquote(k), unquote(v))
        for k, _, v in (item.partition("=") for item in parts.query.split("&") if item)
    )
    query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)
    canonical_headers = "".join(f"{n}:{headers[n].strip()}\n" for n in names)
    canonical = "\n".join(
        [method, path, query, canonical_headers, ";".join(names), hashlib.sha256(body).hexdigest()]
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"SDK-HMAC-SHA256\n{headers['x-sdk-date']}\n{digest}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
