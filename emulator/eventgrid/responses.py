"""``POST /v1/{project_id}/channels/{channel_id}/events``: EventGrid's publish call.

The body is ``{"events": [CloudEvent, ...]}`` (structured, JSON); the answer is
``{"failed_count": 0, "events": []}``, as EventGrid answers a batch it took whole.
"""

from __future__ import annotations

import re

from emulator.core.errors import BadRequest, MethodNotAllowed
from emulator.core.wire import Request, Response
from emulator.eventgrid.models import FakeEventGrid
from emulator.identity.tokens import TokenStore

API_PATH = re.compile(r"^/v1/([^/]+)/channels/([^/]+)/events$")


class EventGridApp:
    """Parse → ``FakeEventGrid.publish`` → EventGrid's answer."""

    def __init__(self, grid: FakeEventGrid, tokens: TokenStore) -> None:
        self.grid = grid
        self.tokens = tokens

    def handle(self, request: Request, project_id: str, channel_id: str) -> Response:
        self.tokens.authorize(request.headers.get("x-auth-token"), project_id)
        if request.method != "POST":
            raise MethodNotAllowed(("POST",))
        body = request.json()
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise BadRequest('The body must be {"events": [CloudEvent, ...]}.')
        self.grid.publish(events)
        return Response(200, {"failed_count": 0, "events": []})
