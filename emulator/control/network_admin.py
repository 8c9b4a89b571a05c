"""The control API's routes for ports and server deletion (beside ``admin.py``).

``GET /_admin/ports?…`` lists every project's ports in Neutron's shape (the
network API's filters apply; ``project_id=`` picks one project), so tests see
ports no token of theirs could list; ``DELETE /_admin/servers/{id}`` deletes a
server of any project the way Nova and ECS do: ports that are
``delete_on_termination`` go with it, the others are unbound and kept.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.compute.models import FakeBackend
from emulator.core.wire import Request, Response
from emulator.network_api.filters import check_filters
from emulator.network_api.models import FakeNetworkApi
from emulator.network_api.responses import PORT_FIELDS

AdminHandler = Callable[[Request, dict[str, str]], Response]


def list_ports(network: FakeNetworkApi) -> AdminHandler:
    """``GET /_admin/ports``: every project's ports that match the filters."""

    def handler(request: Request, _: dict[str, str]) -> Response:
        filters = check_filters(request.query, PORT_FIELDS)
        return Response(200, {"ports": network.ports(None, filters)})

    return handler


def delete_server(backend: FakeBackend) -> AdminHandler:
    """``DELETE /_admin/servers/{server_id}``: 204."""

    def handler(_: Request, params: dict[str, str]) -> Response:
        backend.delete_server(None, params["server_id"])
        return Response(204)

    return handler
