"""A function that does nothing: the floor functions-framework itself sets (cold start, CPU)."""

from __future__ import annotations

import flask
import functions_framework


@functions_framework.http
def noop(request: flask.Request) -> flask.Response:
    request.stream.read()
    return flask.Response(b"{}", status=200, headers={"Content-Type": "application/json"})
