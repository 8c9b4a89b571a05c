"""A cloud's API gateway in front of the services: ``FakeKeystone``'s checks, then the app.

With a gateway, ``EmulatorApp`` answers as a whole cloud behind one address would:

- ``POST /v3/auth/tokens``: Keystone authentication (``FakeKeystone.authenticate``);
- ``GET /compute[/v2[.1]]/`` and ``GET /``: version documents, public as in Nova and Neutron;
- anything else: credentials checked by ``FakeKeystone.check`` (a Keystone token, a fixed
  token or an AK/SK signature) and the project matched (an ``X-Project-Id`` naming another
  is refused), then passed on to the services with the gateway's own token:
  ``/compute/...`` (Nova's API), ``/v1/{project_id}/cloudservers|jobs`` (Huawei's native
  ECS API, where the SDK's ``ecs_url`` sends it), ``/v1|v2.0/{project_id}/publicips``
  (EIP), ``/autoscaling-api/v1/{project_id}`` (lifecycle hooks), ``/v2.0/...`` (the
  network API, in the credential's project) and ``/v1/{project_id}/channels/{id}/events``
  (EventGrid's publish call).

Refusals are 401 ``APIGW.0301`` and 403 ``Ecs.0023``, with why in ``FakeKeystone.rejected``
(never a secret). What the gateway answers itself is not in the request log (a Keystone
body carries a password).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import replace

from emulator.autoscaling.responses import API_PATH as AS_PATH
from emulator.core.wire import Request, Response
from emulator.ecs_v1.responses import API_PATH as ECS_V1_PATH
from emulator.eip.responses import API_PATH as EIP_PATH
from emulator.eventgrid.responses import API_PATH as EVENTS_PATH
from emulator.identity.keystone import FakeKeystone
from emulator.identity.tokens import TokenStore
from emulator.network_api.responses import API_PATH as NETWORK_PATH

COMPUTE_PROJECT = re.compile(r"^/v(?:1|2|2\.1)/([^/]+)")
VERSION_DOCUMENT = re.compile(r"^/compute(?:/v2(?:\.1)?)?/?$")
NOT_FOUND = Response(404, {"error": {"code": "404", "message": "not found"}})


class KeystoneGateway:
    """Admits a request (rewritten for the services) or answers it (auth, refusals)."""

    def __init__(self, keystone: FakeKeystone, tokens: TokenStore) -> None:
        self.keystone = keystone
        self._token = secrets.token_hex(8)
        tokens.add(self._token)

    def admit(self, request: Request) -> Request | Response:
        path, keystone = request.path, self.keystone
        if path.rstrip("/").endswith("/v3/auth/tokens") and request.method == "POST":
            try:
                document = json.loads(request.body or b"{}")
            except ValueError:
                return Response(400, {"error": {"code": 400, "message": "Malformed body"}})
            compute_url = request.base_url + "/compute"
            status, extra, answer = keystone.authenticate(document, compute_url)
            return Response(status, answer, dict(extra))
        if request.method == "GET" and VERSION_DOCUMENT.match(path):  # public, as in Nova
            return self._pass(request, path.removeprefix("/compute"))
        if request.method == "GET" and path == "/":  # Neutron's version list, public too
            return Response(200, {"versions": [_network_version(request.base_url)]})
        raw_path = f"{path}?{request.raw_query}" if request.raw_query else path
        problem = keystone.check(request.method, raw_path, dict(request.headers), request.body)
        if problem is not None:
            keystone.rejected.append(problem)
            return Response(401, {"error": {"code": "APIGW.0301", "message": problem}})
        if not self._same_project(request):
            keystone.rejected.append("wrong project")
            return Response(403, {"error": {"code": "Ecs.0023", "message": "project mismatch"}})
        if path.startswith("/compute/"):
            return self._pass(request, path.removeprefix("/compute"))
        if NETWORK_PATH.match(path) is not None:
            return self._pass(request, path, {"x-project-id": keystone.project_id})
        if any(p.match(path) for p in (ECS_V1_PATH, AS_PATH, EIP_PATH, EVENTS_PATH)):
            return self._pass(request, path)
        return NOT_FOUND

    def _same_project(self, request: Request) -> bool:
        path, headers = request.path, request.headers
        target = (
            COMPUTE_PROJECT.match(path.removeprefix("/compute"))
            or EVENTS_PATH.match(path)
            or AS_PATH.match(path)
        )
        project = target.group(1) if target else None
        eip = EIP_PATH.match(path)
        if eip is not None:
            project = eip.group(2)
        elif NETWORK_PATH.match(path) is not None:  # the project is the credential's
            project = headers.get("x-project-id", self.keystone.project_id)
        claimed = headers.get("x-project-id", project)
        return project == self.keystone.project_id and claimed == project

    def _pass(self, request: Request, path: str, extra: dict[str, str] | None = None) -> Request:
        headers = {**request.headers, **(extra or {}), "x-auth-token": self._token}
        return replace(request, path=path, headers=headers, base_url=request.base_url + "/compute")


def _network_version(base_url: str) -> dict[str, object]:
    return {
        "id": "v2.0",
        "status": "CURRENT",
        "links": [{"href": f"{base_url}/v2.0/", "rel": "self"}],
    }
