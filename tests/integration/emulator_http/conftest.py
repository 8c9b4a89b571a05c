"""Fixtures of the emulator's Nova API tests: a session, the seeded cloud, a caller."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from support import PROJECT

from emulator.client import AdminClient
from emulator.server import EmulatorServer
from emulator_http.nova_http import (
    BROKEN,
    BUILDING,
    BUSY_PORT,
    FREE_PORT,
    NET,
    OTHER,
    OTHER_NET,
    SERVER,
    Api,
)


@pytest.fixture
def http(emulator: EmulatorServer) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def cloud(admin: AdminClient) -> None:
    admin.create_network("10.20.0.0/24", id=NET, name="storage")
    admin.create_network("10.30.0.0/24", id=OTHER_NET, name="backup")
    admin.create_port(NET, id=FREE_PORT)  # 10.20.0.2
    admin.create_port(NET, id=BUSY_PORT)  # 10.20.0.3; SERVER's boot NIC gets .4
    admin.create_server(
        PROJECT, id=SERVER, tags=["role=db", "env=prod"], interfaces=[{"net_id": NET}]
    )
    admin.create_server(PROJECT, id=BUILDING, build_seconds=3600)
    admin.create_server(PROJECT, id=BROKEN, status="ERROR")
    admin.create_server(PROJECT, id=OTHER, interfaces=[{"port_id": BUSY_PORT}])


@pytest.fixture
def api(http: requests.Session, emulator: EmulatorServer, emulator_token: str, cloud: None) -> Api:
    return Api(http, emulator.url, emulator_token)
