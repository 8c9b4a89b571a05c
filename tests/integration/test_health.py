"""``GET /`` is a health check: 200 with what is running, no secret; other methods 405."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app

from emulator.client import AdminClient

ROOT = Path(__file__).resolve().parents[2]
CANARIES = {
    "NICATTACH_TOKEN": "canary-token-7f3a9c",
    "HUAWEICLOUD_SDK_AK": "CANARYAKSK0000000001",
    "HUAWEICLOUD_SDK_SK": "canary-secret-key-5e2b",
    "HUAWEICLOUD_SDK_SECURITY_TOKEN": "canary-security-token-91d0",
}


def app_client() -> FlaskClient:
    return create_app("handle_event", str(ROOT / "function" / "main.py")).test_client()


@pytest.fixture
def client(function_env: None) -> FlaskClient:
    return app_client()


def test_get_is_a_health_check(client: FlaskClient, admin: AdminClient) -> None:
    admin.clear_requests()
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.get_json()
    assert body == {
        "name": "nic-autoattach",
        "version": importlib.metadata.version("nic-autoattach"),
        "backend": "nova",
        "policy_rules": 2,  # examples/policy.yaml
    }
    assert admin.requests_log() == [], "a health check calls no API"


def test_health_shows_no_secret(function_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    response = app_client().get("/")
    assert response.status_code == 200
    text = response.get_data(as_text=True) + json.dumps(dict(response.headers))
    for name, secret in CANARIES.items():
        assert secret not in text, name


def test_head_answers_like_get_without_a_body(client: FlaskClient) -> None:
    response = client.head("/")
    assert response.status_code == 200
    assert response.get_data() == b""


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(client: FlaskClient, method: str) -> None:
    response = client.open("/", method=method, data=b"{}")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}
    if method != "HEAD":
        assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_post_still_handles_events(client: FlaskClient) -> None:
    body = (ROOT / "events" / "server-created.json").read_bytes()
    response = client.post("/", data=body, headers={"Content-Type": "application/cloudevents+json"})
    assert response.status_code == 200
    assert response.headers["ce-type"] == "nicattach.attachment.completed"


def test_version_falls_back_when_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from function.app import replies as service  # where the version is read

    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(service.importlib.metadata, "version", missing)
    assert service.package_version() == "unknown"
