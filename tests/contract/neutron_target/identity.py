"""The harness's stand-in for keystonemiddleware: a token names a project, a user and roles.

Neutron's paste pipeline runs it where ``authtoken`` would be; the real
``neutron.auth.NeutronKeystoneContext`` after it builds the request context
from the headers it sets. Identity headers a client sends itself are dropped
first (keystonemiddleware does the same). Roles are expanded the way
Keystone's implied roles are (admin → member → reader): Neutron's new default
policies check each by name. An unknown or missing token is Keystone's 401.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Wsgi = Callable[[Environ, StartResponse], Iterable[bytes]]

PROJECT_A = "6f70656e737461636b20342065766572"
PROJECT_B = "9a1e7c0b3d5f4e2a8c6b0d1f2e3a4b5c"
ADMIN_PROJECT = "a0d3f1e2c4b5a6978899aabbccddeeff"
#: token → (project, user, role).
TOKENS = {
    "neutron-token": (PROJECT_A, "harness-user", "member"),
    "neutron-other-token": (PROJECT_B, "other-user", "member"),
    "neutron-admin-token": (ADMIN_PROJECT, "admin", "admin"),
}
#: The admin also has the ``service`` role, as Nova's own Neutron credentials do (Neutron's
#: policies keep ``binding:profile`` for it).
IMPLIED = {"admin": ["admin", "member", "reader", "service"], "member": ["member", "reader"]}
IDENTITY_HEADERS = (
    "HTTP_X_PROJECT_ID",
    "HTTP_X_TENANT_ID",
    "HTTP_X_USER_ID",
    "HTTP_X_ROLES",
    "HTTP_X_IS_ADMIN_PROJECT",
    "HTTP_X_PROJECT_NAME",
    "HTTP_X_USER_NAME",
)
UNAUTHORIZED = json.dumps(
    {
        "error": {
            "code": 401,
            "title": "Unauthorized",
            "message": "The request you have made requires authentication.",
        }
    }
).encode()


class TokenIdentity:
    """WSGI middleware: ``X-Auth-Token`` → Keystone's identity headers."""

    def __init__(self, app: Wsgi) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        for name in IDENTITY_HEADERS:
            environ.pop(name, None)
        identity = TOKENS.get(environ.get("HTTP_X_AUTH_TOKEN", ""))
        if identity is None:
            start_response(
                "401 Unauthorized",
                [("Content-Type", "application/json"), ("Content-Length", str(len(UNAUTHORIZED)))],
            )
            return [UNAUTHORIZED]
        project, user, role = identity
        environ["HTTP_X_PROJECT_ID"] = environ["HTTP_X_TENANT_ID"] = project
        environ["HTTP_X_USER_ID"] = user
        environ["HTTP_X_ROLES"] = ",".join(IMPLIED[role])
        environ["HTTP_X_IS_ADMIN_PROJECT"] = "True" if role == "admin" else "False"
        return self.app(environ, start_response)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Wsgi], Wsgi]:
    """Paste's entry point (``paste.filter_factory = identity:filter_factory``)."""
    return TokenIdentity
