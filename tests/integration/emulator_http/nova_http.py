"""What the tests of the emulator's Nova API share: the seeded ids, a caller, Nova's fault body."""

from __future__ import annotations

import re
from typing import Any

import requests
from support import PROJECT  # the sample project, defined once (tests/support.py)

NET = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
OTHER_NET = "0dc714fa-9022-4a03-bb22-9821a396bb9d"
SERVER = "9d4b2f3e-6a1c-4e5b-8f7a-1c2d3e4f5a6b"
BUILDING = "5b1f2c3d-0a4e-4f6b-9c8d-7e6f5a4b3c2d"
BROKEN = "6c2a3d4e-1b5f-4a7c-8d9e-0f1a2b3c4d5e"
OTHER = "7d3b4e5f-2c6a-4b8d-9e0f-1a2b3c4d5e6f"
FREE_PORT = "ce531f90-199f-48c0-816c-13e38010b442"
BUSY_PORT = "de642a01-2a0a-4b1d-927f-24f49121c553"
GHOST = "11111111-2222-4333-8444-555555555555"
REQUEST_ID = re.compile(r"^req-[0-9a-f-]{36}$")


class Api:
    def __init__(self, http: requests.Session, url: str, token: str) -> None:
        self.http, self.url, self.token = http, url, token

    def __call__(
        self,
        method: str,
        path: str,
        *,
        version: str | None = None,
        token: str | None = None,
        project: str = PROJECT,
        api: str = "v2.1",
        **kwargs: Any,
    ) -> requests.Response:
        headers = {"X-Auth-Token": token or self.token, **kwargs.pop("headers", {})}
        if version is not None:
            headers["X-OpenStack-Nova-API-Version"] = version
        return self.http.request(
            method, f"{self.url}/{api}/{project}{path}", headers=headers, **kwargs
        )


def attach_path(server: str = SERVER) -> str:
    return f"/servers/{server}/os-interface"


def fault(kind: str, code: int, message: str) -> dict[str, Any]:
    return {kind: {"code": code, "message": message}}
