"""A small client for the emulator's ``/_admin`` API, for tests, the demo and benchmarks.

Each call opens and closes its own connection, so nothing is left to close.
Any answer other than 2xx raises ``AdminError`` with the status and body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import requests


class AdminError(RuntimeError):
    """The admin API refused a call."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} answered {status}: {body[:500]}")
        self.status = status
        self.body = body


class AdminClient:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        #: Scaling groups, lifecycle hooks and hanging instances (``AutoScalingAdmin``).
        self.autoscaling = AutoScalingAdmin(self)

    def _call(self, method: str, path: str, body: object = None) -> Any:
        response = requests.request(
            method, f"{self.url}/_admin{path}", json=body, timeout=self.timeout
        )
        if not 200 <= response.status_code < 300:
            raise AdminError(method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def create_network(
        self,
        cidr: str,
        id: str | None = None,
        name: str | None = None,
        subnet_id: str | None = None,
        *,
        project_id: str | None = None,
        shared: bool | None = None,
        ipv6_cidr: str | None = None,
        external: bool | None = None,
    ) -> dict[str, Any]:
        """A network with one subnet: ``project_id``'s own (``shared`` with the others when
        asked), or, without a project, every project's as if each owned it; with
        ``ipv6_cidr``, an IPv6 (DHCPv6-stateful) subnet as well."""
        body = {
            "cidr": cidr,
            "id": id,
            "name": name,
            "subnet_id": subnet_id,
            "project_id": project_id,
            "shared": shared,
            "ipv6_cidr": ipv6_cidr,
            "external": external,
        }
        body = _without_none(body)
        network: dict[str, Any] = self._call("POST", "/networks", body)["network"]
        return network

    def create_server(
        self,
        project_id: str,
        tags: Iterable[str] = (),
        id: str | None = None,
        status: str = "ACTIVE",
        build_seconds: float | None = None,
        interfaces: Iterable[Mapping[str, Any]] = (),
        name: str | None = None,
    ) -> dict[str, Any]:
        """``build_seconds`` None means the emulator's default (``--build-seconds``)."""
        body = _without_none(
            {
                "project_id": project_id,
                "tags": list(tags),
                "id": id,
                "status": status,
                "build_seconds": build_seconds,
                "interfaces": [dict(i) for i in interfaces],
                "name": name,
            }
        )
        server: dict[str, Any] = self._call("POST", "/servers", body)["server"]
        return server

    def create_port(
        self,
        net_id: str,
        id: str | None = None,
        fixed_ip: str | None = None,
        *,
        project_id: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """A free port (``project_id``'s only, when given: another project cannot attach it)."""
        body = {
            "net_id": net_id,
            "id": id,
            "fixed_ip": fixed_ip,
            "project_id": project_id,
            "name": name,
        }
        port: dict[str, Any] = self._call("POST", "/ports", _without_none(body))["port"]
        return port

    def ports(self, **filters: str) -> list[dict[str, Any]]:
        """Every project's ports in Neutron's shape, filtered like ``GET /v2.0/ports``."""
        ports: list[dict[str, Any]] = self._call("GET", f"/ports?{urlencode(filters)}")["ports"]
        return ports

    def delete_server(self, id: str) -> None:
        """Delete a server of any project (its ``delete_on_termination`` ports with it)."""
        self._call("DELETE", f"/servers/{id}")

    def server(self, id: str) -> dict[str, Any]:
        """The server with every attached interface (also while it builds)."""
        server: dict[str, Any] = self._call("GET", f"/servers/{id}")["server"]
        return server

    def interfaces(self, id: str) -> list[dict[str, Any]]:
        interfaces: list[dict[str, Any]] = self.server(id)["interfaces"]
        return interfaces

    def update_server(
        self, id: str, status: str | None = None, tags: Iterable[str] | None = None
    ) -> dict[str, Any]:
        body = _without_none({"status": status, "tags": None if tags is None else list(tags)})
        server: dict[str, Any] = self._call("PATCH", f"/servers/{id}", body)["server"]
        return server

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self._call("GET", "/state")
        return state

    def requests_log(self) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = self._call("GET", "/requests")["requests"]
        return log

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def seed(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self._call("POST", "/seed", dict(doc))
        return created

    def add_token(self, token: str, projects: Iterable[str] | None = None) -> None:
        body = {"token": token, **({} if projects is None else {"projects": list(projects)})}
        self._call("POST", "/tokens", body)

    def set_options(self, **options: float | bool) -> dict[str, Any]:
        """Change backend options: nova_errors, build_seconds, port_down_seconds, ..."""
        current: dict[str, Any] = self._call("PATCH", "/options", options)
        return current

    def set_faults(self, **plan: Any) -> dict[str, Any]:
        """Change fault injection (emulator/README.md, "Fault injection"): error_rate, ...;
        with no fields, read the plan and its counts."""
        current: dict[str, Any] = self._call("PATCH", "/faults", plan)
        return current

    def set_rate_limit(self, rate: float, burst: float | None = None) -> dict[str, Any]:
        """A token bucket per project and API: ``rate`` requests/s (0 = none), ``burst``
        tokens (default: one second's worth); returns it with the 429s so far."""
        current: dict[str, Any] = self._call("PATCH", "/ratelimit", {"rate": rate, "burst": burst})
        return current

    def rate_limit(self) -> dict[str, Any]:
        """The rate limit and the 429s it answered, per project and API."""
        current: dict[str, Any] = self._call("GET", "/ratelimit")
        return current

    def set_ecs_options(self, **options: Any) -> dict[str, Any]:
        """Change the ECS v1 API's options: job_seconds, job_init_seconds, job_ttl_seconds,
        max_nics, server_max_nics ({server_id: n}); with none, read them."""
        current: dict[str, Any] = self._call("PATCH", "/ecs", options)
        return current

    def set_latency(self, profile: str | None = None, **fields: Any) -> dict[str, Any]:
        """Replace the latency profile: a named one (``none``, ``flat100``, ``cloud``) and/or
        fields (``read_ms``, ``attach_ms`` as ms or ``[low, high]``, ``detach_ms``,
        ``jitter``, ``seed``); fields not given come from the named profile, else 0."""
        body = {**({} if profile is None else {"profile": profile}), **fields}
        current: dict[str, Any] = self._call("PUT", "/latency", body)
        return current

    def update_latency(self, **fields: Any) -> dict[str, Any]:
        """Change some fields of the latency profile in force."""
        current: dict[str, Any] = self._call("PATCH", "/latency", fields)
        return current

    def clock(self) -> dict[str, Any]:
        """The emulator's wall time: ``{"now": ISO 8601, "epoch_s": seconds}``."""
        current: dict[str, Any] = self._call("GET", "/clock")
        return current

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the emulator's clock forward (BUILDs end, ``updated`` times age)."""
        current: dict[str, Any] = self._call("PATCH", "/clock", {"advance_s": seconds})
        return current

    def latency(self) -> dict[str, Any]:
        """The latency profile in force."""
        current: dict[str, Any] = self._call("GET", "/latency")
        return current


class AutoScalingAdmin:
    """The Auto Scaling part of the admin API (``AdminClient.autoscaling``)."""

    def __init__(self, admin: AdminClient) -> None:
        self._admin = admin

    def create_group(
        self,
        project_id: str,
        hooks: Iterable[Mapping[str, Any]] = (),
        id: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """A scaling group with hooks (create-hook bodies: ``lifecycle_hook_name``,
        ``lifecycle_hook_type``, ``default_result``, ``default_timeout``,
        ``notification_topic_urn``, ``notification_metadata``)."""
        body = _without_none(
            {"project_id": project_id, "hooks": [dict(h) for h in hooks], "id": id, "name": name}
        )
        group: dict[str, Any] = self._admin._call("POST", "/autoscaling/groups", body)
        return dict(group["scaling_group"])

    def hang(
        self,
        scaling_group_id: str,
        instance_id: str,
        hook_name: str | None = None,
        action_key: str | None = None,
    ) -> dict[str, Any]:
        """Hold the instance on a hook of the group (its only hook when no name is given);
        the ``instance_hanging_info`` record, with its ``lifecycle_action_key``."""
        body = _without_none(
            {
                "scaling_group_id": scaling_group_id,
                "instance_id": instance_id,
                "lifecycle_hook_name": hook_name,
                "lifecycle_action_key": action_key,
            }
        )
        record: dict[str, Any] = self._admin._call("POST", "/autoscaling/hang", body)
        return dict(record["instance_hanging_info"])

    def state(self) -> dict[str, Any]:
        """``groups`` (with hooks), ``hanging`` (every record, with its status) and
        ``answers`` (every callback AS accepted)."""
        state: dict[str, Any] = self._admin._call("GET", "/autoscaling")
        return state

    def set_options(self, **options: Any) -> dict[str, Any]:
        """``keep_released_seconds``: how long an answered or timed-out record stays listed."""
        state: dict[str, Any] = self._admin._call("PATCH", "/autoscaling", options)
        return state


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}
