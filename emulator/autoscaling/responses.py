"""The Auto Scaling routes: parse the request, call ``FakeAutoScaling``, answer AS's JSON.

POST /autoscaling-api/v1/{p}/scaling_lifecycle_hook/{group}              create a hook
GET  /autoscaling-api/v1/{p}/scaling_lifecycle_hook/{group}/list         {"lifecycle_hooks"}
GET  /autoscaling-api/v1/{p}/scaling_instance_hook/{group}/list?instance_id=
                                                                         {"instance_hanging_info"}
PUT  /autoscaling-api/v1/{p}/scaling_instance_hook/{group}/callback      204
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from emulator.autoscaling import errors
from emulator.autoscaling.errors import AsError
from emulator.autoscaling.models import FakeAutoScaling
from emulator.core.errors import FakeApiError, ItemNotFound, MethodNotAllowed
from emulator.core.wire import Request, Response, Router
from emulator.identity.tokens import TokenStore

API_PATH = re.compile(r"^/autoscaling-api/v1/([^/]+)(/.*)$")
Handler = Callable[[Request, str, dict[str, str]], Response]
CALLBACK_FIELDS = {
    "lifecycle_action_result",
    "lifecycle_action_key",
    "instance_id",
    "lifecycle_hook_name",
}


class AutoScalingApp:
    """The AS routes under ``/autoscaling-api/v1/{project_id}``, after the token check."""

    def __init__(self, autoscaling: FakeAutoScaling, tokens: TokenStore) -> None:
        self.autoscaling = autoscaling
        self.tokens = tokens
        self.router: Router[Handler] = Router()
        self.router.add("/scaling_lifecycle_hook/{group_id}", {"POST": self.create_hook})
        self.router.add("/scaling_lifecycle_hook/{group_id}/list", {"GET": self.list_hooks})
        self.router.add("/scaling_instance_hook/{group_id}/list", {"GET": self.list_hanging})
        self.router.add("/scaling_instance_hook/{group_id}/callback", {"PUT": self.callback})

    def handle(self, request: Request, project_id: str, rest: str) -> Response:
        try:
            self.tokens.authorize(request.headers.get("x-auth-token"), project_id)
            handler, params = self.router.match(request.method, rest)
            return handler(request, project_id, params)
        except (ItemNotFound, MethodNotAllowed) as error:  # from the router
            status = 404 if isinstance(error, ItemNotFound) else 405
            return Response(status, AsError("APIGW.0101", error.message, status).body())
        except AsError as error:
            return Response(error.status, error.body())
        except FakeApiError as error:
            if error.status in (401, 403):
                raise
            return Response(500, AsError(errors.SYSTEM_ERROR, error.message, 500).body())

    def create_hook(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        hook = self.autoscaling.create_hook(project_id, params["group_id"], _object(request))
        return Response(200, hook.to_dict())

    def list_hooks(self, _: Request, project_id: str, params: dict[str, str]) -> Response:
        hooks = self.autoscaling.hooks(project_id, params["group_id"])
        return Response(200, {"lifecycle_hooks": [h.to_dict() for h in hooks]})

    def list_hanging(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        found = self.autoscaling.hanging(
            project_id, params["group_id"], request.param("instance_id")
        )
        return Response(200, {"instance_hanging_info": found})

    def callback(self, request: Request, project_id: str, params: dict[str, str]) -> Response:
        body = _object(request)
        unknown = set(body) - CALLBACK_FIELDS
        if unknown:
            raise AsError(errors.INVALID_PARAMETER, f"Unknown field(s) {sorted(unknown)}.")
        text = {name: _text(body, name) for name in CALLBACK_FIELDS}
        self.autoscaling.callback(
            project_id,
            params["group_id"],
            text["lifecycle_action_result"] or "",
            key=text["lifecycle_action_key"],
            instance_id=text["instance_id"],
            hook_name=text["lifecycle_hook_name"],
        )
        return Response(204)


def _object(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except FakeApiError as error:
        raise AsError(errors.INVALID_PARAMETER, error.message) from None
    if not isinstance(body, dict):
        raise AsError(errors.INVALID_PARAMETER, "The request body must be a JSON object.")
    return body


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise AsError(errors.INVALID_PARAMETER, f"{name} must be a string.")
    return value
