"""The admin API's bodies, read field by field with clear 400s, and what they create.

The seed document (``--seed FILE``, ``POST /_admin/seed``) holds lists of the same
bodies the create routes take; ``apply_seed`` creates them in order (networks, ports,
servers, tokens).
"""

from __future__ import annotations

from typing import Any

from emulator.autoscaling.errors import AsError
from emulator.autoscaling.models import FakeAutoScaling
from emulator.compute.models import FakeBackend
from emulator.compute.records import AttachRequest
from emulator.core.errors import BadRequest
from emulator.core.timeline import iso_time
from emulator.ecs_v1.models import FakeEcsV1
from emulator.identity.tokens import TokenStore

OPTIONS = {
    "nova_errors": bool,
    "build_seconds": float,
    "port_down_seconds": float,
    "detach_delay_seconds": float,
    "max_limit": int,
}


class Doc:
    """A JSON object from an admin body, read field by field with clear 400s."""

    def __init__(self, doc: object, what: str, allowed: set[str]) -> None:
        if not isinstance(doc, dict):
            raise BadRequest(f"{what} must be a JSON object, not {type(doc).__name__}.")
        unknown = sorted(set(doc) - allowed)
        if unknown:
            raise BadRequest(f"{what}: unknown field(s) {unknown}; allowed: {sorted(allowed)}.")
        self.doc: dict[str, Any] = doc
        self.what = what

    def get(self, key: str, kind: type | tuple[type, ...], required: bool) -> Any:
        value = self.doc.get(key)
        if value is None:
            if required:
                raise BadRequest(f"{self.what}: {key} is required.")
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise BadRequest(f"{self.what}: {key} has the wrong type ({value!r}).")
        return value

    def text(self, key: str, *, required: bool = False) -> str | None:
        value: str | None = self.get(key, str, required)
        return value

    def number(self, key: str) -> float | None:
        value: float | None = self.get(key, (int, float), False)
        return value

    def items(self, key: str) -> list[Any]:
        value: list[Any] | None = self.get(key, list, False)
        return value or []

    def texts(self, key: str) -> list[str]:
        values = self.items(key)
        if not all(isinstance(value, str) for value in values):
            raise BadRequest(f"{self.what}: {key} must be a list of strings.")
        return values


def create_network(backend: FakeBackend, body: object) -> dict[str, Any]:
    fields = {"id", "name", "cidr", "subnet_id", "project_id", "shared", "ipv6_cidr", "external"}
    doc = Doc(body, "network", fields)
    network = backend.create_network(
        doc.text("cidr", required=True) or "",
        id=doc.text("id"),
        name=doc.text("name"),
        subnet_id=doc.text("subnet_id"),
        project_id=doc.text("project_id"),
        shared=bool(doc.get("shared", bool, False)),
        ipv6_cidr=doc.text("ipv6_cidr"),
        external=bool(doc.get("external", bool, False)),
    )
    return network.to_dict()


def create_port(backend: FakeBackend, body: object) -> dict[str, Any]:
    doc = Doc(body, "port", {"id", "net_id", "fixed_ip", "project_id", "name"})
    net_id = doc.text("net_id", required=True) or ""
    port = backend.create_port(
        net_id,
        id=doc.text("id"),
        fixed_ip=doc.text("fixed_ip"),
        project_id=doc.text("project_id"),
        name=doc.text("name") or "",
    )
    return port.to_dict()


def _interface(body: object) -> AttachRequest:
    doc = Doc(body, "interface", {"net_id", "port_id", "fixed_ip", "tag"})
    return AttachRequest(
        doc.text("net_id"), doc.text("port_id"), doc.text("fixed_ip"), doc.text("tag")
    )


def create_server(backend: FakeBackend, body: object) -> dict[str, Any]:
    allowed = {"id", "project_id", "name", "tags", "status", "build_seconds", "interfaces"}
    doc = Doc(body, "server", allowed)
    server = backend.create_server(
        doc.text("project_id", required=True) or "",
        id=doc.text("id"),
        name=doc.text("name"),
        tags=doc.texts("tags"),
        status=doc.text("status") or "ACTIVE",
        build_seconds=doc.number("build_seconds"),
        interfaces=[_interface(item) for item in doc.items("interfaces")],
    )
    return server.to_dict()


def add_token(tokens: TokenStore, body: object) -> None:
    """A token: a string (any project), or ``{"token": ..., "projects": [...]}``."""
    if isinstance(body, str):
        tokens.add(body)
        return
    doc = Doc(body, "token", {"token", "projects"})
    projects = doc.texts("projects") if "projects" in doc.doc else None
    tokens.add(doc.text("token", required=True) or "", projects)


def apply_seed(backend: FakeBackend, tokens: TokenStore, body: object) -> dict[str, Any]:
    """Create what a seed document lists: networks, then ports, servers and tokens."""
    doc = Doc(body, "seed", {"networks", "servers", "ports", "tokens"})
    created = {
        "networks": [create_network(backend, item) for item in doc.items("networks")],
        "ports": [create_port(backend, item) for item in doc.items("ports")],
        "servers": [create_server(backend, item) for item in doc.items("servers")],
    }
    for token in doc.items("tokens"):
        add_token(tokens, token)
    return created


def set_ecs_options(ecs: FakeEcsV1, body: object) -> dict[str, Any]:
    """Check every field, then apply them all."""
    doc = Doc(body, "ECS v1 options", set(ecs.options()))
    changes: dict[str, Any] = {}
    for name in ("job_seconds", "job_init_seconds", "job_ttl_seconds", "max_nics"):
        value = doc.number(name)
        if value is not None and (value < 0 or (name == "max_nics" and value != int(value))):
            raise BadRequest(f"ECS v1 options: {name} out of range ({value!r}).")
        if value is not None:
            changes[name] = int(value) if name == "max_nics" else float(value)
    limits = doc.get("server_max_nics", dict, False) or {}
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in limits.values()):
        raise BadRequest("ECS v1 options: server_max_nics maps server ids to NIC counts.")
    for name, value in changes.items():
        setattr(ecs, name, value)
    ecs.server_max_nics.update(limits)
    return ecs.options()


def set_options(backend: FakeBackend, body: object) -> dict[str, Any]:
    doc = Doc(body, "options", set(OPTIONS))
    for name, kind in OPTIONS.items():
        value = doc.get(name, kind if kind is bool else (int, float), False)
        if name == "max_limit" and value is not None and (int(value) != value or value < 1):
            raise BadRequest("options: max_limit must be a whole number of at least 1.")
        if value is not None:
            setattr(backend, name, int(value) if name == "max_limit" else value)
    return backend.options()


def clock_view(wall_time: float) -> dict[str, Any]:
    return {"now": iso_time(wall_time), "epoch_s": round(wall_time, 3)}


def create_scaling_group(autoscaling: FakeAutoScaling, body: object) -> dict[str, Any]:
    """A scaling group and its hooks (each a create-hook body of the AS API)."""
    doc = Doc(body, "scaling group", {"id", "project_id", "name", "hooks"})
    project = doc.text("project_id", required=True) or ""
    hooks = doc.items("hooks")
    if not all(isinstance(hook, dict) for hook in hooks):
        raise BadRequest("scaling group: hooks must be a list of objects.")
    group = autoscaling.create_group(project, id=doc.text("id"), name=doc.text("name"))
    try:
        created = [autoscaling.create_hook(project, group.id, hook).to_dict() for hook in hooks]
    except AsError as error:
        raise BadRequest(f"scaling group: hook: {error.code}: {error.message}") from None
    return {"id": group.id, "project_id": project, "name": group.name, "hooks": created}


def hang_instance(autoscaling: FakeAutoScaling, body: object) -> dict[str, Any]:
    allowed = {"scaling_group_id", "instance_id", "lifecycle_hook_name", "lifecycle_action_key"}
    doc = Doc(body, "hanging instance", allowed)
    try:
        record = autoscaling.hang(
            doc.text("scaling_group_id", required=True) or "",
            doc.text("instance_id", required=True) or "",
            hook_name=doc.text("lifecycle_hook_name"),
            action_key=doc.text("lifecycle_action_key"),
        )
    except AsError as error:
        raise BadRequest(f"hanging instance: {error.message}") from None
    return record.to_dict(autoscaling.backend.clock())


def set_autoscaling_options(autoscaling: FakeAutoScaling, body: object) -> dict[str, Any]:
    doc = Doc(body, "autoscaling options", {"keep_released_seconds"})
    keep = doc.number("keep_released_seconds")
    if keep is not None and keep < 0:
        raise BadRequest(f"autoscaling options: keep_released_seconds out of range ({keep!r}).")
    if keep is not None:
        autoscaling.keep_released_seconds = float(keep)
    return autoscaling.state()
