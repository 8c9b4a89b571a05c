"""The emulator's rate limit over HTTP: 429 + Retry-After past the burst, per project and API."""

from __future__ import annotations

import pytest
import requests
from support import PROJECT

from emulator.client import AdminClient, AdminError
from emulator.server import EmulatorServer

OTHER = "1f2e3d4c5b6a79881726354453627180"


def _get(emulator: EmulatorServer, path: str, token: str) -> requests.Response:
    return requests.get(f"{emulator.url}{path}", headers={"X-Auth-Token": token}, timeout=5)


def test_past_the_burst_the_compute_api_answers_429_with_retry_after(
    emulator: EmulatorServer, admin: AdminClient, emulator_token: str
) -> None:
    admin.set_rate_limit(0.2, burst=3)  # a token every 5 s: none comes back during the test
    path = f"/v2.1/{PROJECT}/servers/detail"
    assert [_get(emulator, path, emulator_token).status_code for _ in range(3)] == [200] * 3
    answer = _get(emulator, path, emulator_token)
    assert answer.status_code == 429
    assert 0 < float(answer.headers["Retry-After"]) <= 5
    assert answer.json()["overLimit"]["code"] == 429
    assert _get(emulator, f"/v2.1/{OTHER}/servers/detail", emulator_token).status_code == 200
    assert admin.set_rate_limit(0)["throttled"] == {}  # a new limit starts from full buckets
    assert _get(emulator, path, emulator_token).status_code == 200


def test_the_ecs_v1_api_has_its_own_bucket_and_api_gateway_s_answer(
    emulator: EmulatorServer, admin: AdminClient, emulator_token: str
) -> None:
    admin.set_rate_limit(0.2, burst=1)
    assert _get(emulator, f"/v2.1/{PROJECT}/servers/detail", emulator_token).status_code == 200
    path = f"/v1/{PROJECT}/cloudservers/detail"
    assert _get(emulator, path, emulator_token).status_code == 200
    answer = _get(emulator, path, emulator_token)
    assert answer.status_code == 429 and float(answer.headers["Retry-After"]) > 0
    assert answer.json()["error_code"] == "APIG.0308"
    assert admin.rate_limit() == {"rate": 0.2, "burst": 1.0, "throttled": {f"{PROJECT}/ecs": 1}}


def test_the_network_api_has_a_bucket_per_project_header(
    emulator: EmulatorServer, admin: AdminClient, emulator_token: str
) -> None:
    admin.set_rate_limit(0.2, burst=1)
    assert _get(emulator, f"/v2.1/{PROJECT}/servers/detail", emulator_token).status_code == 200

    def ports(project: str) -> requests.Response:
        headers = {"X-Auth-Token": emulator_token, "X-Project-Id": project}
        return requests.get(f"{emulator.url}/v2.0/ports", headers=headers, timeout=5)

    assert ports(PROJECT).status_code == 200  # not the compute API's bucket
    answer = ports(PROJECT)
    assert answer.status_code == 429 and float(answer.headers["Retry-After"]) > 0
    assert answer.json()["error_code"] == "APIG.0308"  # the VPC API behind API Gateway
    assert ports(OTHER).status_code != 429  # another project's bucket
    assert admin.rate_limit()["throttled"] == {f"{PROJECT}/network": 1}


@pytest.mark.parametrize(
    "body", [{"rate": -1}, {"rate": "fast"}, {"burst": 0.5, "rate": 1}, {"nonsense": 1}, [1]]
)
def test_a_bad_rate_limit_is_a_400(admin: AdminClient, body: object) -> None:
    with pytest.raises(AdminError) as raised:
        admin._call("PATCH", "/ratelimit", body)
    assert raised.value.status == 400
