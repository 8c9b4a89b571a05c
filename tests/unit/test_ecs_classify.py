"""ecs.classify: every API answer gets a stable error code (no network needed)."""

from __future__ import annotations

import pytest

from function.compute.parsing import classify


@pytest.mark.parametrize(
    ("status", "message", "code"),
    [
        (409, "Fixed IP 10.20.0.77 is already in use.", "fixed_ip_in_use"),
        (409, "Port abc is still in use.", "port_in_use"),
        (
            409,
            "Cannot 'attach_interface' instance x while it is in vm_state building",
            "server_busy",
        ),
        (409, "something else", "conflict"),
        (404, "Network 3cb9 could not be found.", "network_not_found"),
        (404, "Port id x could not be found.", "port_not_found"),
        (404, "Instance x could not be found.", "not_found"),
        (500, "Unexpected API Error. <class 'NetworkNotFoundClient'>", "network_not_found"),
        (500, "Unexpected API Error.", "server_error"),
        (503, "", "server_error"),
        (403, "Maximum number of ports exceeded", "nic_quota_exceeded"),
        (403, "Policy doesn't allow", "forbidden"),
        (400, "Must not input both network_id and port_id", "bad_request"),
        (401, "", "unauthorized"),
        (429, "", "throttled"),
        (418, "", "http_418"),
    ],
)
def test_classify(status: int, message: str, code: str) -> None:
    assert classify(status, message) == code
